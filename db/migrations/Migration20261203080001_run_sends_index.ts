import { Migration } from '@mikro-orm/migrations';

// A run's sent list (GET /v1/wizard-runs/{id}/sends) pages by send id within
// the run. With only (run_id, result) and (run_id, lead_id) to go by, every
// page read all of the run's sends and sorted them: 327 ms a page for a run of
// 100,000 sends, growing with the run (EXPLAIN ANALYZE, 300,000 sends in
// all). With (run_id, id) a page reads its rows only.
export class Migration20261203080001_run_sends_index extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index if not exists "send_run_id_idx" on "send" ("run_id", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "send_run_id_idx";`);
  }
}
