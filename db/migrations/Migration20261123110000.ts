import { Migration } from '@mikro-orm/migrations';

// Per-run retry schedule overrides (data, validated by domain/retry-schedule),
// an index for address look-ups, and notification bookkeeping.
export class Migration20261123110000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "wizard_run" add column "retry_schedules" jsonb null;`);
    this.addSql(`create index "address_status_address_idx" on "address_status" ("address");`);
    // Status mails go out at most once per run and event, whatever activity retries do.
    this.addSql(
      `alter table "wizard_run" add column "start_notified_at" timestamptz null, add column "end_notified_at" timestamptz null;`,
    );
  }
}
