import { Migration } from '@mikro-orm/migrations';

// Sending domains (issue 19): each From domain we sign for, its DKIM keys (the private key
// AES-256-GCM encrypted with DKIM_KEY_SECRET), the last verification per check, and per run the
// pre-flight check and the sender-authentication pre-error its sends were recorded with.
export class Migration20261203040000_sending_domains extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table if not exists "sending_domain" (
      "id" serial primary key,
      "domain" text not null unique,
      "status" text not null default 'pending',
      "checks" jsonb null,
      "checked_at" timestamptz null,
      "verified_at" timestamptz null,
      "created_at" timestamptz not null default now(),
      "updated_at" timestamptz not null default now());`);
    this.addSql(`create table if not exists "sending_domain_key" (
      "id" serial primary key,
      "domain_id" int not null references "sending_domain" ("id") on delete cascade,
      "selector" text not null,
      "algorithm" text not null,
      "public_key" text not null,
      "private_key_enc" text not null,
      "state" text not null,
      "created_at" timestamptz not null default now(),
      "activated_at" timestamptz null,
      "retired_at" timestamptz null,
      unique ("domain_id", "selector"));`);
    this.addSql(`alter table "wizard_run" add column if not exists "preflight" jsonb null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "sender_auth_code" int null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "sender_auth_detail" text null;`);
    // Complaint rates read complaints by time.
    this.addSql(
      `create index if not exists "inbound_report_complaint_at" on "inbound_report" ("received_at") where "action" = 'complaint';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "inbound_report_complaint_at";`);
    this.addSql(`alter table "wizard_run" drop column if exists "sender_auth_detail";`);
    this.addSql(`alter table "wizard_run" drop column if exists "sender_auth_code";`);
    this.addSql(`alter table "wizard_run" drop column if exists "preflight";`);
    this.addSql(`drop table if exists "sending_domain_key";`);
    this.addSql(`drop table if exists "sending_domain";`);
  }
}
