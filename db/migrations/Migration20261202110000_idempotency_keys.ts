import { Migration } from '@mikro-orm/migrations';

// Idempotency-Key of POST /v1/messages and POST /v1/wizard-runs (api/idempotency.ts):
// one row per (API key, client key), holding the request's fingerprint, what
// it created, and once answered the status and body (as sent) every repeat gets back.
export class Migration20261202110000_idempotency_keys extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "idempotency_key" (
         "api_key_id" int not null references "api_key" ("id") on delete cascade,
         "key" text not null,
         "route" text not null,
         "request_hash" text not null,
         "resource" text null,
         "status_code" int null,
         "response_body" text null,
         "created_at" timestamptz not null default now(),
         "completed_at" timestamptz null,
         primary key ("api_key_id", "key")
       );`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "idempotency_key";`);
  }
}
