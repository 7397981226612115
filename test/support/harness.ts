// What an integration or end-to-end test needs, all real: the suite's
// PostgreSQL and Temporal server (from global setup), an SMTP sink on its own
// port, a worker on task queues of its own (so test files never take each
// other's tasks), and the API listening on a real port.
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { buildApp, type AppTestHooks } from '../../api/app';
import { createEmailTransport, type EmailTransport } from '../../channels/email/transport';
import { loadConfig, taskQueueKey, type AppConfig } from '../../config/config';
import { CHANNELS } from '../../domain/channels';
import { createPool } from '../../db/pool';
import { createApiKey } from '../../db/api-key-queries';
import { SmtpSink } from '../../dev/smtp-sink';
import { LineSimulator } from '../../dev/line-simulator';
import { SmscSimulator } from '../../dev/smsc-simulator';
import { createSmsTransport, type SmsTransport } from '../../channels/sms/transport';
import { createWorkers, startSmsReceipts } from '../../worker/create-workers';
import { resolveTemporalTestServer } from '../../dev/temporal-binary';
import { SEARCH_ATTRIBUTE_DEFINITIONS } from '../../workflows/search-attributes';
import { routeTemporalLogs, testLogger } from './test-log';

/**
 * The API's clock (AppDeps.clock): the system time plus an offset a test can
 * only move forward, so "a reader clicks 5 s after delivery" needs no sleep.
 */
export interface TestClock {
  now(): Date;
  /** Move the clock forward to `at` (no-op if it is already past it). */
  advanceTo(at: Date | number): void;
}

export function createTestClock(): TestClock {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    advanceTo(at) {
      const behind = new Date(at).getTime() - (Date.now() + offsetMs);
      if (behind > 0) offsetMs += behind;
    },
  };
}

export interface Harness {
  config: AppConfig;
  /** The clock the API records tracking events with. */
  clock: TestClock;
  /**
   * With `{ timeSkipping: true }`: move the Temporal server's clock forward
   * (durable timers such as a scheduled run's fire at once). Otherwise absent.
   */
  skipTime?: (ms: number) => Promise<void>;
  /** With `{ timeSkipping: true }`: the Temporal server's time (ahead of the wall clock once skipped). */
  temporalNow?: () => Promise<Date>;
  pool: Pool;
  sink: SmtpSink;
  /** The LINE Messaging API the worker pushes to. */
  line: LineSimulator;
  /** The SMSC the worker's SMS transport is bound to. */
  smsc: SmscSimulator;
  sms: SmsTransport;
  email: EmailTransport;
  temporal: Client;
  app: FastifyInstance;
  baseUrl: string;
  workers: Worker[];
  /** An admin key (read, write, admin) that `api()` sends unless told otherwise. */
  apiKey: string;
  /** `key: null` sends no key; `headers` adds or overrides request headers. */
  api<T = any>(
    method: string,
    path: string,
    body?: unknown,
    opts?: { key?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

export interface HarnessOptions {
  /** Fault injection inside the API (see AppTestHooks). */
  appHooks?: AppTestHooks;
  /** false: the worker has no SMS transport, as a worker started without SMPP_URL. */
  sms?: boolean;
  /**
   * Run the file against Temporal's time-skipping test server instead of the
   * suite's dev server, so a test can fire durable timers with `skipTime`
   * instead of waiting for them.
   */
  timeSkipping?: boolean;
}

/** The time-skipping test server, with the search attributes the API and the workflow set. */
async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const path = resolveTemporalTestServer();
  const env = await TestWorkflowEnvironment.createTimeSkipping(
    path ? { server: { executable: { type: 'existing-path', path } } } : undefined,
  );
  // temporal.api.enums.v1.IndexedValueType: KEYWORD = 2, DATETIME = 6.
  const types: Record<string, number> = { Keyword: 2, Datetime: 6 };
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTE_DEFINITIONS.map(([k, t]) => [k, types[t]!])),
  });
  return env;
}

export async function startHarness(
  overrides: Partial<AppConfig> = {},
  opts: HarnessOptions = {},
): Promise<Harness> {
  const databaseUrl = process.env.TEST_DATABASE_URL_READY;
  if (!databaseUrl || !process.env.TEST_TEMPORAL_ADDRESS)
    throw new Error('run through jest: global setup provides the servers');
  routeTemporalLogs();
  const timeSkipping = opts.timeSkipping ? await startTimeSkippingServer() : null;
  const temporalAddress = timeSkipping?.address ?? process.env.TEST_TEMPORAL_ADDRESS;
  const suffix = uniqueSuffix();
  const sink = new SmtpSink({ port: 0 });
  const { url: smtpUrl } = await sink.start();
  const line = new LineSimulator();
  const { baseUrl: lineApiBaseUrl } = await line.start();
  const smsc = new SmscSimulator();
  const { host: smscHost, port: smscPort } = await smsc.start();
  const config: AppConfig = {
    ...loadConfig({}),
    databaseUrl,
    temporalAddress,
    smtpUrl,
    taskQueueWizard: `wizard-${suffix}`,
    // Every channel's send queue is this run's own (email-<suffix>, sms-<suffix>, …).
    ...Object.fromEntries(CHANNELS.map((c) => [taskQueueKey(c), `${c}-${suffix}`])),
    smppUrl: `smpp://orchestrator:secret@${smscHost}:${smscPort}`,
    lineApiBaseUrl,
    sendBatchSize: 20,
    sendBatchesInFlight: 3,
    // Runs close when sending ends unless a test listens for asynchronous reports.
    asyncBounceWindowSeconds: 0,
    // No fixed ports: a test that wants the metrics listener asks for one.
    metricsPort: 0,
    workerMetricsPort: 0,
    // Issue 19: test files send from many ad-hoc From domains (example.test, x.jp, …), so mail from
    // unregistered domains goes out unsigned, as in development; a domain a test registers is signed
    // and gated. test/e2e/sending-domains.test.ts turns this off and serves DNS itself.
    allowUnauthenticatedSending: 1,
    dkimKeySecret: randomBytes(32).toString('hex'),
    ...overrides,
  };
  // INFO and up, in the test file's log (printed when one of its tests fails).
  const logger = testLogger('harness');
  const pool = createPool(databaseUrl, 10);
  const email = createEmailTransport({
    url: config.smtpUrl,
    maxConnections: config.smtpMaxConnections,
    maxMessages: config.smtpMaxMessages,
  });
  const nativeConnection = timeSkipping
    ? timeSkipping.nativeConnection
    : await NativeConnection.connect({ address: temporalAddress });
  const sms = createSmsTransport({
    host: smscHost,
    port: smscPort,
    systemId: 'orchestrator',
    password: 'secret',
    reconnectMs: 200,
  });
  const receipts = startSmsReceipts({ pool, sms, logger, config });
  const workers = await createWorkers({
    connection: nativeConnection,
    namespace: 'default',
    pool,
    email,
    logger,
    config,
    sms: opts.sms === false ? undefined : sms,
    schedules: !timeSkipping,
  });
  const running = Promise.all(workers.map((w) => w.run()));
  const connection = timeSkipping ? null : await Connection.connect({ address: temporalAddress });
  const temporal = timeSkipping ? timeSkipping.client : new Client({ connection: connection! });
  const clock = createTestClock();
  const app = await buildApp({
    pool,
    temporal,
    config,
    logger,
    clock: () => clock.now(),
    testHooks: opts.appHooks,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { key: apiKey } = await createApiKey(pool, `test-${suffix}`, ['read', 'write', 'admin']);
  const addr = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  return {
    config,
    clock,
    ...(timeSkipping
      ? {
          skipTime: (ms: number) => timeSkipping.sleep(ms),
          temporalNow: async () => new Date(await timeSkipping.currentTimeMs()),
        }
      : {}),
    pool,
    sink,
    line,
    smsc,
    sms,
    email,
    temporal,
    app,
    baseUrl,
    workers,
    apiKey,
    async api(method, path, body, opts = {}) {
      const key = opts.key === undefined ? apiKey : opts.key;
      const headers: Record<string, string> = {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...opts.headers,
      };
      const raw = typeof body === 'string' && headers['content-type'] !== 'application/json';
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : raw ? (body as string) : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async stop() {
      await app.close();
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      await receipts.stop();
      await sms.close();
      email.close();
      if (timeSkipping) await timeSkipping.teardown();
      else {
        await connection!.close();
        await nativeConnection.close();
      }
      await pool.end();
      await sink.stop();
      await line.stop();
      await smsc.stop();
    },
  };
}

/**
 * Poll `probe` until it returns something truthy. The bound is generous on
 * purpose (a busy machine is slow, not wrong); it only limits how long a real
 * failure takes to report.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 180_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
