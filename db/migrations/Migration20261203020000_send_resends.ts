import { Migration } from '@mikro-orm/migrations';

// Resends counted (README, Reliability: what can be sent twice). A send's `attempts` counts its
// transmissions and `resends` those that repeated a message possibly accepted before an
// interruption; its retry wave is attempts - resends. Each resend's attempt row says why and
// which Message-ID it repeats, so duplicates are countable from the API.
export class Migration20261203020000_send_resends extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "send" add column if not exists "resends" int not null default 0;`);
    this.addSql(`alter table "send_attempt" add column if not exists "resend_reason" text null;`);
    this.addSql(`alter table "send_attempt" add column if not exists "original_message_id" text null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "send_attempt" drop column if exists "original_message_id";`);
    this.addSql(`alter table "send_attempt" drop column if exists "resend_reason";`);
    this.addSql(`alter table "send" drop column if exists "resends";`);
  }
}
