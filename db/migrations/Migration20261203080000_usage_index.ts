import { Migration } from '@mikro-orm/migrations';

// GET /v1/usage counts sends by the time they were first sent, over days or
// months: without an index that is a scan of every send ever made. The index
// holds only sends that were sent (pre-errors and sends still waiting have no
// sent_at) and carries the columns the count reads, so the count is an
// index-only range scan. One more index entry per send write: the price of a
// usage page that does not read the whole table.
export class Migration20261203080000_usage_index extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index if not exists "send_sent_at_usage_idx" on "send" ("sent_at") include ("channel", "sms_segments", "result") where "sent_at" is not null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "send_sent_at_usage_idx";`);
  }
}
