import { Migration } from '@mikro-orm/migrations';

// Issue 17: a run's counters without one hot row. Every group commit of every
// batch in flight used to add to the run's wizard_run row in its transaction,
// so the row's lock was held through each commit's WAL flush and the batches'
// commits ran one after another (the recording statement's mean time equalled
// the wall time over the number of commits). Now each batch adds to its own
// slot row in the same transaction (counts still commit with the records they
// count), and a batch folds the run's slots into wizard_run when it ends (as do
// completion, cancellation and failure), one short statement per batch.
export class Migration20261204400000_run_counter_slots extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table if not exists "wizard_run_counter" ("run_id" int not null references "wizard_run" ("id") on delete cascade, "slot" text not null, "sent_count" int not null default 0, "delivered_count" int not null default 0, "error_count" int not null default 0, "pre_error_count" int not null default 0, "sms_parts_count" int not null default 0, primary key ("run_id", "slot"));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "wizard_run_counter";`);
  }
}
