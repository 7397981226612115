import { Migration } from '@mikro-orm/migrations';

// Issue 17: a send's first transmission is recorded on its send row only. The
// common case of a bulk email batch (wave 1, first transmission, accepted) used
// to write an attempt row besides the send row it updates anyway: a third row
// write and two more index entries per message. Now `first_attempt_at` says the
// row itself is that attempt's record (its result, code, detail, error type and
// reason and message id), at that time; attempt rows are written for every
// other attempt (errors, resends, later waves). Whatever changes a recorded
// send row later (a later wave's outcome, a bounce after acceptance) first
// copies the attempt it carries into send_attempt and clears the column.
// send_attempt_history is every attempt as before: the attempt rows, and the
// attempt on the send row where no attempt row 1 exists.
export class Migration20261205100000_first_attempt_on_send extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "send" add column if not exists "first_attempt_at" timestamptz null;`);
    this.addSql(
      `create or replace view "send_attempt_history" as
         select a.send_id, a.attempt, a.at, a.result, a.code, a.detail, a.error_type, a.error_reason, a.message_id,
                a.resend_reason, a.original_message_id
           from "send_attempt" a
         union all
         select s.id, 1, s.first_attempt_at, s.result, s.code, s.detail, s.error_type, s.error_reason, s.message_id,
                null::text, null::text
           from "send" s
          where s.first_attempt_at is not null
            and not exists (select 1 from "send_attempt" a where a.send_id = s.id and a.attempt = 1);`,
    );
  }

  override async down(): Promise<void> {
    // Attempts kept on send rows become attempt rows again before the column goes.
    this.addSql(
      `insert into "send_attempt" (send_id, attempt, at, result, code, detail, error_type, error_reason, message_id)
       select id, 1, first_attempt_at, result, code, detail, error_type, error_reason, message_id
         from "send" where first_attempt_at is not null
       on conflict (send_id, attempt) do nothing;`,
    );
    this.addSql(`drop view if exists "send_attempt_history";`);
    this.addSql(`alter table "send" drop column if exists "first_attempt_at";`);
  }
}
