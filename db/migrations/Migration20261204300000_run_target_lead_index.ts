import { Migration } from '@mikro-orm/migrations';

// A run's unsent list (GET /v1/wizard-runs/{id}/unsent) pages by lead id:
// excluded leads by run_exclusion's key (run_id, lead_id), pending targets by
// this index. Without it, every page read and sorted all of the run's targets.
export class Migration20261204300000_run_target_lead_index extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index if not exists "run_target_run_lead_idx" on "run_target" ("run_id", "lead_id");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "run_target_run_lead_idx";`);
  }
}
