import { Migration } from '@mikro-orm/migrations';

// Tracking (SPEC §8). Every token a recipient can present lives in
// tracked_link: click links (part text / html / sms / line), the open image
// (part 'open') and the unsubscribe URL (part 'unsubscribe'), so one unique
// index answers every tracking endpoint.
export class Migration20261123120000_tracking extends Migration {
  override async up(): Promise<void> {
    // One row per (send, part, URL): rendering a send again (a retry) finds the
    // tokens its first mail carried instead of minting new ones. md5 keeps the
    // key small: URLs can outgrow a btree entry.
    this.addSql(
      `create unique index "tracked_link_send_part_url_unique" on "tracked_link" ("send_id", "part", md5("url"));`,
    );
    // An unsubscribe is recorded once per send: the run counts it the first time only.
    this.addSql(
      `create unique index "tracking_event_unsubscribe_once" on "tracking_event" ("send_id") where "kind" = 'unsubscribe';`,
    );
  }
}
