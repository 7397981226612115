import { Migration } from '@mikro-orm/migrations';

// People, not keys (issue 20): console users with a role, their sessions and
// the failed logins that throttle guessing. A user's name is unique whatever
// its case (login matches it case-insensitively); the password is an argon2id
// PHC string. A session's token is stored only as its SHA-256 (a database
// read does not hand out sessions); its CSRF token is not a credential on its
// own and is kept as is, to be returned by GET /v1/console/session. Failed
// logins are rows (kept for the throttling window), so every API process
// counts the same ones.
export class Migration20261204500000_console_users extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "console_user" ("id" serial primary key, "name" text not null, "role" text not null, "password_hash" text not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "password_changed_at" timestamptz not null default now(), constraint "console_user_role_check" check ("role" in ('viewer', 'operator', 'admin')));`,
    );
    this.addSql(`create unique index "console_user_name_unique" on "console_user" (lower("name"));`);
    this.addSql(
      `create table "console_session" ("id" bigserial primary key, "token_hash" text not null, "user_id" int not null references "console_user" ("id") on delete cascade, "csrf_token" text not null, "created_at" timestamptz not null default now(), "last_seen_at" timestamptz not null default now(), "expires_at" timestamptz not null, constraint "console_session_token_hash_unique" unique ("token_hash"));`,
    );
    this.addSql(`create index "console_session_user_idx" on "console_session" ("user_id");`);
    this.addSql(`create index "console_session_expires_idx" on "console_session" ("expires_at");`);
    this.addSql(
      `create table "console_login_failure" ("id" bigserial primary key, "username" text not null, "ip" text not null, "at" timestamptz not null default now());`,
    );
    this.addSql(
      `create index "console_login_failure_username_idx" on "console_login_failure" ("username", "at");`,
    );
    this.addSql(`create index "console_login_failure_ip_idx" on "console_login_failure" ("ip", "at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "console_login_failure";`);
    this.addSql(`drop table if exists "console_session";`);
    this.addSql(`drop table if exists "console_user";`);
  }
}
