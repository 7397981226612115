import { Migration } from '@mikro-orm/migrations';

export class Migration20261123104148 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "address_status" ("id" serial primary key, "channel" text not null, "address" text not null, "status" text not null, "error_type" text null, "reason" text null, "error_count" int not null default 0, "first_error_at" timestamptz null, "last_error_at" timestamptz null, "source" text not null, "updated_at" timestamptz not null);`,
    );
    this.addSql(
      `alter table "address_status" add constraint "address_status_channel_address_unique" unique ("channel", "address");`,
    );

    this.addSql(
      `create table "api_key" ("id" serial primary key, "name" text not null, "prefix" text not null, "hash" text not null, "scopes" text[] not null, "revoked_at" timestamptz null, "created_at" timestamptz not null);`,
    );
    this.addSql(`alter table "api_key" add constraint "api_key_hash_unique" unique ("hash");`);

    this.addSql(
      `create table "bounce_rule" ("id" serial primary key, "pattern" text not null, "is_regex" boolean not null default false, "error_type" text not null, "reason" text not null, "code" int not null, "origin" text not null, "state" text not null default 'qualified', "normalized_text" text null, "occurrences" int not null default 0, "created_at" timestamptz not null, "updated_at" timestamptz not null);`,
    );
    this.addSql(
      `alter table "bounce_rule" add constraint "bounce_rule_normalized_unique" unique ("normalized_text");`,
    );

    this.addSql(
      `create table "domain_rule" ("id" serial primary key, "domain" text not null, "error_rate_threshold" double precision not null default 0.9, "min_messages" int not null default 300, "block_seconds" int not null default 10800, "max_connections" int not null default 5, "max_per_hour" int null, "blocked_until" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`,
    );
    this.addSql(`alter table "domain_rule" add constraint "domain_rule_domain_unique" unique ("domain");`);

    this.addSql(
      `create table "inbound_report" ("id" bigserial primary key, "received_at" timestamptz not null, "fingerprint" text not null, "kind" text not null, "status" text not null, "send_id" bigint null, "detail" text null, "raw" text not null);`,
    );
    this.addSql(
      `alter table "inbound_report" add constraint "inbound_report_fingerprint_unique" unique ("fingerprint");`,
    );

    this.addSql(
      `create table "lead" ("id" serial primary key, "name" text not null default '', "email" text null, "phones" jsonb not null default '{}', "line_user_id" text null, "line_friend_status" text not null default 'unknown', "email_valid" boolean not null default true, "email_error_count" int not null default 0, "sms_permission" boolean not null default true, "dm_permission" boolean not null default true, "unsubscribed_email_at" timestamptz null, "unsubscribed_sms_at" timestamptz null, "unsubscribed_line_at" timestamptz null, "attributes" jsonb not null default '{}', "deleted_at" timestamptz null, "merged_into_id" int null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`,
    );
    this.addSql(`create index "lead_email_idx" on "lead" ("email");`);
    this.addSql(`create index "lead_line_user_idx" on "lead" ("line_user_id");`);

    this.addSql(
      `create table "official_account" ("id" serial primary key, "name" text not null, "channel_id" text not null, "access_token" text not null, "channel_secret" text not null, "deleted_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`,
    );

    this.addSql(
      `create table "run_exclusion" ("run_id" int not null, "lead_id" int not null, "address" text null, "reason" text not null, constraint "run_exclusion_pkey" primary key ("run_id", "lead_id"));`,
    );

    this.addSql(
      `create table "run_target" ("run_id" int not null, "seq" int not null, "lead_id" int not null, "address" text not null, constraint "run_target_pkey" primary key ("run_id", "seq"));`,
    );
    this.addSql(
      `alter table "run_target" add constraint "run_target_run_lead_unique" unique ("run_id", "lead_id");`,
    );

    this.addSql(
      `create table "segment" ("id" serial primary key, "name" text not null, "channel" text not null, "filter" jsonb not null default '{}', "created_at" timestamptz not null, "updated_at" timestamptz not null);`,
    );

    this.addSql(
      `create table "send" ("id" bigserial primary key, "run_id" int null, "channel" text not null, "lead_id" int not null, "address" text not null, "template_id" int null, "template_title" text not null default '', "body" text null, "token" text not null, "message_id" text null, "result" text not null, "code" int null, "detail" text null, "error_type" text null, "error_reason" text null, "attempts" int not null default 0, "next_attempt_at" timestamptz null, "sms_segments" int null, "click_count" int not null default 0, "opened_at" timestamptz null, "line_account_name" text null, "sent_at" timestamptz null, "delivered_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`,
    );
    this.addSql(`create index "send_lead_idx" on "send" ("lead_id");`);
    this.addSql(`alter table "send" add constraint "send_token_unique" unique ("token");`);
    this.addSql(`create index "send_message_id_idx" on "send" ("message_id");`);
    this.addSql(`alter table "send" add constraint "send_run_lead_unique" unique ("run_id", "lead_id");`);

    this.addSql(
      `create table "send_attempt" ("id" bigserial primary key, "send_id" bigint not null, "attempt" int not null, "at" timestamptz not null, "result" text not null, "code" int null, "detail" text null, "error_type" text null, "error_reason" text null, "message_id" text null);`,
    );
    this.addSql(
      `alter table "send_attempt" add constraint "send_attempt_send_attempt_unique" unique ("send_id", "attempt");`,
    );

    this.addSql(
      `create table "template" ("id" serial primary key, "channel" text not null, "title" text not null, "memo" text not null default '', "email_format" text null, "subject" text null, "from_address" text null, "reply_to" text null, "error_reply_to" text null, "body_text" text null, "body_html" text null, "click_tracking" boolean not null default false, "open_tracking" boolean not null default false, "sms_body" text null, "sms_error_address" text null, "line_account_id" int null, "line_messages" jsonb null, "deleted_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`,
    );

    this.addSql(
      `create table "tracked_link" ("id" bigserial primary key, "send_id" bigint not null, "token" text not null, "url" text not null, "part" text not null);`,
    );
    this.addSql(`create index "tracked_link_send_idx" on "tracked_link" ("send_id");`);
    this.addSql(`alter table "tracked_link" add constraint "tracked_link_token_unique" unique ("token");`);

    this.addSql(
      `create table "tracking_event" ("id" bigserial primary key, "kind" text not null, "send_id" bigint not null, "link_id" bigint null, "at" timestamptz not null, "ip" text null, "user_agent" text null, "suspected_bot" boolean not null default false, "bot_reasons" text[] null);`,
    );
    this.addSql(`create index "tracking_event_send_idx" on "tracking_event" ("send_id");`);

    this.addSql(
      `create table "wizard_run" ("id" serial primary key, "channel" text not null, "template_id" int not null, "template_title" text not null, "template_memo" text not null default '', "target_kind" text not null, "segment_id" int null, "lead_ids" int[] null, "include_already_sent" boolean not null default false, "permission_filter" boolean not null default false, "allow_long_sms" boolean not null default false, "phone_field" text null, "scheduled_at" timestamptz null, "status_mail" text null, "remind_mail" text null, "status" text not null, "workflow_id" text not null, "error_message" text null, "expected_completion_at" timestamptz null, "started_at" timestamptz null, "completed_at" timestamptz null, "cancel_requested_at" timestamptz null, "updated_by" text null, "target_count" int not null default 0, "excluded_count" int not null default 0, "sent_count" int not null default 0, "delivered_count" int not null default 0, "pre_error_count" int not null default 0, "error_count" int not null default 0, "opener_count" int not null default 0, "clicker_count" int not null default 0, "click_count" int not null default 0, "unsubscribe_count" int not null default 0, "created_at" timestamptz not null, "updated_at" timestamptz not null);`,
    );
    this.addSql(`create index "wizard_run_status_idx" on "wizard_run" ("status");`);
    this.addSql(
      `alter table "wizard_run" add constraint "wizard_run_workflow_id_unique" unique ("workflow_id");`,
    );
    // Hand-added: the indexes the hot queries need (history by run and result,
    // retry waves by due time, case-insensitive address look-ups), and defaults
    // so set-based INSERTs need not name every timestamp.
    this.addSql(`create index "send_run_result_idx" on "send" ("run_id", "result");`);
    this.addSql(
      `create index "send_next_attempt_idx" on "send" ("run_id", "next_attempt_at") where "next_attempt_at" is not null;`,
    );
    this.addSql(`create index "lead_lower_email_idx" on "lead" (lower("email"));`);
    this.addSql(`create index "send_attempt_send_idx" on "send_attempt" ("send_id");`);
    for (const t of [
      'lead',
      'template',
      'segment',
      'wizard_run',
      'send',
      'bounce_rule',
      'domain_rule',
      'official_account',
    ]) {
      this.addSql(
        `alter table "${t}" alter column "created_at" set default now(), alter column "updated_at" set default now();`,
      );
    }
    this.addSql(`alter table "address_status" alter column "updated_at" set default now();`);
    this.addSql(`alter table "api_key" alter column "created_at" set default now();`);
  }
}
