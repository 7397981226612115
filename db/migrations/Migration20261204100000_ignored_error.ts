import { Migration } from '@mikro-orm/migrations';

// Reason 25, ignored error (issue 18): a target whose address is allowlisted
// and would have been excluded for its error state is sent to, and the send
// keeps the mark so its history shows it went out despite the errors. The
// mark is decided when the run's targets are resolved (run_target) and copied
// to the send it becomes. A constant default adds the columns without
// rewriting the tables.
export class Migration20261204100000_ignored_error extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "run_target" add column "ignored_error" boolean not null default false;`);
    this.addSql(`alter table "send" add column "ignored_error" boolean not null default false;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "send" drop column "ignored_error";`);
    this.addSql(`alter table "run_target" drop column "ignored_error";`);
  }
}
