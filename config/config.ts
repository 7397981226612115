// The one typed configuration module. Read once at start, validated, with
// documented defaults (the README's configuration table mirrors CONFIG_KEYS).
// Secrets are never logged: `describeConfig` masks them.

import { CHANNELS, isChannel, type Channel } from '../domain/channels';
import { parseRetryDelays, type RetryPolicy } from '../domain/retry-schedule';

const MAX_VALIDITY_HOURS = 8760;

/**
 * The settings every channel has, named after it (domain/channels.ts): its send activities' task
 * queue (`taskQueueSms` from TASK_QUEUE_SMS, default `send-sms`) and the server-enforced cap on
 * send batches started per second on that queue, across all workers (`smsBatchesPerSecond` from
 * SMS_BATCHES_PER_SECOND, default 0 = none). A new channel gets both without an edit here.
 */
export type ChannelSettings = { [C in Channel as `taskQueue${Capitalize<C>}`]: string } & {
  [C in Channel as `${C}BatchesPerSecond`]: number;
};

export interface AppConfig extends ChannelSettings {
  /** API listen port. */
  port: number;
  host: string;
  /** PostgreSQL URL; empty means "start embedded PostgreSQL" (dev/start only). */
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  /** SMTP relay URL, e.g. smtp://user:pass@relay:587; empty means the local sink (dev/start only). */
  smtpUrl: string;
  smtpMaxConnections: number;
  smtpMaxMessages: number;
  /** First wait, in seconds, of sends held by a fault of our relay before it is tried again. */
  relayHoldSeconds: number;
  /** Longest wait between tries of a relay that keeps failing (the wait grows with the outage). */
  relayHoldMaxSeconds: number;
  /** SMPP account, smpp://systemId:password@host:port; empty means the local SMSC simulator (dev/start only). */
  smppUrl: string;
  /** SMS source address: digits or an alphanumeric sender id. */
  smsSender: string;
  /** Region phone numbers without a country code are read in (ISO 3166 code). */
  smsDefaultRegion: string;
  /** An SMS with no final delivery receipt after this long is "the result could not be confirmed". */
  smsReceiptTimeoutSeconds: number;
  /** SMS_OPT_OUT_KEYWORDS as written (comma-separated; empty: the defaults). */
  smsOptOutKeywords: string;
  /** Base URL for tracking, unsubscribe and short links seen by recipients. */
  publicBaseUrl: string;
  /** Domain of the VERP return path (b+TOKEN@bounceDomain). */
  bounceDomain: string;
  /** Port of the bounce mailbox SMTP listener in the API process; 0 turns it off. */
  bounceSmtpPort: number;
  /** Bounce mailbox limits against hostile clients (inbound/bounce-mailbox.ts). */
  bounceSmtpMaxMessageBytes: number;
  bounceSmtpMaxClients: number;
  bounceSmtpMaxClientsPerAddress: number;
  bounceSmtpConnectionsPerMinute: number;
  bounceSmtpIdleTimeoutSeconds: number;
  /** Sender of status mails and failure notices. */
  notifyFrom: string;
  /** Leads per send batch activity. */
  sendBatchSize: number;
  /** Send batch activities in flight per run. */
  sendBatchesInFlight: number;
  /** Batches after which a run's workflow continues as new, whatever Temporal suggests. */
  maxBatchesPerExecution: number;
  /** A send batch that has not heartbeaten for this long is given to another worker (seconds). */
  batchHeartbeatTimeoutSeconds: number;
  /** Consecutive errors that turn the email validity flag invalid (SPEC 4). */
  invalidAfterErrors: number;
  /** Errors since the last delivery that quarantine an address, email or phone (issue 18; the campaign manual's 5). */
  quarantineAfterErrors: number;
  /** How long a completed run stays open for asynchronous bounces, in seconds. */
  asyncBounceWindowSeconds: number;
  /** Retry schedule of error reasons without one of their own, as text (`5x1h,4x1d`); a run's own schedules win. */
  retryScheduleDefault: string;
  /** The delivery's validity period: no retry later than this many hours after a send's first attempt; 0: none. */
  deliveryValidityHours: number;
  /** Rows per batch of a background CSV import (one COPY and one INSERT … ON CONFLICT each). */
  importBatchRows: number;
  /** Messages per minute a run's planned completion assumes until its channel's runs were measured. */
  runThroughputPerMinute: number;
  /** Minutes before a scheduled start that the reminder mail goes to the run's remind address. */
  remindMailLeadMinutes: number;
  taskQueueWizard: string;
  /** LINE Messaging API base URL; empty means the local LINE simulator under `npm start`, https://api.line.me elsewhere. */
  lineApiBaseUrl: string;
  /** Per LINE API request, body included. */
  lineTimeoutMs: number;
  /** Concurrent activity executions per worker. */
  workerMaxConcurrentActivities: number;
  /** Port of a standalone worker's Prometheus /metrics endpoint; 0 turns it off. */
  workerMetricsPort: number;
  /** Seconds between a standalone worker's memory lines (heap, external, RSS by kind); 0 turns them off. */
  workerMemoryLogSeconds: number;
  /** Port of the API process's Prometheus /metrics listener (its own listener, not the API's port); 0 turns it off. */
  metricsPort: number;
  /** Listen address of the /metrics listeners (API and standalone worker); loopback unless opened on purpose. */
  metricsHost: string;
  logLevel: string;
  /** Where dev/start keeps embedded PostgreSQL and the Temporal dev server's database. */
  dataDir: string;
  temporalUiPort: number;
  /** `npm start`: the Temporal dev server's gRPC port (when TEMPORAL_ADDRESS is empty). */
  temporalDevPort: number;
  smtpSinkPort: number;
  embeddedPostgresPort: number;
  /** Requests per minute and API key. */
  apiRateLimitPerMinute: number;
  /** A console session unused for this long ends (minutes). */
  consoleSessionIdleMinutes: number;
  /** A console session ends this long after its login, used or not (hours). */
  consoleSessionMaxHours: number;
  /** Failed console logins for one user name, within the window, after which its logins are refused for a while. */
  consoleLoginMaxFailures: number;
  /** The same, counted per client address. */
  consoleLoginMaxFailuresPerIp: number;
  /** The window failed console logins are counted in (minutes). */
  consoleLoginWindowMinutes: number;
  /** Language of labels when Accept-Language names none we have: 'ja' or 'en'. */
  defaultLanguage: string;
  /** IANA time zone of the account: days and months of usage, times shown in notices. */
  accountTimeZone: string;
  /** DNS server (host:port) sending-domain verification asks; empty: the system's resolvers. */
  dnsResolver: string;
  /** Key of the AES-256-GCM encryption of DKIM private keys at rest (64 hex digits, or a passphrase hashed). */
  dkimKeySecret: string;
  /** The SPF mechanism that authorizes our relay, as users publish it. */
  spfRelay: string;
  /** 1: mail from unregistered or unverified domains goes out (unsigned when it has no key); development only. */
  allowUnauthenticatedSending: number;
  /** Pre-flight: complaint rate (per 10,000 delivered, 30 days) above which a run is warned, and refused. */
  preflightComplaintWarnBps: number;
  preflightComplaintRefuseBps: number;
  /** Pre-flight: delivered messages over 30 days below which the complaint rate only warns. */
  preflightComplaintMinDelivered: number;
  /** Pre-flight: share of leads excluded, in percent, above which a run is warned, and refused. */
  preflightExcludedWarnPercent: number;
  preflightExcludedRefusePercent: number;
}

interface KeySpec {
  env: string;
  key: keyof AppConfig;
  kind: 'string' | 'int' | 'url';
  default: string;
  secret?: boolean;
  doc: string;
  /** A setting of every channel: the one README row that documents the pattern (`TASK_QUEUE_<CHANNEL>`). */
  family?: { env: string; default: string; doc: string };
}

/** The setting's key of a channel: `taskQueueSms`. */
export function taskQueueKey(channel: Channel): `taskQueue${Capitalize<Channel>}` {
  return `taskQueue${channel[0]!.toUpperCase()}${channel.slice(1)}` as `taskQueue${Capitalize<Channel>}`;
}

function batchesPerSecondKey(channel: Channel): `${Channel}BatchesPerSecond` {
  return `${channel}BatchesPerSecond`;
}

const TASK_QUEUE_FAMILY = {
  env: 'TASK_QUEUE_<CHANNEL>',
  default: 'send-<channel>',
  doc: "task queue of a channel's send activities, named after the channel (`TASK_QUEUE_EMAIL`, `TASK_QUEUE_SMS`, `TASK_QUEUE_LINE`)",
};

const BATCHES_PER_SECOND_FAMILY = {
  env: '<CHANNEL>_BATCHES_PER_SECOND',
  default: '0',
  doc: "a channel's send batches started per second, all workers together (maxTaskQueueActivitiesPerSecond: set it alike on every worker); 0: no cap",
};

/** The two settings of every channel, TASK_QUEUE_<CHANNEL> and <CHANNEL>_BATCHES_PER_SECOND. */
function channelKeys(): KeySpec[] {
  const upper = (c: Channel) => c.toUpperCase();
  return [
    ...CHANNELS.map((c): KeySpec => ({
      env: `TASK_QUEUE_${upper(c)}`,
      key: taskQueueKey(c),
      kind: 'string',
      default: `send-${c}`,
      doc: `task queue of ${c} send activities`,
      family: TASK_QUEUE_FAMILY,
    })),
    ...CHANNELS.map((c): KeySpec => ({
      env: `${upper(c)}_BATCHES_PER_SECOND`,
      key: batchesPerSecondKey(c),
      kind: 'int',
      default: '0',
      doc: `${c} send batches started per second across all workers; 0: no cap`,
      family: BATCHES_PER_SECOND_FAMILY,
    })),
  ];
}

export const CONFIG_KEYS: readonly KeySpec[] = [
  { env: 'PORT', key: 'port', kind: 'int', default: '3000', doc: 'API port' },
  { env: 'HOST', key: 'host', kind: 'string', default: '0.0.0.0', doc: 'API listen address' },
  {
    env: 'DATABASE_URL',
    key: 'databaseUrl',
    kind: 'string',
    default: '',
    secret: true,
    doc: 'PostgreSQL URL; empty: `npm start` runs embedded PostgreSQL',
  },
  {
    env: 'TEMPORAL_ADDRESS',
    key: 'temporalAddress',
    kind: 'string',
    default: '',
    doc: 'Temporal frontend host:port; empty: `npm start` runs the dev server (localhost:7233)',
  },
  {
    env: 'TEMPORAL_NAMESPACE',
    key: 'temporalNamespace',
    kind: 'string',
    default: 'default',
    doc: 'Temporal namespace',
  },
  {
    env: 'SMTP_URL',
    key: 'smtpUrl',
    kind: 'string',
    default: '',
    secret: true,
    doc: 'SMTP relay (smtp:// or smtps://, credentials allowed); empty: `npm start` runs the local sink',
  },
  {
    env: 'SMTP_MAX_CONNECTIONS',
    key: 'smtpMaxConnections',
    kind: 'int',
    default: '5',
    doc: 'pooled SMTP connections per worker',
  },
  {
    env: 'SMTP_MAX_MESSAGES',
    key: 'smtpMaxMessages',
    kind: 'int',
    default: '1000',
    doc: 'messages per pooled connection before it is recycled',
  },
  {
    env: 'RELAY_HOLD_SECONDS',
    key: 'relayHoldSeconds',
    kind: 'int',
    default: '30',
    doc: 'first wait of sends held by a fault of our relay (unreachable, DNS, TLS, AUTH, relay denied) before it is tried again',
  },
  {
    env: 'RELAY_HOLD_MAX_SECONDS',
    key: 'relayHoldMaxSeconds',
    kind: 'int',
    default: '600',
    doc: 'longest wait between tries of a relay that keeps failing; the wait grows with the outage up to this',
  },
  {
    env: 'SMPP_URL',
    key: 'smppUrl',
    kind: 'string',
    default: '',
    secret: true,
    doc: 'SMSC account (smpp://systemId:password@host:port); empty: `npm start` runs the local SMSC simulator',
  },
  {
    env: 'SMS_SENDER',
    key: 'smsSender',
    kind: 'string',
    default: 'DELIVERY',
    doc: 'SMS source address (digits or an alphanumeric sender id)',
  },
  {
    env: 'SMS_DEFAULT_REGION',
    key: 'smsDefaultRegion',
    kind: 'string',
    default: 'JP',
    doc: 'region of phone numbers written without a country code',
  },
  {
    env: 'SMS_RECEIPT_TIMEOUT_SECONDS',
    key: 'smsReceiptTimeoutSeconds',
    kind: 'int',
    default: '86400',
    doc: 'an SMS without a delivery receipt after this long is "the result could not be confirmed"',
  },
  {
    env: 'SMS_OPT_OUT_KEYWORDS',
    key: 'smsOptOutKeywords',
    kind: 'string',
    default: '',
    doc: 'comma-separated replies that unsubscribe the number from SMS bulk sends; empty: STOP, UNSUBSCRIBE, 配信停止, 停止 and the other defaults of domain/sms-replies.ts',
  },
  {
    env: 'PUBLIC_BASE_URL',
    key: 'publicBaseUrl',
    kind: 'url',
    default: 'http://localhost:3000',
    doc: 'base of tracking, unsubscribe and short URLs in messages',
  },
  {
    env: 'BOUNCE_DOMAIN',
    key: 'bounceDomain',
    kind: 'string',
    default: 'bounce.localhost',
    doc: 'domain of the VERP return path',
  },
  {
    env: 'BOUNCE_SMTP_PORT',
    key: 'bounceSmtpPort',
    kind: 'int',
    default: '2526',
    doc: 'SMTP port of the bounce mailbox (DSNs and complaints for the bounce domain), served by the API process; 0: off',
  },
  {
    env: 'BOUNCE_SMTP_MAX_MESSAGE_BYTES',
    key: 'bounceSmtpMaxMessageBytes',
    kind: 'int',
    default: '10485760',
    doc: 'largest message the bounce mailbox takes; 552 above it, never held past it (memory: about this x `BOUNCE_SMTP_MAX_CLIENTS`)',
  },
  {
    env: 'BOUNCE_SMTP_MAX_CLIENTS',
    key: 'bounceSmtpMaxClients',
    kind: 'int',
    default: '50',
    doc: 'concurrent bounce mailbox sessions; more are answered 421 and closed; 0: no cap',
  },
  {
    env: 'BOUNCE_SMTP_CLIENTS_PER_ADDRESS',
    key: 'bounceSmtpMaxClientsPerAddress',
    kind: 'int',
    default: '10',
    doc: 'concurrent bounce mailbox sessions from one client address; more are answered 421 and closed; 0: no cap',
  },
  {
    env: 'BOUNCE_SMTP_CONNECTS_PER_MINUTE',
    key: 'bounceSmtpConnectionsPerMinute',
    kind: 'int',
    default: '300',
    doc: 'new bounce mailbox sessions one client address may open a minute; more are answered 421 and closed; 0: no cap',
  },
  {
    env: 'BOUNCE_SMTP_IDLE_TIMEOUT_SECONDS',
    key: 'bounceSmtpIdleTimeoutSeconds',
    kind: 'int',
    default: '60',
    doc: 'a bounce mailbox session that sends nothing for this long is answered 421 and closed',
  },
  {
    env: 'NOTIFY_FROM',
    key: 'notifyFrom',
    kind: 'string',
    default: 'delivery-notices@localhost',
    doc: 'sender of status mails and failure notices',
  },
  {
    env: 'SEND_BATCH_SIZE',
    key: 'sendBatchSize',
    kind: 'int',
    // Issue 17: each batch costs six history events and a dozen statements whatever its size.
    default: '1000',
    doc: 'leads per send batch activity',
  },
  {
    env: 'SEND_BATCHES_IN_FLIGHT',
    key: 'sendBatchesInFlight',
    kind: 'int',
    default: '4',
    doc: "batch activities in flight per run; with W workers on a run, 4 × W keeps each worker's commit groups (and a message's cost) as with one, and the repeat bound grows with it",
  },
  {
    env: 'MAX_BATCHES_PER_EXECUTION',
    key: 'maxBatchesPerExecution',
    kind: 'int',
    default: '500',
    doc: 'batches after which a run workflow continues as new (history stays small)',
  },
  {
    env: 'BATCH_HEARTBEAT_TIMEOUT_SECONDS',
    key: 'batchHeartbeatTimeoutSeconds',
    kind: 'int',
    default: '10',
    doc: 'a send batch silent this long (its worker died, or Temporal lost it in a restart) is retried on another worker; batches heartbeat every second',
  },
  {
    env: 'INVALID_AFTER_ERRORS',
    key: 'invalidAfterErrors',
    kind: 'int',
    default: '3',
    doc: "consecutive errors that turn a lead's email validity flag invalid (the address itself is quarantined by `QUARANTINE_AFTER_ERRORS`)",
  },
  {
    env: 'QUARANTINE_AFTER_ERRORS',
    key: 'quarantineAfterErrors',
    kind: 'int',
    default: '5',
    doc: 'errors since its last delivery that quarantine an address, email or phone number; a hard unknown user or closed account quarantines at once',
  },
  {
    env: 'IMPORT_BATCH_ROWS',
    key: 'importBatchRows',
    kind: 'int',
    default: '5000',
    doc: 'rows per batch of a background CSV import (lead and address imports)',
  },
  {
    env: 'ASYNC_BOUNCE_WINDOW_SECONDS',
    key: 'asyncBounceWindowSeconds',
    kind: 'int',
    default: String(7 * 24 * 3600),
    doc: 'how long a completed run listens for asynchronous bounces',
  },
  {
    env: 'RETRY_SCHEDULE_DEFAULT',
    key: 'retryScheduleDefault',
    kind: 'string',
    default: '5x1h,4x1d',
    doc: "retry delays of errors whose reason has no schedule of its own: a unit s, m, h or d, `5x1h` repeats (default: 5 hourly, then 4 daily); `none`: no retries; a run's `retrySchedules` win",
  },
  {
    env: 'DELIVERY_VALIDITY_HOURS',
    key: 'deliveryValidityHours',
    kind: 'int',
    default: '0',
    doc: "the delivery's validity period: no retry later than this many hours after a send's first attempt (by its schedule), it ends 41606 instead; 0: as long as its schedule lasts",
  },
  {
    env: 'RUN_THROUGHPUT_PER_MINUTE',
    key: 'runThroughputPerMinute',
    kind: 'int',
    default: '3000',
    doc: "messages per minute a run's planned completion assumes until its channel's recent runs were measured",
  },
  {
    env: 'REMIND_MAIL_LEAD_MINUTES',
    key: 'remindMailLeadMinutes',
    kind: 'int',
    default: '60',
    doc: 'minutes before a scheduled start that the reminder mail goes out (a run may set its own)',
  },
  {
    env: 'TASK_QUEUE_WIZARD',
    key: 'taskQueueWizard',
    kind: 'string',
    default: 'wizard-runs',
    doc: 'task queue of run workflows and their bookkeeping activities',
  },
  ...channelKeys(),
  {
    env: 'LINE_API_BASE_URL',
    key: 'lineApiBaseUrl',
    kind: 'string',
    default: '',
    doc: 'LINE Messaging API base URL; empty: `npm start` runs the local LINE simulator, a standalone worker uses `https://api.line.me`',
  },
  {
    env: 'LINE_TIMEOUT_MS',
    key: 'lineTimeoutMs',
    kind: 'int',
    default: '10000',
    doc: 'timeout of one LINE API request, in milliseconds',
  },
  {
    env: 'WORKER_MAX_CONCURRENT_ACTIVITIES',
    key: 'workerMaxConcurrentActivities',
    kind: 'int',
    default: '8',
    doc: 'activity executions per worker and task queue',
  },
  {
    env: 'WORKER_METRICS_PORT',
    key: 'workerMetricsPort',
    kind: 'int',
    default: '9464',
    doc: "port of the standalone worker's Prometheus `/metrics` listener (`npm start`: the API's metrics listener covers the worker); 0: off",
  },
  {
    env: 'WORKER_MEMORY_LOG_SECONDS',
    key: 'workerMemoryLogSeconds',
    kind: 'int',
    default: '0',
    doc: "seconds between a standalone worker's memory lines (V8 heap, external, RSS and its anonymous and file-backed parts), JSON lines on standard error; for diagnosis; 0: off",
  },
  {
    env: 'METRICS_PORT',
    key: 'metricsPort',
    kind: 'int',
    default: '9465',
    doc: "port of the API process's Prometheus `/metrics` listener, separate from the API's port (no API key; keep it private); 0: off",
  },
  {
    env: 'METRICS_HOST',
    key: 'metricsHost',
    kind: 'string',
    default: '127.0.0.1',
    doc: 'listen address of both `/metrics` listeners (API process and standalone worker); loopback by default, widen it only for a private network',
  },
  { env: 'LOG_LEVEL', key: 'logLevel', kind: 'string', default: 'info', doc: 'pino log level' },
  {
    env: 'DATA_DIR',
    key: 'dataDir',
    kind: 'string',
    default: '.data',
    doc: '`npm start`: embedded PostgreSQL and Temporal state',
  },
  {
    env: 'TEMPORAL_UI_PORT',
    key: 'temporalUiPort',
    kind: 'int',
    default: '8233',
    doc: '`npm start`: Temporal web UI port',
  },
  {
    env: 'TEMPORAL_DEV_PORT',
    key: 'temporalDevPort',
    kind: 'int',
    default: '7233',
    doc: '`npm start`: gRPC port of the Temporal dev server it runs when `TEMPORAL_ADDRESS` is empty',
  },
  {
    env: 'SMTP_SINK_PORT',
    key: 'smtpSinkPort',
    kind: 'int',
    default: '2525',
    doc: '`npm start`: local SMTP sink port',
  },
  {
    env: 'EMBEDDED_PG_PORT',
    key: 'embeddedPostgresPort',
    kind: 'int',
    default: '54320',
    doc: '`npm start`: embedded PostgreSQL port',
  },
  {
    env: 'API_RATE_LIMIT_PER_MINUTE',
    key: 'apiRateLimitPerMinute',
    kind: 'int',
    default: '6000',
    doc: 'API requests per minute and API key',
  },
  {
    env: 'CONSOLE_SESSION_IDLE_MINUTES',
    key: 'consoleSessionIdleMinutes',
    kind: 'int',
    default: '30',
    doc: 'a console session unused for this many minutes ends (log in again)',
  },
  {
    env: 'CONSOLE_SESSION_MAX_HOURS',
    key: 'consoleSessionMaxHours',
    kind: 'int',
    default: '12',
    doc: 'a console session ends this many hours after its login, however much it is used',
  },
  {
    env: 'CONSOLE_LOGIN_MAX_FAILURES',
    key: 'consoleLoginMaxFailures',
    kind: 'int',
    default: '5',
    doc: 'failed console logins for one user name within `CONSOLE_LOGIN_WINDOW_MINUTES` after which its logins get 429 (correct passwords too) until the oldest leaves the window; a successful login resets the count',
  },
  {
    env: 'CONSOLE_LOGIN_IP_MAX_FAILURES',
    key: 'consoleLoginMaxFailuresPerIp',
    kind: 'int',
    default: '5',
    doc: 'the same, counted per client address (whatever the user names)',
  },
  {
    env: 'CONSOLE_LOGIN_WINDOW_MINUTES',
    key: 'consoleLoginWindowMinutes',
    kind: 'int',
    default: '15',
    doc: 'the window failed console logins are counted in',
  },
  {
    env: 'DEFAULT_LANGUAGE',
    key: 'defaultLanguage',
    kind: 'string',
    default: 'ja',
    doc: "language of the API's labels (`ja` or `en`) when the request's Accept-Language names neither, and of the notices mailed (status, reminder and error mails); codes never change",
  },
  {
    env: 'ACCOUNT_TIME_ZONE',
    key: 'accountTimeZone',
    kind: 'string',
    default: 'Asia/Tokyo',
    doc: 'IANA time zone of the account: the days and months of `/v1/usage`, the offset of times shown in it, the times in notices',
  },
  {
    env: 'DNS_RESOLVER',
    key: 'dnsResolver',
    kind: 'string',
    default: '',
    doc: 'DNS server (`host:port`, e.g. `127.0.0.1:5353`) that sending-domain verification asks; empty: the system resolvers (`npm start`: its local DNS server)',
  },
  {
    env: 'DKIM_KEY_SECRET',
    key: 'dkimKeySecret',
    kind: 'string',
    default: '',
    secret: true,
    doc: 'key encrypting DKIM private keys at rest (AES-256-GCM): 64 hex digits, or a passphrase (hashed with SHA-256); required to register sending domains and to sign; `npm start`: a development key',
  },
  {
    env: 'SPF_RELAY',
    key: 'spfRelay',
    kind: 'string',
    default: 'ip4:127.0.0.1',
    doc: 'the SPF mechanism that authorizes our relay (`ip4:192.0.2.10`, `include:_spf.relay.example`): what the records to publish name and what verification looks for',
  },
  {
    env: 'ALLOW_UNAUTHENTICATED_SENDING',
    key: 'allowUnauthenticatedSending',
    kind: 'int',
    default: '0',
    doc: '1: mail from a From domain that is not registered or not verified goes out anyway (unsigned without a key), for development; 0: such sends are pre-errors 91003 / 91002',
  },
  {
    env: 'PREFLIGHT_COMPLAINT_WARN_BPS',
    key: 'preflightComplaintWarnBps',
    kind: 'int',
    default: '10',
    doc: "a run's pre-flight warns when its From domain's complaints over 30 days exceed this many per 10,000 delivered (10 = 0.1 %)",
  },
  {
    env: 'PREFLIGHT_COMPLAINT_REFUSE_BPS',
    key: 'preflightComplaintRefuseBps',
    kind: 'int',
    default: '30',
    doc: 'the pre-flight refuses the run (ends in error, nothing sent) above this many complaints per 10,000 delivered (30 = 0.3 %)',
  },
  {
    env: 'PREFLIGHT_MIN_DELIVERED',
    key: 'preflightComplaintMinDelivered',
    kind: 'int',
    default: '1000',
    doc: 'below this many delivered messages over 30 days a high complaint rate only warns (too few to judge)',
  },
  {
    env: 'PREFLIGHT_EXCLUDED_WARN_PCT',
    key: 'preflightExcludedWarnPercent',
    kind: 'int',
    default: '30',
    doc: 'the pre-flight warns when more than this percentage of the matched leads is excluded (invalid, quarantined, blocklisted, unsubscribed, …)',
  },
  {
    env: 'PREFLIGHT_EXCLUDED_REFUSE_PCT',
    key: 'preflightExcludedRefusePercent',
    kind: 'int',
    default: '100',
    doc: 'the pre-flight refuses the run above this percentage of excluded leads; 100: never',
  },
];

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const out: Record<string, string | number> = {};
  const problems: string[] = [];
  for (const spec of CONFIG_KEYS) {
    const raw = (env[spec.env] ?? spec.default).trim();
    if (spec.kind === 'int') {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0)
        problems.push(`${spec.env} must be a non-negative integer, got "${raw}"`);
      out[spec.key] = n;
    } else if (spec.kind === 'url') {
      try {
        new URL(raw);
      } catch {
        problems.push(`${spec.env} must be an absolute URL, got "${raw}"`);
      }
      out[spec.key] = raw.replace(/\/+$/, '');
    } else {
      out[spec.key] = raw;
    }
  }
  if (Number(out.sendBatchSize) < 1) problems.push('SEND_BATCH_SIZE must be at least 1');
  if (Number(out.maxBatchesPerExecution) < 1) problems.push('MAX_BATCHES_PER_EXECUTION must be at least 1');
  if (Number(out.sendBatchesInFlight) < 1) problems.push('SEND_BATCHES_IN_FLIGHT must be at least 1');
  if (Number(out.batchHeartbeatTimeoutSeconds) < 3)
    problems.push('BATCH_HEARTBEAT_TIMEOUT_SECONDS must be at least 3 (batches heartbeat every second)');
  if (Number(out.invalidAfterErrors) < 1) problems.push('INVALID_AFTER_ERRORS must be at least 1');
  if (Number(out.quarantineAfterErrors) < 1) problems.push('QUARANTINE_AFTER_ERRORS must be at least 1');
  if (Number(out.importBatchRows) < 1) problems.push('IMPORT_BATCH_ROWS must be at least 1');
  if (Number(out.relayHoldSeconds) < 1) problems.push('RELAY_HOLD_SECONDS must be at least 1');
  if (Number(out.relayHoldMaxSeconds) < Number(out.relayHoldSeconds))
    problems.push('RELAY_HOLD_MAX_SECONDS must be at least RELAY_HOLD_SECONDS');
  if (Number(out.smsReceiptTimeoutSeconds) < 1)
    problems.push('SMS_RECEIPT_TIMEOUT_SECONDS must be at least 1');
  if (Number(out.lineTimeoutMs) < 1) problems.push('LINE_TIMEOUT_MS must be at least 1');
  if (Number(out.bounceSmtpMaxMessageBytes) < 1)
    problems.push('BOUNCE_SMTP_MAX_MESSAGE_BYTES must be at least 1');
  if (Number(out.bounceSmtpIdleTimeoutSeconds) < 1)
    problems.push('BOUNCE_SMTP_IDLE_TIMEOUT_SECONDS must be at least 1');
  if (out.lineApiBaseUrl !== '' && !/^https?:\/\/[^\s]+$/.test(String(out.lineApiBaseUrl))) {
    problems.push(`LINE_API_BASE_URL must be an http(s) URL or empty, got "${String(out.lineApiBaseUrl)}"`);
  }
  for (const env of [
    'CONSOLE_SESSION_IDLE_MINUTES',
    'CONSOLE_SESSION_MAX_HOURS',
    'CONSOLE_LOGIN_MAX_FAILURES',
    'CONSOLE_LOGIN_IP_MAX_FAILURES',
    'CONSOLE_LOGIN_WINDOW_MINUTES',
  ]) {
    const spec = CONFIG_KEYS.find((k) => k.env === env)!;
    if (Number(out[spec.key]) < 1) problems.push(`${env} must be at least 1`);
  }
  if (out.defaultLanguage !== 'ja' && out.defaultLanguage !== 'en')
    problems.push(`DEFAULT_LANGUAGE must be ja or en, got "${String(out.defaultLanguage)}"`);
  if (!isTimeZone(String(out.accountTimeZone)))
    problems.push(`ACCOUNT_TIME_ZONE must be an IANA time zone, got "${String(out.accountTimeZone)}"`);
  const retryDefault = parseRetryDelays(String(out.retryScheduleDefault));
  if (!retryDefault.ok) problems.push(`RETRY_SCHEDULE_DEFAULT ${retryDefault.error}`);
  if (Number(out.deliveryValidityHours) > MAX_VALIDITY_HOURS)
    problems.push(
      `DELIVERY_VALIDITY_HOURS must be at most ${MAX_VALIDITY_HOURS} (a year), got ${String(out.deliveryValidityHours)}`,
    );
  if (Number(out.allowUnauthenticatedSending) > 1)
    problems.push('ALLOW_UNAUTHENTICATED_SENDING must be 0 or 1');
  if (
    out.dnsResolver !== '' &&
    !/^[^\s:]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i.test(String(out.dnsResolver))
  )
    problems.push(`DNS_RESOLVER must be host:port or empty, got "${String(out.dnsResolver)}"`);
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return out as unknown as AppConfig;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone !== '';
  } catch {
    return false;
  }
}

/** Config for logs: secrets masked, credentials in URLs removed. */
export function describeConfig(cfg: AppConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of CONFIG_KEYS) {
    const v = cfg[spec.key];
    out[spec.key] = spec.secret && v ? redactUrl(String(v)) : v;
  }
  return out;
}

export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '***';
  }
}

/** The task queue a channel's send activities run on: one per channel, so each scales and is rate-limited on its own. */
export function sendQueueFor(config: AppConfig, channel: string): string {
  return config[taskQueueKey(isChannel(channel) ? channel : 'email')];
}

/** A channel's send batches started per second across all workers (0: no cap). */
export function sendRateFor(config: AppConfig, channel: Channel): number {
  return config[batchesPerSecondKey(channel)];
}

/**
 * The installation's retry settings (RETRY_SCHEDULE_DEFAULT, DELIVERY_VALIDITY_HOURS), for the
 * senders' retry plans. loadConfig validated them; a value set by code that does not parse throws.
 */
export function retryPolicyOf(
  config: Pick<AppConfig, 'retryScheduleDefault' | 'deliveryValidityHours'>,
): RetryPolicy {
  const parsed = parseRetryDelays(config.retryScheduleDefault);
  if (!parsed.ok) throw new ConfigError(`invalid configuration: RETRY_SCHEDULE_DEFAULT ${parsed.error}`);
  return { defaultSchedule: parsed.value, validityMs: config.deliveryValidityHours * 3_600_000 };
}
