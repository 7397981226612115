import { Migration } from '@mikro-orm/migrations';

// LINE (SPEC §7). When a push of a run meets the plan's exhausted monthly limit, every later send of that run is a
// pre-error without a push: the flag lets batches that start later know without asking LINE again.
export class Migration20261123150000_line extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "wizard_run" add column "line_quota_exhausted_at" timestamptz null;`);
  }
}
