import { Migration } from '@mikro-orm/migrations';

// tracked_link_send_part_url_unique (send_id, part, md5(url)) already leads
// with send_id and answers every lookup by send; the separate send_id index
// only cost a fourth index insert per token (one per message at least).
export class Migration20261123170000_tracked_link_index extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists "tracked_link_send_idx";`);
  }

  override async down(): Promise<void> {
    this.addSql(`create index if not exists "tracked_link_send_idx" on "tracked_link" ("send_id");`);
  }
}
