import { Migration } from '@mikro-orm/migrations';

// Replies to our SMS (issue 21 §7): every mobile-originated message is kept with its time;
// an opt-out keyword (domain/sms-replies.ts) also sets lead.unsubscribed_sms_at of the
// leads with that number, whose ids are kept here, so the lead's opt-out has its message.
export class Migration20261202220000_sms_replies extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "sms_reply" ("id" bigserial primary key, "handset" text not null, "recipient" text not null, "text" text not null, "data_coding" int not null, "kind" text not null, "keyword" text not null default '', "lead_ids" int[] not null default '{}', "received_at" timestamptz not null, "recorded_at" timestamptz not null default now(), constraint "sms_reply_kind_check" check ("kind" in ('opt_out', 'reply')));`,
    );
    this.addSql(`create index "sms_reply_received_idx" on "sms_reply" ("received_at" desc, "id" desc);`);
    this.addSql(`create index "sms_reply_handset_idx" on "sms_reply" ("handset", "received_at" desc);`);
    this.addSql(`create index "sms_reply_lead_ids_idx" on "sms_reply" using gin ("lead_ids");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "sms_reply";`);
  }
}
