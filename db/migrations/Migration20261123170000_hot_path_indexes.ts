import { Migration } from '@mikro-orm/migrations';

// Indexes every message paid for on the sending path and no query needs:
// - tracked_link_send_idx and send_attempt_send_idx: the unique indexes
//   (send_id, part, md5(url)) and (send_id, attempt) lead with send_id and
//   answer every look-up by send;
// - send_message_id_idx: reports find their send by the token inside our
//   Message-ID (send_token_unique), never by message_id, and the column is
//   written twice per message (acceptance mark, outcome), each time costing
//   an index entry.
export class Migration20261123170000_hot_path_indexes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists "tracked_link_send_idx";`);
    this.addSql(`drop index if exists "send_attempt_send_idx";`);
    this.addSql(`drop index if exists "send_message_id_idx";`);
  }

  override async down(): Promise<void> {
    this.addSql(`create index if not exists "tracked_link_send_idx" on "tracked_link" ("send_id");`);
    this.addSql(`create index if not exists "send_attempt_send_idx" on "send_attempt" ("send_id");`);
    this.addSql(`create index if not exists "send_message_id_idx" on "send" ("message_id");`);
  }
}
