import { Migration } from '@mikro-orm/migrations';

// Per-domain breaker and hourly counters: in the database so a domain blocked
// by one worker is blocked for all, and stays blocked across restarts.
export class Migration20261123160000_domain_state extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "domain_state" (
      "domain" text primary key,
      "messages" int not null default 0,
      "errors" int not null default 0,
      "window_started_at" timestamptz not null default now(),
      "blocked_until" timestamptz null,
      "hour_started_at" timestamptz null,
      "hour_count" int not null default 0,
      "updated_at" timestamptz not null default now());`);
  }
}
