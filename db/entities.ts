// Entities for everything SPEC section 1 stores. Defined as EntitySchema (no
// decorators, so nothing depends on emitDecoratorMetadata). The migrations in
// db/migrations are generated from these and are the schema's source of truth
// in a database; set-based statements in db/queries use the same table names.
import { EntitySchema } from '@mikro-orm/core';

export type Channel = 'email' | 'sms' | 'line';
export type FriendStatus = 'friend' | 'blocked' | 'unknown';
export type RunStatus = 'reserved' | 'preparing' | 'running' | 'completed' | 'error' | 'cancelled';
export type SendResult = 'delivered' | 'sent' | 'error' | 'pre_error' | 'pending';

const timestamps = {
  createdAt: { type: 'Date', columnType: 'timestamptz', onCreate: () => new Date() },
  updatedAt: {
    type: 'Date',
    columnType: 'timestamptz',
    onCreate: () => new Date(),
    onUpdate: () => new Date(),
  },
} as const;

export interface Lead {
  id: number;
  name: string;
  email?: string | null;
  /** Named phone fields, e.g. { mobile: '090…', work: '03…' }; a run picks one. */
  phones: Record<string, string>;
  lineUserId?: string | null;
  lineFriendStatus: FriendStatus;
  emailValid: boolean;
  emailErrorCount: number;
  smsPermission: boolean;
  dmPermission: boolean;
  unsubscribedEmailAt?: Date | null;
  unsubscribedSmsAt?: Date | null;
  unsubscribedLineAt?: Date | null;
  attributes: Record<string, unknown>;
  deletedAt?: Date | null;
  mergedIntoId?: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export const LeadSchema = new EntitySchema<Lead>({
  name: 'Lead',
  tableName: 'lead',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    name: { type: 'string', columnType: 'text', default: '' },
    email: { type: 'string', columnType: 'text', nullable: true, index: 'lead_email_idx' },
    phones: { type: 'json', default: '{}' },
    lineUserId: { type: 'string', columnType: 'text', nullable: true, index: 'lead_line_user_idx' },
    lineFriendStatus: { type: 'string', columnType: 'text', default: 'unknown' },
    emailValid: { type: 'boolean', default: true },
    emailErrorCount: { type: 'number', default: 0 },
    smsPermission: { type: 'boolean', default: true },
    dmPermission: { type: 'boolean', default: true },
    unsubscribedEmailAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    unsubscribedSmsAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    unsubscribedLineAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    attributes: { type: 'json', default: '{}' },
    deletedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    mergedIntoId: { type: 'number', nullable: true },
    ...timestamps,
  },
});

export interface Template {
  id: number;
  channel: Channel;
  title: string;
  memo: string;
  /** Email: text | html | multipart. */
  emailFormat?: string | null;
  subject?: string | null;
  fromAddress?: string | null;
  replyTo?: string | null;
  /** Where failure notices for this template's sends go. */
  errorReplyTo?: string | null;
  bodyText?: string | null;
  bodyHtml?: string | null;
  clickTracking: boolean;
  openTracking: boolean;
  smsBody?: string | null;
  smsErrorAddress?: string | null;
  lineAccountId?: number | null;
  lineMessages?: unknown[] | null;
  deletedAt?: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const TemplateSchema = new EntitySchema<Template>({
  name: 'Template',
  tableName: 'template',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    channel: { type: 'string', columnType: 'text' },
    title: { type: 'string', columnType: 'text' },
    memo: { type: 'string', columnType: 'text', default: '' },
    emailFormat: { type: 'string', columnType: 'text', nullable: true },
    subject: { type: 'string', columnType: 'text', nullable: true },
    fromAddress: { type: 'string', columnType: 'text', nullable: true },
    replyTo: { type: 'string', columnType: 'text', nullable: true },
    errorReplyTo: { type: 'string', columnType: 'text', nullable: true },
    bodyText: { type: 'string', columnType: 'text', nullable: true },
    bodyHtml: { type: 'string', columnType: 'text', nullable: true },
    clickTracking: { type: 'boolean', default: false },
    openTracking: { type: 'boolean', default: false },
    smsBody: { type: 'string', columnType: 'text', nullable: true },
    smsErrorAddress: { type: 'string', columnType: 'text', nullable: true },
    lineAccountId: { type: 'number', nullable: true },
    lineMessages: { type: 'json', nullable: true },
    deletedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    ...timestamps,
  },
});

export interface Segment {
  id: number;
  name: string;
  channel: Channel;
  /** The filter over lead fields and attributes (domain/segment-filter). */
  filter: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export const SegmentSchema = new EntitySchema<Segment>({
  name: 'Segment',
  tableName: 'segment',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    name: { type: 'string', columnType: 'text' },
    channel: { type: 'string', columnType: 'text' },
    filter: { type: 'json', default: '{}' },
    ...timestamps,
  },
});

export interface WizardRun {
  id: number;
  channel: Channel;
  templateId: number;
  templateTitle: string;
  templateMemo: string;
  /** Targeting method: a saved segment or an explicit list of lead ids. */
  targetKind: 'segment' | 'list';
  segmentId?: number | null;
  leadIds?: number[] | null;
  includeAlreadySent: boolean;
  /** DM permission (email) or SMS permission (SMS) filter. */
  permissionFilter: boolean;
  allowLongSms: boolean;
  phoneField?: string | null;
  scheduledAt?: Date | null;
  /** Retry schedule overrides per error reason for this run (domain/retry-schedule). */
  retrySchedules?: Record<string, unknown> | null;
  startNotifiedAt?: Date | null;
  reportsSignalledAt?: Date | null;
  /** LINE: set when a push met the exhausted monthly limit; the run's later sends become pre-errors unpushed. */
  lineQuotaExhaustedAt?: Date | null;
  endNotifiedAt?: Date | null;
  statusMail?: string | null;
  remindMail?: string | null;
  status: RunStatus;
  workflowId: string;
  errorMessage?: string | null;
  expectedCompletionAt?: Date | null;
  /** Why the run's sends wait (a relay fault), cleared when they go out again. */
  holdReason?: string | null;
  holdDetail?: string | null;
  heldSince?: Date | null;
  heldUntil?: Date | null;
  startedAt?: Date | null;
  completedAt?: Date | null;
  cancelRequestedAt?: Date | null;
  updatedBy?: string | null;
  targetCount: number;
  excludedCount: number;
  sentCount: number;
  deliveredCount: number;
  preErrorCount: number;
  errorCount: number;
  openerCount: number;
  clickerCount: number;
  clickCount: number;
  unsubscribeCount: number;
  /** SMS runs: parts accepted by the SMSC (SPEC §6 "sent = messages after splitting"). */
  smsPartsCount: number;
  createdAt: Date;
  updatedAt: Date;
}

const counter = { type: 'number', default: 0 } as const;

export const WizardRunSchema = new EntitySchema<WizardRun>({
  name: 'WizardRun',
  tableName: 'wizard_run',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    channel: { type: 'string', columnType: 'text' },
    templateId: { type: 'number' },
    templateTitle: { type: 'string', columnType: 'text' },
    templateMemo: { type: 'string', columnType: 'text', default: '' },
    targetKind: { type: 'string', columnType: 'text' },
    segmentId: { type: 'number', nullable: true },
    leadIds: { type: 'ArrayType', columnType: 'int[]', nullable: true },
    includeAlreadySent: { type: 'boolean', default: false },
    permissionFilter: { type: 'boolean', default: false },
    allowLongSms: { type: 'boolean', default: false },
    phoneField: { type: 'string', columnType: 'text', nullable: true },
    scheduledAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    retrySchedules: { type: 'json', nullable: true },
    startNotifiedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    reportsSignalledAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    lineQuotaExhaustedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    endNotifiedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    statusMail: { type: 'string', columnType: 'text', nullable: true },
    remindMail: { type: 'string', columnType: 'text', nullable: true },
    status: { type: 'string', columnType: 'text', index: 'wizard_run_status_idx' },
    workflowId: { type: 'string', columnType: 'text', unique: 'wizard_run_workflow_id_unique' },
    errorMessage: { type: 'string', columnType: 'text', nullable: true },
    expectedCompletionAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    holdReason: { type: 'string', columnType: 'text', nullable: true },
    holdDetail: { type: 'string', columnType: 'text', nullable: true },
    heldSince: { type: 'Date', columnType: 'timestamptz', nullable: true },
    heldUntil: { type: 'Date', columnType: 'timestamptz', nullable: true },
    startedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    completedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    cancelRequestedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    updatedBy: { type: 'string', columnType: 'text', nullable: true },
    targetCount: counter,
    excludedCount: counter,
    sentCount: counter,
    deliveredCount: counter,
    preErrorCount: counter,
    errorCount: counter,
    openerCount: counter,
    clickerCount: counter,
    clickCount: counter,
    unsubscribeCount: counter,
    smsPartsCount: counter,
    ...timestamps,
  },
});

/** The resolved targets of a run, numbered so batches walk them by range (a cursor, never a list). */
export interface RunTarget {
  runId: number;
  seq: number;
  leadId: number;
  address: string;
}

export const RunTargetSchema = new EntitySchema<RunTarget>({
  name: 'RunTarget',
  tableName: 'run_target',
  properties: {
    runId: { type: 'number', primary: true },
    seq: { type: 'number', primary: true },
    leadId: { type: 'number' },
    address: { type: 'string', columnType: 'text' },
  },
  uniques: [{ name: 'run_target_run_lead_unique', properties: ['runId', 'leadId'] }],
});

/** A lead excluded at preparation: the run's unsent list. Excluded leads get no send record. */
export interface RunExclusion {
  runId: number;
  leadId: number;
  address?: string | null;
  reason: string;
}

export const RunExclusionSchema = new EntitySchema<RunExclusion>({
  name: 'RunExclusion',
  tableName: 'run_exclusion',
  properties: {
    runId: { type: 'number', primary: true },
    leadId: { type: 'number', primary: true },
    address: { type: 'string', columnType: 'text', nullable: true },
    reason: { type: 'string', columnType: 'text' },
  },
});

export interface Send {
  id: string;
  runId?: number | null;
  channel: Channel;
  leadId: number;
  address: string;
  templateId?: number | null;
  templateTitle: string;
  /** SMS body as sent. */
  body?: string | null;
  /** Opaque per-send token (VERP return path, tracking); 128 random bits. */
  token: string;
  messageId?: string | null;
  result: SendResult;
  code?: number | null;
  detail?: string | null;
  errorType?: string | null;
  errorReason?: string | null;
  attempts: number;
  /** When the next retry wave may send this again (soft errors). */
  nextAttemptAt?: Date | null;
  smsSegments?: number | null;
  clickCount: number;
  openedAt?: Date | null;
  lineAccountName?: string | null;
  sentAt?: Date | null;
  deliveredAt?: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const SendSchema = new EntitySchema<Send>({
  name: 'Send',
  tableName: 'send',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    runId: { type: 'number', nullable: true },
    channel: { type: 'string', columnType: 'text' },
    leadId: { type: 'number', index: 'send_lead_idx' },
    address: { type: 'string', columnType: 'text' },
    templateId: { type: 'number', nullable: true },
    templateTitle: { type: 'string', columnType: 'text', default: '' },
    body: { type: 'string', columnType: 'text', nullable: true },
    token: { type: 'string', columnType: 'text', unique: 'send_token_unique' },
    // Not indexed: reports find a send by the token inside our Message-ID.
    messageId: { type: 'string', columnType: 'text', nullable: true },
    result: { type: 'string', columnType: 'text' },
    code: { type: 'number', nullable: true },
    detail: { type: 'string', columnType: 'text', nullable: true },
    errorType: { type: 'string', columnType: 'text', nullable: true },
    errorReason: { type: 'string', columnType: 'text', nullable: true },
    attempts: { type: 'number', default: 0 },
    nextAttemptAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    smsSegments: { type: 'number', nullable: true },
    clickCount: { type: 'number', default: 0 },
    openedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    lineAccountName: { type: 'string', columnType: 'text', nullable: true },
    sentAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    deliveredAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    ...timestamps,
  },
  // One send per run and lead makes a repeated batch harmless; attempts live in send_attempt.
  uniques: [{ name: 'send_run_lead_unique', properties: ['runId', 'leadId'] }],
});

export interface SendAttempt {
  id: string;
  sendId: string;
  attempt: number;
  at: Date;
  result: SendResult;
  code?: number | null;
  detail?: string | null;
  errorType?: string | null;
  errorReason?: string | null;
  messageId?: string | null;
}

export const SendAttemptSchema = new EntitySchema<SendAttempt>({
  name: 'SendAttempt',
  tableName: 'send_attempt',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    sendId: { type: 'bigint' },
    attempt: { type: 'number' },
    at: { type: 'Date', columnType: 'timestamptz' },
    result: { type: 'string', columnType: 'text' },
    code: { type: 'number', nullable: true },
    detail: { type: 'string', columnType: 'text', nullable: true },
    errorType: { type: 'string', columnType: 'text', nullable: true },
    errorReason: { type: 'string', columnType: 'text', nullable: true },
    messageId: { type: 'string', columnType: 'text', nullable: true },
  },
  uniques: [{ name: 'send_attempt_send_attempt_unique', properties: ['sendId', 'attempt'] }],
});

/** One part of a sent SMS: its SMSC message id and, once it came, its delivery receipt. */
export interface SmsPart {
  sendId: string;
  seq: number;
  messageId: string;
  submittedAt: Date;
  stat?: string | null;
  err?: string | null;
  receiptAt?: Date | null;
}

export const SmsPartSchema = new EntitySchema<SmsPart>({
  name: 'SmsPart',
  tableName: 'sms_part',
  properties: {
    sendId: { type: 'bigint', primary: true },
    seq: { type: 'number', primary: true },
    messageId: { type: 'string', columnType: 'text', index: 'sms_part_message_id_idx' },
    submittedAt: { type: 'Date', columnType: 'timestamptz' },
    stat: { type: 'string', columnType: 'text', nullable: true },
    err: { type: 'string', columnType: 'text', nullable: true },
    receiptAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
  },
});

export interface TrackedLink {
  id: string;
  sendId: string;
  token: string;
  url: string;
  /**
   * text | html | sms | line for counted links; 'open' for the open-tracking
   * image and 'unsubscribe' for the List-Unsubscribe URL (url is '' for both).
   */
  part: string;
}

export const TrackedLinkSchema = new EntitySchema<TrackedLink>({
  name: 'TrackedLink',
  tableName: 'tracked_link',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    // Lookups by send use tracked_link_send_part_url_unique, which leads with send_id.
    sendId: { type: 'bigint' },
    token: { type: 'string', columnType: 'text', unique: 'tracked_link_token_unique' },
    url: { type: 'string', columnType: 'text' },
    part: { type: 'string', columnType: 'text' },
  },
  uniques: [
    {
      name: 'tracked_link_send_part_url_unique',
      expression:
        'create unique index "tracked_link_send_part_url_unique" on "tracked_link" ("send_id", "part", md5("url"))',
    },
  ],
});

export interface TrackingEvent {
  id: string;
  kind: 'click' | 'open' | 'unsubscribe';
  sendId: string;
  linkId?: string | null;
  at: Date;
  ip?: string | null;
  userAgent?: string | null;
  suspectedBot: boolean;
  botReasons?: string[] | null;
}

export const TrackingEventSchema = new EntitySchema<TrackingEvent>({
  name: 'TrackingEvent',
  tableName: 'tracking_event',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    kind: { type: 'string', columnType: 'text' },
    sendId: { type: 'bigint', index: 'tracking_event_send_idx' },
    linkId: { type: 'bigint', nullable: true },
    at: { type: 'Date', columnType: 'timestamptz' },
    ip: { type: 'string', columnType: 'text', nullable: true },
    userAgent: { type: 'string', columnType: 'text', nullable: true },
    suspectedBot: { type: 'boolean', default: false },
    botReasons: { type: 'ArrayType', columnType: 'text[]', nullable: true },
  },
  uniques: [
    {
      name: 'tracking_event_unsubscribe_once',
      expression: `create unique index "tracking_event_unsubscribe_once" on "tracking_event" ("send_id") where "kind" = 'unsubscribe'`,
    },
  ],
});

export interface AddressStatus {
  id: number;
  channel: Channel;
  address: string;
  /** valid | erroneous | quarantined | blocklisted | allowlisted */
  status: string;
  errorType?: string | null;
  reason?: string | null;
  errorCount: number;
  firstErrorAt?: Date | null;
  lastErrorAt?: Date | null;
  /** bounce | complaint | import | manual */
  source: string;
  updatedAt: Date;
}

export const AddressStatusSchema = new EntitySchema<AddressStatus>({
  name: 'AddressStatus',
  tableName: 'address_status',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    channel: { type: 'string', columnType: 'text' },
    address: { type: 'string', columnType: 'text' },
    status: { type: 'string', columnType: 'text' },
    errorType: { type: 'string', columnType: 'text', nullable: true },
    reason: { type: 'string', columnType: 'text', nullable: true },
    errorCount: { type: 'number', default: 0 },
    firstErrorAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    lastErrorAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    source: { type: 'string', columnType: 'text' },
    updatedAt: timestamps.updatedAt,
  },
  uniques: [{ name: 'address_status_channel_address_unique', properties: ['channel', 'address'] }],
});

export interface BounceRuleRow {
  id: number;
  pattern: string;
  isRegex: boolean;
  errorType: string;
  reason: string;
  code: number;
  /** builtin | user */
  origin: string;
  /** qualified | undefined (first sight of a new text, to qualify) */
  state: string;
  normalizedText?: string | null;
  occurrences: number;
  createdAt: Date;
  updatedAt: Date;
}

export const BounceRuleSchema = new EntitySchema<BounceRuleRow>({
  name: 'BounceRule',
  tableName: 'bounce_rule',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    pattern: { type: 'string', columnType: 'text' },
    isRegex: { type: 'boolean', default: false },
    errorType: { type: 'string', columnType: 'text' },
    reason: { type: 'string', columnType: 'text' },
    code: { type: 'number' },
    origin: { type: 'string', columnType: 'text' },
    state: { type: 'string', columnType: 'text', default: 'qualified' },
    normalizedText: {
      type: 'string',
      columnType: 'text',
      nullable: true,
      unique: 'bounce_rule_normalized_unique',
    },
    occurrences: { type: 'number', default: 0 },
    ...timestamps,
  },
});

export interface DomainRule {
  id: number;
  /** A receiving domain, or `*` for the default. */
  domain: string;
  errorRateThreshold: number;
  minMessages: number;
  blockSeconds: number;
  maxConnections: number;
  maxPerHour?: number | null;
  blockedUntil?: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const DomainRuleSchema = new EntitySchema<DomainRule>({
  name: 'DomainRule',
  tableName: 'domain_rule',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    domain: { type: 'string', columnType: 'text', unique: 'domain_rule_domain_unique' },
    errorRateThreshold: { type: 'double', default: 0.9 },
    minMessages: { type: 'number', default: 300 },
    blockSeconds: { type: 'number', default: 3 * 3600 },
    maxConnections: { type: 'number', default: 5 },
    maxPerHour: { type: 'number', nullable: true },
    blockedUntil: { type: 'Date', columnType: 'timestamptz', nullable: true },
    ...timestamps,
  },
});

export interface OfficialAccount {
  id: number;
  name: string;
  channelId: string;
  accessToken: string;
  channelSecret: string;
  deletedAt?: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const OfficialAccountSchema = new EntitySchema<OfficialAccount>({
  name: 'OfficialAccount',
  tableName: 'official_account',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    name: { type: 'string', columnType: 'text' },
    channelId: { type: 'string', columnType: 'text' },
    accessToken: { type: 'string', columnType: 'text', hidden: true },
    channelSecret: { type: 'string', columnType: 'text', hidden: true },
    deletedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    ...timestamps,
  },
});

export interface ApiKey {
  id: number;
  name: string;
  /** First characters of the key, to recognise it in listings. */
  prefix: string;
  /** SHA-256 of the key; the key itself is shown once and never stored. */
  hash: string;
  scopes: string[];
  revokedAt?: Date | null;
  createdAt: Date;
}

export const ApiKeySchema = new EntitySchema<ApiKey>({
  name: 'ApiKey',
  tableName: 'api_key',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    name: { type: 'string', columnType: 'text' },
    prefix: { type: 'string', columnType: 'text' },
    hash: { type: 'string', columnType: 'text', unique: 'api_key_hash_unique' },
    scopes: { type: 'ArrayType', columnType: 'text[]' },
    revokedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    createdAt: timestamps.createdAt,
  },
});

/** An inbound report (DSN, ARF, anything else sent to the bounce mailbox), kept for inspection. */
export interface InboundReport {
  id: string;
  receivedAt: Date;
  /** SHA-256 of the raw message: each report is applied once. */
  fingerprint: string;
  kind: string;
  status: string;
  sendId?: string | null;
  runId?: number | null;
  /** bounce | complaint | delayed | auto-reply | none */
  action?: string | null;
  recipient?: string | null;
  remoteText?: string | null;
  code?: number | null;
  errorType?: string | null;
  errorReason?: string | null;
  appliedAt?: Date | null;
  detail?: string | null;
  /** Null on a recipient row past the first: the raw message is on its message_report_id row. */
  raw?: string | null;
  /** 0 for the first recipient of a message (the row holding raw), 1… for the others. */
  position: number;
  messageReportId?: string | null;
  format?: string | null;
  statusCode?: string | null;
  /** recipient | ours | rate | content: whose fault the bounce is. */
  fault?: string | null;
  evidence?: unknown;
  reading?: unknown;
}

export const InboundReportSchema = new EntitySchema<InboundReport>({
  name: 'InboundReport',
  tableName: 'inbound_report',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    receivedAt: { type: 'Date', columnType: 'timestamptz' },
    fingerprint: { type: 'string', columnType: 'text' },
    kind: { type: 'string', columnType: 'text' },
    status: { type: 'string', columnType: 'text' },
    sendId: { type: 'bigint', nullable: true },
    runId: { type: 'number', nullable: true },
    action: { type: 'string', columnType: 'text', nullable: true },
    recipient: { type: 'string', columnType: 'text', nullable: true },
    remoteText: { type: 'string', columnType: 'text', nullable: true },
    code: { type: 'number', nullable: true },
    errorType: { type: 'string', columnType: 'text', nullable: true },
    errorReason: { type: 'string', columnType: 'text', nullable: true },
    appliedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    detail: { type: 'string', columnType: 'text', nullable: true },
    raw: { type: 'string', columnType: 'text', nullable: true },
    position: { type: 'number', default: 0 },
    messageReportId: { type: 'bigint', nullable: true },
    format: { type: 'string', columnType: 'text', nullable: true },
    statusCode: { type: 'string', columnType: 'text', nullable: true },
    fault: { type: 'string', columnType: 'text', nullable: true },
    evidence: { type: 'json', nullable: true },
    reading: { type: 'json', nullable: true },
  },
  uniques: [{ name: 'inbound_report_fingerprint_position_unique', properties: ['fingerprint', 'position'] }],
});

/** A LINE webhook event (follow or unfollow) applied once, by its webhookEventId. */
export interface LineWebhookEvent {
  webhookEventId: string;
  accountId: number;
  userId: string;
  type: 'follow' | 'unfollow';
  /** The friend status the event means (domain/line-webhook.ts). */
  status: FriendStatus;
  /** LINE's event timestamp: the latest event of a user decides its leads' friend status. */
  occurredAt: Date;
  receivedAt: Date;
}

export const LineWebhookEventSchema = new EntitySchema<LineWebhookEvent>({
  name: 'LineWebhookEvent',
  tableName: 'line_webhook_event',
  properties: {
    webhookEventId: { type: 'string', columnType: 'text', primary: true },
    accountId: { type: 'number' },
    userId: { type: 'string', columnType: 'text' },
    type: { type: 'string', columnType: 'text' },
    status: { type: 'string', columnType: 'text' },
    occurredAt: { type: 'Date', columnType: 'timestamptz' },
    receivedAt: { type: 'Date', columnType: 'timestamptz', defaultRaw: 'now()' },
  },
});

export const ALL_ENTITIES = [
  LeadSchema,
  TemplateSchema,
  SegmentSchema,
  WizardRunSchema,
  RunTargetSchema,
  RunExclusionSchema,
  SendSchema,
  SendAttemptSchema,
  SmsPartSchema,
  TrackedLinkSchema,
  TrackingEventSchema,
  AddressStatusSchema,
  BounceRuleSchema,
  DomainRuleSchema,
  OfficialAccountSchema,
  ApiKeySchema,
  InboundReportSchema,
  LineWebhookEventSchema,
];
