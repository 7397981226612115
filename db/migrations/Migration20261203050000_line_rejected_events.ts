import { Migration } from '@mikro-orm/migrations';

// LINE webhook events that could not be read (issue 21 item 6): the other events of their body are applied and the
// body answered 200, so each bad one is kept here with the reason for operators. A redelivered bad event (same
// readable webhookEventId) is kept once.
export class Migration20261203050000_line_rejected_events extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "line_webhook_rejected_event" ("id" bigserial primary key, "account_id" int not null, "webhook_event_id" text null, "event" jsonb not null, "reason" text not null, "received_at" timestamptz not null default now());`,
    );
    this.addSql(
      `create unique index "line_webhook_rejected_event_id_key" on "line_webhook_rejected_event" ("webhook_event_id") where "webhook_event_id" is not null;`,
    );
    this.addSql(
      `create index "line_webhook_rejected_event_account_idx" on "line_webhook_rejected_event" ("account_id", "received_at" desc);`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "line_webhook_rejected_event";`);
  }
}
