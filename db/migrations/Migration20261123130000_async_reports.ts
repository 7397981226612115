import { Migration } from '@mikro-orm/migrations';

// Asynchronous reports (DSN bounces, ARF complaints) waiting to be applied to
// their run, and the flag that keeps a run to one outstanding signal.
export class Migration20261123130000_async_reports extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "inbound_report"
      add column "run_id" int null,
      add column "action" text null,
      add column "recipient" text null,
      add column "remote_text" text null,
      add column "code" int null,
      add column "error_type" text null,
      add column "error_reason" text null,
      add column "applied_at" timestamptz null;`);
    this.addSql(`create index "inbound_report_run_status_idx" on "inbound_report" ("run_id", "status");`);
    this.addSql(`alter table "wizard_run" add column "reports_signalled_at" timestamptz null;`);
  }
}
