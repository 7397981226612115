import { Migration } from '@mikro-orm/migrations';

// Issue 17: the send table's (run_id, result) index took an entry at the claim
// and another at the recording update (result changes, so never HOT) for every
// message, yet its queries only look for a run's unfinished sends: the retry
// claims (result in error or pending, db/run-queries.ts claimRetryBatch, also
// when reclaiming interrupted claims) and nextRetryDue. A partial index on the
// run of those sends serves them (EXPLAIN on a 300,000-send table: an index
// scan on it for all three, cost 151 against 3,340 for the reclaiming claim),
// and a send recorded as delivered or sent leaves no entry in it. The queries
// reading a run's delivered sends scan the table either way.
export class Migration20261205110000_send_run_unfinished_index extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index if not exists "send_run_unfinished_idx" on "send" ("run_id") where "result" in ('pending', 'error');`,
    );
    this.addSql(`drop index if exists "send_run_result_idx";`);
  }

  override async down(): Promise<void> {
    this.addSql(`create index if not exists "send_run_result_idx" on "send" ("run_id", "result");`);
    this.addSql(`drop index if exists "send_run_unfinished_idx";`);
  }
}
