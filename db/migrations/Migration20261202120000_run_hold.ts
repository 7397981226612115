import { Migration } from '@mikro-orm/migrations';

// Why a running run's sends are waiting (a fault of our relay, domain/relay-faults.ts): shown in
// the run's status detail, cleared when its sends go out again.
export class Migration20261202120000_run_hold extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "wizard_run" add column if not exists "hold_reason" text null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "hold_detail" text null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "held_since" timestamptz null;`);
    this.addSql(`alter table "wizard_run" add column if not exists "held_until" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "wizard_run" drop column if exists "hold_reason";`);
    this.addSql(`alter table "wizard_run" drop column if exists "hold_detail";`);
    this.addSql(`alter table "wizard_run" drop column if exists "held_since";`);
    this.addSql(`alter table "wizard_run" drop column if exists "held_until";`);
  }
}
