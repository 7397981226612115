import { Migration } from '@mikro-orm/migrations';

// LINE webhook events applied so far (SPEC §7, issue 14 §7): each event is applied once, by its webhookEventId (the
// primary key), and a lead's friend status is the one of its user's latest event by LINE's timestamp, so neither a
// replayed nor a late redelivered unfollow re-blocks a user who befriended the account again.
export class Migration20261202100000_line_webhook_events extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "line_webhook_event" ("webhook_event_id" text not null, "account_id" int not null, "user_id" text not null, "type" text not null, "status" text not null, "occurred_at" timestamptz not null, "received_at" timestamptz not null default now(), constraint "line_webhook_event_pkey" primary key ("webhook_event_id"));`,
    );
    this.addSql(
      `create index "line_webhook_event_user_idx" on "line_webhook_event" ("user_id", "occurred_at" desc, "webhook_event_id" desc);`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "line_webhook_event";`);
  }
}
