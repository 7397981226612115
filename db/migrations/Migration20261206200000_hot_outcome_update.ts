import { Migration } from '@mikro-orm/migrations';

// Issue 17: the outcome's update of a send row becomes a HOT update (heap-only
// tuple: the new version goes on the same page and no index gets an entry).
// PostgreSQL makes an update HOT only when no btree index's key, INCLUDE or
// predicate column changes (since PostgreSQL 16 columns only in BRIN indexes
// do not count) and the page has room. The recording (db/outcomes.ts) changes
// result, sent_at, code, detail, message_id and the times; three indexes named
// result or sent_at, so every outcome wrote a new entry into all 9 indexes.
//
// - send_sent_at_usage_idx (usage by sent_at, db/repositories/history.ts):
//   replaced by a BRIN index on sent_at. Sends are inserted per run and
//   updated in place (HOT), so sent_at follows the physical order; the usage
//   count reads the heap ranges of the period instead of an index-only scan.
// - send_sms_awaiting_receipt_idx (the SMS receipt timeout sweep,
//   db/sms-queries.ts expireSmsReceipts): replaced by a side table of the SMS
//   sends awaiting their receipt, written when an SMS is recorded as sent and
//   emptied when it settles (only SMS pay for it).
// - send_run_unfinished_idx (a run's retry claims, nextRetryDue): a run's due
//   retries are found by send_next_attempt_idx (run_id, next_attempt_at). The
//   interrupted retry claims a retried wave batch also takes (wave > 1, no due
//   time) are found among the run's sends (send_run_id_idx): only a wave batch
//   retried after a fault reads them, about 134 ms at 100,000 sends. No index
//   may name attempts or resends either: a send is created at preparation with
//   none and its first outcome sets them.
// - fillfactor 40: room on each page for the new versions of its rows. An
//   outcome makes the row about half as long again (code, detail, message id,
//   times). Measured (bench/record-groups.ts, 4 writers, groups of 5 to 80):
//   fillfactor 100 0 % HOT (the indexes), 50 86-100 %, 40 99-100 %, 30 no
//   better than 40 at a larger heap; a 20,000-lead bench run 94.5 % at 50 and
//   99.8 % at 40 (bench/RESULTS.md).
//
// And the send token: derived from the send's id (db/send-token.ts) instead of
// a random one stored per send. New sends store NULL and the unique index only
// holds the tokens stored before, which still resolve.
export class Migration20261206200000_hot_outcome_update extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index if not exists "send_sent_at_brin" on "send" using brin ("sent_at") with (pages_per_range = 16, autosummarize = on);`,
    );
    this.addSql(`drop index if exists "send_sent_at_usage_idx";`);

    this.addSql(
      `create table if not exists "sms_receipt_wait" ("send_id" bigint primary key references "send" ("id") on delete cascade, "sent_at" timestamptz not null);`,
    );
    this.addSql(
      `create index if not exists "sms_receipt_wait_sent_at_idx" on "sms_receipt_wait" ("sent_at");`,
    );
    this.addSql(
      `insert into "sms_receipt_wait" ("send_id", "sent_at")
         select "id", coalesce("sent_at", "updated_at") from "send" where "channel" = 'sms' and "result" = 'sent'
       on conflict do nothing;`,
    );
    this.addSql(`drop index if exists "send_sms_awaiting_receipt_idx";`);

    this.addSql(`drop index if exists "send_run_unfinished_idx";`);

    this.addSql(`alter table "send" set (fillfactor = 40);`);

    this.addSql(`alter table "send" alter column "token" drop not null;`);
    this.addSql(
      `create unique index if not exists "send_stored_token_unique" on "send" ("token") where "token" is not null;`,
    );
    this.addSql(`alter table "send" drop constraint if exists "send_token_unique";`);
  }

  override async down(): Promise<void> {
    // Sends made since store no token: they get a random one, and the derived tokens already in
    // their mails' return paths stop resolving (bounces then fall back to the recipient address).
    this.addSql(
      `update "send" set "token" = replace(gen_random_uuid()::text, '-', '') where "token" is null;`,
    );
    this.addSql(`alter table "send" add constraint "send_token_unique" unique ("token");`);
    this.addSql(`drop index if exists "send_stored_token_unique";`);
    this.addSql(`alter table "send" alter column "token" set not null;`);
    this.addSql(`alter table "send" reset (fillfactor);`);
    this.addSql(
      `create index if not exists "send_run_unfinished_idx" on "send" ("run_id") where "result" in ('pending', 'error');`,
    );
    this.addSql(`drop index if exists "send_run_later_wave_idx";`);
    this.addSql(
      `create index if not exists "send_sms_awaiting_receipt_idx" on "send" ("sent_at") where "channel" = 'sms' and "result" = 'sent';`,
    );
    this.addSql(`drop table if exists "sms_receipt_wait";`);
    this.addSql(
      `create index if not exists "send_sent_at_usage_idx" on "send" ("sent_at") include ("channel", "sms_segments", "result") where "sent_at" is not null;`,
    );
    this.addSql(`drop index if exists "send_sent_at_brin";`);
  }
}
