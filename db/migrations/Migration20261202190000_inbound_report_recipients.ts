import { Migration } from '@mikro-orm/migrations';

// Every recipient of a report is stored and applied (issue 16): one inbound_report row per recipient,
// `position` 0 holding the raw message and the others pointing at it (message_report_id). The
// duplicate rule stays: the same raw message (fingerprint) is stored once, so (fingerprint, position)
// is unique. Each row keeps its reading (format, Status, parsed fields) and the decision's evidence.
export class Migration20261202190000_inbound_report_recipients extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "inbound_report"
      add column if not exists "position" int not null default 0,
      add column if not exists "message_report_id" bigint null,
      add column if not exists "format" text null,
      add column if not exists "status_code" text null,
      add column if not exists "fault" text null,
      add column if not exists "evidence" jsonb null,
      add column if not exists "reading" jsonb null;`);
    this.addSql(`alter table "inbound_report" alter column "raw" drop not null;`);
    this.addSql(
      `alter table "inbound_report" drop constraint if exists "inbound_report_fingerprint_unique";`,
    );
    this.addSql(
      `alter table "inbound_report" add constraint "inbound_report_fingerprint_position_unique" unique ("fingerprint", "position");`,
    );
    this.addSql(
      `create index if not exists "inbound_report_recipient_idx" on "inbound_report" (lower("recipient"));`,
    );
    this.addSql(`create index if not exists "inbound_report_send_idx" on "inbound_report" ("send_id");`);
    this.addSql(
      `create index if not exists "inbound_report_message_idx" on "inbound_report" ("message_report_id");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "inbound_report" where "position" > 0;`);
    this.addSql(`drop index if exists "inbound_report_recipient_idx";`);
    this.addSql(`drop index if exists "inbound_report_send_idx";`);
    this.addSql(`drop index if exists "inbound_report_message_idx";`);
    this.addSql(
      `alter table "inbound_report" drop constraint if exists "inbound_report_fingerprint_position_unique";`,
    );
    this.addSql(
      `alter table "inbound_report" add constraint "inbound_report_fingerprint_unique" unique ("fingerprint");`,
    );
    this.addSql(`update "inbound_report" set "raw" = '' where "raw" is null;`);
    this.addSql(`alter table "inbound_report" alter column "raw" set not null;`);
    this.addSql(`alter table "inbound_report"
      drop column if exists "position", drop column if exists "message_report_id", drop column if exists "format",
      drop column if exists "status_code", drop column if exists "fault", drop column if exists "evidence",
      drop column if exists "reading";`);
  }
}
