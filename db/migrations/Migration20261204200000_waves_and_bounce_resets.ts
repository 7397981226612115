import { Migration } from '@mikro-orm/migrations';

// Issue 18, the rest of the waves and bounce-text items:
// - bounce_rule.occurrences_reset_at / _by: a user reset a bounce text's occurrence count, when and
//   with which API key (its name); the count starts again from 0.
// - wizard_run.waves_swept_at / waves_sweep_note / waves_swept_sends: the consistency sweep found a
//   final run whose workflow is gone while sends still waited for a retry wave; it dropped those next
//   attempts (the sends end 41607, delivery abandoned), and recorded when, why and how many.
export class Migration20261204200000_waves_and_bounce_resets extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "bounce_rule" add column if not exists "occurrences_reset_at" timestamptz null;`,
    );
    this.addSql(`alter table "bounce_rule" add column if not exists "occurrences_reset_by" text null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "waves_swept_at" timestamptz null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "waves_sweep_note" text null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "waves_swept_sends" int null;`);
  }

  override async down(): Promise<void> {
    for (const c of ['occurrences_reset_at', 'occurrences_reset_by'])
      this.addSql(`alter table "bounce_rule" drop column if exists "${c}";`);
    for (const c of ['waves_swept_at', 'waves_sweep_note', 'waves_swept_sends'])
      this.addSql(`alter table "wizard_run" drop column if exists "${c}";`);
  }
}
