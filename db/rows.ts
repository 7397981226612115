// The rows of every table as data: one TypeBox schema per table whose
// columns carry their PostgreSQL type (`pg`) and nullability. The migrations
// in db/migrations are the schema's only source; these declarations describe
// what they build, and test/integration/schema-rows.test.ts migrates a fresh
// database and fails when a table, a column, a type or a nullability differs.
// Row types are derived from here (`Row<'lead'>`), never written again by hand.
//
// TypeScript types follow what node-postgres returns (db/pool.ts): int8 stays
// a string, timestamptz is a Date, jsonb is parsed. A column may narrow its
// TypeScript type (a union of texts, a JSON shape) without changing its `pg`.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CHANNELS } from '../domain/channels';

/** The column types the migrations use (information_schema udt_name, arrays as `<type>[]`). */
export type PgType =
  | 'text'
  | 'varchar'
  | 'int4'
  | 'int8'
  | 'float8'
  | 'bool'
  | 'timestamptz'
  | 'jsonb'
  | 'text[]'
  | 'int4[]'
  | 'bytea';

const typed = <T extends TSchema>(pg: PgType, schema: T): T => Object.assign(schema, { pg });

export const col = {
  text: <T extends TSchema = ReturnType<typeof Type.String>>(as?: T) =>
    typed('text', (as ?? Type.String()) as T),
  varchar: () => typed('varchar', Type.String()),
  int4: () => typed('int4', Type.Integer()),
  /** A string: bigint ids keep their precision (db/pool.ts). */
  int8: () => typed('int8', Type.String()),
  float8: () => typed('float8', Type.Number()),
  bool: () => typed('bool', Type.Boolean()),
  timestamptz: () => typed('timestamptz', Type.Date()),
  jsonb: <T extends TSchema = ReturnType<typeof Type.Unknown>>(as?: T) =>
    typed('jsonb', (as ?? Type.Unknown()) as T),
  textArray: () => typed('text[]', Type.Array(Type.String())),
  int4Array: () => typed('int4[]', Type.Array(Type.Integer())),
  bytea: () => typed('bytea', Type.Unsafe<Buffer>({ description: 'bytes' })),
};

/** A channel's name (domain/channels.ts) in a text column. */
const channelName = () => col.text(Type.Union(CHANNELS.map((c) => Type.Literal(c))));

/** A column that may be NULL. */
export const nullable = <T extends TSchema>(schema: T) =>
  Object.assign(Type.Union([schema, Type.Null()]), { pg: (schema as { pg?: PgType }).pg, nullable: true });

export const TABLES = {
  address_status: {
    id: col.int4(),
    channel: col.text(),
    address: col.text(),
    status: col.text(),
    error_type: nullable(col.text()),
    reason: nullable(col.text()),
    error_count: col.int4(),
    first_error_at: nullable(col.timestamptz()),
    last_error_at: nullable(col.timestamptz()),
    source: col.text(),
    updated_at: col.timestamptz(),
    note: nullable(col.text()),
    changed_by: nullable(col.text()),
  },
  api_key: {
    id: col.int4(),
    name: col.text(),
    prefix: col.text(),
    hash: col.text(),
    scopes: col.textArray(),
    revoked_at: nullable(col.timestamptz()),
    created_at: col.timestamptz(),
  },
  bounce_rule: {
    id: col.int4(),
    pattern: col.text(),
    is_regex: col.bool(),
    error_type: col.text(),
    reason: col.text(),
    code: col.int4(),
    origin: col.text(),
    state: col.text(),
    normalized_text: nullable(col.text()),
    occurrences: col.int4(),
    created_at: col.timestamptz(),
    updated_at: col.timestamptz(),
  },
  domain_rule: {
    id: col.int4(),
    domain: col.text(),
    error_rate_threshold: col.float8(),
    min_messages: col.int4(),
    block_seconds: col.int4(),
    max_connections: col.int4(),
    max_per_hour: nullable(col.int4()),
    blocked_until: nullable(col.timestamptz()),
    created_at: col.timestamptz(),
    updated_at: col.timestamptz(),
  },
  domain_state: {
    domain: col.text(),
    messages: col.int4(),
    errors: col.int4(),
    window_started_at: col.timestamptz(),
    blocked_until: nullable(col.timestamptz()),
    hour_started_at: nullable(col.timestamptz()),
    hour_count: col.int4(),
    updated_at: col.timestamptz(),
  },
  idempotency_key: {
    api_key_id: col.int4(),
    key: col.text(),
    route: col.text(),
    request_hash: col.text(),
    resource: nullable(col.text()),
    status_code: nullable(col.int4()),
    response_body: nullable(col.text()),
    created_at: col.timestamptz(),
    completed_at: nullable(col.timestamptz()),
  },
  inbound_report: {
    id: col.int8(),
    received_at: col.timestamptz(),
    fingerprint: col.text(),
    kind: col.text(),
    status: col.text(),
    send_id: nullable(col.int8()),
    detail: nullable(col.text()),
    raw: nullable(col.text()),
    run_id: nullable(col.int4()),
    action: nullable(col.text()),
    recipient: nullable(col.text()),
    remote_text: nullable(col.text()),
    code: nullable(col.int4()),
    error_type: nullable(col.text()),
    error_reason: nullable(col.text()),
    applied_at: nullable(col.timestamptz()),
    position: col.int4(),
    message_report_id: nullable(col.int8()),
    format: nullable(col.text()),
    status_code: nullable(col.text()),
    fault: nullable(col.text()),
    evidence: nullable(col.jsonb(Type.Array(Type.String()))),
    reading: nullable(col.jsonb(Type.Record(Type.String(), Type.Unknown()))),
  },
  lead: {
    id: col.int4(),
    name: col.text(),
    email: nullable(col.text()),
    phones: col.jsonb(Type.Record(Type.String(), Type.String())),
    line_user_id: nullable(col.text()),
    line_friend_status: col.text(),
    email_valid: col.bool(),
    email_error_count: col.int4(),
    sms_permission: col.bool(),
    dm_permission: col.bool(),
    unsubscribed_email_at: nullable(col.timestamptz()),
    unsubscribed_sms_at: nullable(col.timestamptz()),
    unsubscribed_line_at: nullable(col.timestamptz()),
    attributes: col.jsonb(Type.Record(Type.String(), Type.Unknown())),
    deleted_at: nullable(col.timestamptz()),
    merged_into_id: nullable(col.int4()),
    created_at: col.timestamptz(),
    updated_at: col.timestamptz(),
    external_id: nullable(col.text()),
  },
  import_job: {
    id: col.int4(),
    kind: col.text(Type.Union([Type.Literal('leads'), Type.Literal('addresses')])),
    status: col.text(),
    on_duplicate: col.text(),
    encoding: nullable(col.text()),
    bytes: col.int8(),
    columns: col.textArray(),
    rows_read: col.int4(),
    inserted: col.int4(),
    updated: col.int4(),
    skipped: col.int4(),
    rejected: col.int4(),
    committed_row: col.int4(),
    error: nullable(col.text()),
    created_by: nullable(col.text()),
    created_at: col.timestamptz(),
    started_at: nullable(col.timestamptz()),
    finished_at: nullable(col.timestamptz()),
    updated_at: col.timestamptz(),
  },
  import_job_chunk: {
    import_id: col.int4(),
    seq: col.int4(),
    data: col.bytea(),
  },
  import_job_rejected: {
    import_id: col.int4(),
    row_no: col.int4(),
    field: col.text(),
    reason: col.text(),
    cells: col.textArray(),
  },
  import_job_key: {
    import_id: col.int4(),
    key: col.text(),
    first_row: col.int4(),
  },
  line_webhook_event: {
    webhook_event_id: col.text(),
    account_id: col.int4(),
    user_id: col.text(),
    type: col.text(),
    status: col.text(),
    occurred_at: col.timestamptz(),
    received_at: col.timestamptz(),
  },
  official_account: {
    id: col.int4(),
    name: col.text(),
    channel_id: col.text(),
    access_token: col.text(),
    channel_secret: col.text(),
    deleted_at: nullable(col.timestamptz()),
    created_at: col.timestamptz(),
    updated_at: col.timestamptz(),
  },
  sms_reply: {
    id: col.int8(),
    handset: col.text(),
    recipient: col.text(),
    text: col.text(),
    data_coding: col.int4(),
    kind: col.text(),
    keyword: col.text(),
    lead_ids: col.int4Array(),
    received_at: col.timestamptz(),
    recorded_at: col.timestamptz(),
  },
  run_exclusion: {
    run_id: col.int4(),
    lead_id: col.int4(),
    address: nullable(col.text()),
    reason: col.text(),
  },
  run_target: {
    run_id: col.int4(),
    seq: col.int4(),
    lead_id: col.int4(),
    address: col.text(),
  },
  segment: {
    id: col.int4(),
    name: col.text(),
    channel: col.text(),
    filter: col.jsonb(Type.Record(Type.String(), Type.Unknown())),
    created_at: col.timestamptz(),
    updated_at: col.timestamptz(),
  },
  send: {
    id: col.int8(),
    run_id: nullable(col.int4()),
    channel: col.text(),
    lead_id: col.int4(),
    address: col.text(),
    template_id: nullable(col.int4()),
    template_title: col.text(),
    body: nullable(col.text()),
    token: col.text(),
    message_id: nullable(col.text()),
    result: col.text(),
    code: nullable(col.int4()),
    detail: nullable(col.text()),
    error_type: nullable(col.text()),
    error_reason: nullable(col.text()),
    attempts: col.int4(),
    resends: col.int4(),
    next_attempt_at: nullable(col.timestamptz()),
    sms_segments: nullable(col.int4()),
    click_count: col.int4(),
    opened_at: nullable(col.timestamptz()),
    line_account_name: nullable(col.text()),
    sent_at: nullable(col.timestamptz()),
    delivered_at: nullable(col.timestamptz()),
    created_at: col.timestamptz(),
    updated_at: col.timestamptz(),
  },
  send_attempt: {
    id: col.int8(),
    send_id: col.int8(),
    attempt: col.int4(),
    at: col.timestamptz(),
    result: col.text(),
    code: nullable(col.int4()),
    detail: nullable(col.text()),
    error_type: nullable(col.text()),
    error_reason: nullable(col.text()),
    message_id: nullable(col.text()),
    resend_reason: nullable(col.text()),
    original_message_id: nullable(col.text()),
  },
  sms_part: {
    send_id: col.int8(),
    seq: col.int4(),
    message_id: col.text(),
    submitted_at: col.timestamptz(),
    stat: nullable(col.text()),
    err: nullable(col.text()),
    receipt_at: nullable(col.timestamptz()),
  },
  template: {
    id: col.int4(),
    channel: channelName(),
    title: col.text(),
    memo: col.text(),
    email_format: nullable(col.text()),
    subject: nullable(col.text()),
    from_address: nullable(col.text()),
    reply_to: nullable(col.text()),
    error_reply_to: nullable(col.text()),
    body_text: nullable(col.text()),
    body_html: nullable(col.text()),
    click_tracking: col.bool(),
    open_tracking: col.bool(),
    sms_body: nullable(col.text()),
    sms_error_address: nullable(col.text()),
    line_account_id: nullable(col.int4()),
    line_messages: nullable(col.jsonb(Type.Array(Type.Unknown()))),
    deleted_at: nullable(col.timestamptz()),
    created_at: col.timestamptz(),
    updated_at: col.timestamptz(),
  },
  tracked_link: {
    id: col.int8(),
    send_id: col.int8(),
    token: col.text(),
    url: col.text(),
    part: col.text(),
  },
  tracking_event: {
    id: col.int8(),
    kind: col.text(),
    send_id: col.int8(),
    link_id: nullable(col.int8()),
    at: col.timestamptz(),
    ip: nullable(col.text()),
    user_agent: nullable(col.text()),
    suspected_bot: col.bool(),
    bot_reasons: nullable(col.textArray()),
  },
  wizard_run: {
    id: col.int4(),
    channel: channelName(),
    template_id: col.int4(),
    template_title: col.text(),
    template_memo: col.text(),
    target_kind: col.text(Type.Union([Type.Literal('segment'), Type.Literal('list')])),
    segment_id: nullable(col.int4()),
    lead_ids: nullable(col.int4Array()),
    include_already_sent: col.bool(),
    permission_filter: col.bool(),
    allow_long_sms: col.bool(),
    phone_field: nullable(col.text()),
    scheduled_at: nullable(col.timestamptz()),
    status_mail: nullable(col.text()),
    remind_mail: nullable(col.text()),
    status: col.text(),
    workflow_id: col.text(),
    error_message: nullable(col.text()),
    expected_completion_at: nullable(col.timestamptz()),
    started_at: nullable(col.timestamptz()),
    completed_at: nullable(col.timestamptz()),
    cancel_requested_at: nullable(col.timestamptz()),
    updated_by: nullable(col.text()),
    target_count: col.int4(),
    excluded_count: col.int4(),
    sent_count: col.int4(),
    delivered_count: col.int4(),
    pre_error_count: col.int4(),
    error_count: col.int4(),
    opener_count: col.int4(),
    clicker_count: col.int4(),
    click_count: col.int4(),
    unsubscribe_count: col.int4(),
    created_at: col.timestamptz(),
    updated_at: col.timestamptz(),
    retry_schedules: nullable(col.jsonb(Type.Record(Type.String(), Type.Unknown()))),
    start_notified_at: nullable(col.timestamptz()),
    end_notified_at: nullable(col.timestamptz()),
    reports_signalled_at: nullable(col.timestamptz()),
    sms_parts_count: col.int4(),
    line_quota_exhausted_at: nullable(col.timestamptz()),
    hold_reason: nullable(col.text()),
    hold_detail: nullable(col.text()),
    held_since: nullable(col.timestamptz()),
    held_until: nullable(col.timestamptz()),
    preflight: nullable(col.jsonb(Type.Record(Type.String(), Type.Unknown()))),
    sender_auth_code: nullable(col.int4()),
    sender_auth_detail: nullable(col.text()),
  },
  sending_domain: {
    id: col.int4(),
    domain: col.text(),
    status: col.text(Type.Union([Type.Literal('pending'), Type.Literal('verified'), Type.Literal('failed')])),
    checks: nullable(col.jsonb(Type.Array(Type.Record(Type.String(), Type.Unknown())))),
    checked_at: nullable(col.timestamptz()),
    verified_at: nullable(col.timestamptz()),
    created_at: col.timestamptz(),
    updated_at: col.timestamptz(),
  },
  sending_domain_key: {
    id: col.int4(),
    domain_id: col.int4(),
    selector: col.text(),
    algorithm: col.text(Type.Union([Type.Literal('rsa'), Type.Literal('ed25519')])),
    public_key: col.text(),
    private_key_enc: col.text(),
    state: col.text(Type.Union([Type.Literal('active'), Type.Literal('pending'), Type.Literal('retired')])),
    created_at: col.timestamptz(),
    activated_at: nullable(col.timestamptz()),
    retired_at: nullable(col.timestamptz()),
  },
};

export type TableName = keyof typeof TABLES;

/** Each table's row as a TypeBox object schema. */
export const ROWS = Object.fromEntries(
  Object.entries(TABLES).map(([name, columns]) => [name, Type.Object(columns)]),
) as { [K in TableName]: ReturnType<typeof Type.Object<(typeof TABLES)[K]>> };

/** One row of `table` as node-postgres returns it for `SELECT *`. */
export type Row<K extends TableName> = Static<(typeof ROWS)[K]>;

/** The declared columns of a table: name, PostgreSQL type, nullability. */
export function declaredColumns(table: TableName): { name: string; pg: PgType; nullable: boolean }[] {
  return Object.entries(TABLES[table]).map(([name, schema]) => {
    const s = schema as { pg: PgType; nullable?: boolean };
    return { name, pg: s.pg, nullable: s.nullable === true };
  });
}
