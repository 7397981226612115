import { Migration } from '@mikro-orm/migrations';

// SMS (SPEC §6). A split message is billed and receipted per part, so each
// part's SMSC message id and receipt live in sms_part; the send keeps the
// first part's id in message_id. The run's sent figure counts parts
// (sms_parts_count) while sent_count keeps counting messages, which the
// progress figures (done / remaining) are made of.
export class Migration20261123140000_sms extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "sms_part" ("send_id" bigint not null, "seq" int not null, "message_id" text not null, "submitted_at" timestamptz not null, "stat" text null, "err" text null, "receipt_at" timestamptz null, constraint "sms_part_pkey" primary key ("send_id", "seq"));`,
    );
    // Not unique: an SMSC may reuse ids over time (a restarted simulator does at once);
    // a receipt goes to the newest part still waiting under that id.
    this.addSql(`create index "sms_part_message_id_idx" on "sms_part" ("message_id");`);
    this.addSql(`alter table "wizard_run" add column "sms_parts_count" int not null default 0;`);
    // The receipt timeout sweep looks for SMS sends still awaiting their receipt.
    this.addSql(
      `create index "send_sms_awaiting_receipt_idx" on "send" ("sent_at") where "channel" = 'sms' and "result" = 'sent';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "send_sms_awaiting_receipt_idx";`);
    this.addSql(`alter table "wizard_run" drop column if exists "sms_parts_count";`);
    this.addSql(`drop table if exists "sms_part";`);
  }
}
