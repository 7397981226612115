import { Migration } from '@mikro-orm/migrations';

// Issue 17: a run's counters without one hot row. Every group commit of every
// batch in flight used to add to the run's wizard_run row in its transaction,
// so the row's lock was held through each commit's WAL flush and the batches'
// commits ran one after another (the recording statement's mean time equalled
// the wall time over the number of commits). Now each batch adds to its own
// slot row in the same transaction (counts still commit with the records they
// count), and a batch folds the run's slots into wizard_run when it ends (as do
// completion, cancellation and failure), one short statement per batch.
//
// And the key of derived tracking tokens: the open image's and the unsubscribe
// URL's token of a send is the send's id and part encrypted under this key
// (db/tracking-queries.ts), no longer a stored tracked_link row per message.
// Tokens stored before (tracked_link) still resolve. 32 random bytes from two
// v4 UUIDs (244 random bits), made once by the database, read by the API and
// the workers.
export class Migration20261204400000_issue17_hot_path extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table if not exists "wizard_run_counter" ("run_id" int not null references "wizard_run" ("id") on delete cascade, "slot" text not null, "sent_count" int not null default 0, "delivered_count" int not null default 0, "error_count" int not null default 0, "pre_error_count" int not null default 0, "sms_parts_count" int not null default 0, primary key ("run_id", "slot"));`,
    );
    this.addSql(
      `create table if not exists "tracking_key" ("id" int primary key default 1 check ("id" = 1), "secret" bytea not null, "created_at" timestamptz not null default now());`,
    );
    this.addSql(
      `insert into "tracking_key" ("id", "secret") values (1, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex')) on conflict do nothing;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "tracking_key";`);
    this.addSql(`drop table if exists "wizard_run_counter";`);
  }
}
