import { Migration } from '@mikro-orm/migrations';

// Issue 17: a run's sends are created when the run is prepared (db/run-queries.ts prepareTargets),
// pending and never attempted, in one set-based statement, instead of a run_target row there and
// the send row inserted by the batch's claim. A batch's claim is a read.
//
// - send.seq: the target's number in its run (1..targets), the ranges the workflow's batches walk.
//   Not indexed: no extra index entry per send.
// - run_send_block: per run and block of 100 seqs, the lowest and highest send id of the block. A
//   batch's range [from, to] is read through send_run_id_idx (run_id, id) between its blocks' ids
//   and filtered on seq: one row per 100 sends written at preparation.
//
// Runs prepared before (run_target rows, sends created by claims) are carried over here, so every
// reader and the claim read the send table only: each target without a send gets its pending send
// (every run, also finished ones: a cancelled run's targets it never reached are its pending sends,
// as the unsent list showed them), the existing sends of unfinished runs get their seq, and the
// blocks are written from the sends' ids, whatever their order (a block's id span is then wider,
// never wrong). run_target is kept (no longer written).
export class Migration20261206100000_sends_at_preparation extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "send" add column if not exists "seq" int null;`);
    this.addSql(
      `create table if not exists "run_send_block" ("run_id" int not null references "wizard_run" ("id") on delete cascade, "block" int not null, "first_id" bigint not null, "last_id" bigint not null, primary key ("run_id", "block"));`,
    );
    // A send a claim made and a cancel handed back (pending, never attempted) is shown among its
    // run's sends; one never reached is not (db/run-queries.ts unreachedSend: untouched since made).
    this.addSql(
      `update "send" set "updated_at" = "updated_at" + interval '1 millisecond'
        where "run_id" is not null and "result" = 'pending' and "attempts" = 0 and "next_attempt_at" is null
          and "message_id" is null and "updated_at" = "created_at"
          and exists (select 1 from "run_target" t where t."run_id" = "send"."run_id");`,
    );
    this.addSql(
      `update "send" s set "seq" = t."seq"
         from "run_target" t join "wizard_run" r on r."id" = t."run_id"
        where s."run_id" = t."run_id" and s."lead_id" = t."lead_id" and s."seq" is null
          and r."status" not in ('completed', 'cancelled', 'error');`,
    );
    this.addSql(
      `insert into "send" ("run_id", "channel", "lead_id", "address", "template_id", "template_title", "token", "result", "attempts", "ignored_error", "seq")
       select t."run_id", r."channel", t."lead_id", t."address", r."template_id", r."template_title",
              replace(gen_random_uuid()::text, '-', ''), 'pending', 0, t."ignored_error", t."seq"
         from "run_target" t join "wizard_run" r on r."id" = t."run_id"
        where not exists (select 1 from "send" s where s."run_id" = t."run_id" and s."lead_id" = t."lead_id")
        order by t."run_id", t."seq"
       on conflict ("run_id", "lead_id") do nothing;`,
    );
    this.addSql(
      `insert into "run_send_block" ("run_id", "block", "first_id", "last_id")
       select s."run_id", (s."seq" - 1) / 100, min(s."id"), max(s."id")
         from "send" s
        where s."seq" is not null and s."run_id" in (select distinct "run_id" from "run_target")
        group by 1, 2
       on conflict ("run_id", "block") do update
          set "first_id" = least("run_send_block"."first_id", excluded."first_id"),
              "last_id" = greatest("run_send_block"."last_id", excluded."last_id");`,
    );
  }

  override async down(): Promise<void> {
    // Runs prepared since get their run_target rows back from their sends' seq; sends never
    // attempted go back to being targets only.
    this.addSql(
      `insert into "run_target" ("run_id", "seq", "lead_id", "address", "ignored_error")
       select s."run_id", s."seq", s."lead_id", s."address", s."ignored_error" from "send" s
        where s."seq" is not null and not exists (select 1 from "run_target" t where t."run_id" = s."run_id")
       on conflict do nothing;`,
    );
    this.addSql(
      `delete from "send" s
        where s."result" = 'pending' and s."attempts" = 0 and s."next_attempt_at" is null and s."message_id" is null
          and exists (select 1 from "run_target" t where t."run_id" = s."run_id" and t."lead_id" = s."lead_id");`,
    );
    this.addSql(`drop table if exists "run_send_block";`);
    this.addSql(`alter table "send" drop column if exists "seq";`);
  }
}
