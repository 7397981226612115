import { Migration } from '@mikro-orm/migrations';

// Issue 18, run lifecycle: what a run records about itself beyond its counters.
// - template_snapshot: the template as it was at reservation (title, memo, subject, bodies), so the
//   run's detail shows what went out even after the template changed or went. Runs reserved before
//   this migration get the template as it is now (the best record there is).
// - segment_name: the segment's name as it was at reservation.
// - created_by / cancelled_by: the API key (its name) that created and cancelled the run;
//   updated_by (existing) now holds the key of the last change instead of a client's free text.
// - waves_cancelled_at / _by: a completed run's pending retry waves were cancelled, and by whom.
// - waves_notified_at: the failure notice after the last retry wave went out (one per run).
// - remind_at / reminded_at: when the reminder mail before a scheduled start is due, and when it went.
export class Migration20261203070000_run_lifecycle_records extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "wizard_run" add column if not exists "template_snapshot" jsonb null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "segment_name" text null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "created_by" text null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "cancelled_by" text null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "waves_cancelled_at" timestamptz null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "waves_cancelled_by" text null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "waves_notified_at" timestamptz null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "remind_at" timestamptz null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "reminded_at" timestamptz null;`);
    this.addSql(
      `update "wizard_run" r set "template_snapshot" = jsonb_build_object(
          'title', t.title, 'memo', t.memo, 'emailFormat', t.email_format, 'subject', t.subject,
          'from', t.from_address, 'replyTo', t.reply_to, 'bodyText', t.body_text, 'bodyHtml', t.body_html,
          'openTracking', t.open_tracking, 'clickTracking', t.click_tracking, 'smsBody', t.sms_body,
          'lineMessages', t.line_messages)
         from "template" t where t.id = r.template_id and r.template_snapshot is null;`,
    );
    this.addSql(
      `update "wizard_run" r set "segment_name" = s.name from "segment" s
        where s.id = r.segment_id and r.segment_name is null;`,
    );
  }

  override async down(): Promise<void> {
    for (const c of [
      'template_snapshot',
      'segment_name',
      'created_by',
      'cancelled_by',
      'waves_cancelled_at',
      'waves_cancelled_by',
      'waves_notified_at',
      'remind_at',
      'reminded_at',
    ])
      this.addSql(`alter table "wizard_run" drop column if exists "${c}";`);
  }
}
