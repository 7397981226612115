// Fault scenario 4: our own SMTP relay fails. A fault of the relay itself (refused or dropped
// connections, its host name not resolving, AUTH refused, relaying refused for everybody) is
// never the recipients' fault (SPEC §10): no lead's counter moves, no address changes state, the
// sends wait (held like MX holds), the run says why, and once the relay works again every message
// arrives exactly once, counted by its send token.
// Every wait is on a condition (database state, sink counters), never on the clock.
import { NativeConnection, type Worker } from '@temporalio/worker';
import pino from 'pino';
import { createEmailTransport } from '../../channels/email/transport';
import { SmtpSink } from '../../dev/smtp-sink';
import { metricsText } from '../../observability/metrics';
import { createWorkers } from '../../worker/create-workers';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { withSendTokens } from '../../db/send-token';

// A busy 2-core machine: conditions are polled for up to this long.
const BOUND_MS = 180_000;
jest.setTimeout(600_000);

let h: Harness;
let relay: SmtpSink;
let relayPort: number;
const credentials = 'relay-user:relay-secret';

// Holds end after a second (then as long as the outage lasted, at most two), so waves come fast.
const FAST_HOLDS = { relayHoldSeconds: 1, relayHoldMaxSeconds: 2 };

beforeAll(async () => {
  // Our relay: the sink, logged into with credentials so that it can refuse them.
  relay = new SmtpSink({ port: 0 });
  relayPort = (await relay.start()).port;
  h = await startHarness({
    smtpUrl: `smtp://${credentials}@127.0.0.1:${relayPort}`,
    sendBatchSize: 10,
    sendBatchesInFlight: 1,
    ...FAST_HOLDS,
  });
});

afterAll(async () => {
  await h?.stop();
  await relay?.stop();
});

const FAST = { '*': { delaysMs: [1000, 1000, 1000] }, unreachable: { delaysMs: [1000, 1000, 1000] } };

async function startRun(on: Harness, addresses: string[]) {
  const ids: number[] = [];
  for (const a of addresses) ids.push((await on.api('POST', '/v1/leads', { name: 'R', email: a })).body.id);
  const tpl = await on.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Relay ${uniqueSuffix()}`,
    subject: 'Hi',
    from: 'n@example.test',
    bodyText: 'x',
  });
  const created = await on.api('POST', '/v1/wizard-runs', {
    templateId: tpl.body.id,
    leadIds: ids,
    retrySchedules: FAST,
  });
  expect(created.status).toBe(201);
  return { runId: created.body.id as number, leadIds: ids };
}

async function completed(on: Harness, runId: number) {
  return waitFor(
    'completion',
    async () => {
      const r = (await on.api('GET', `/v1/wizard-runs/${runId}`)).body;
      return r.status === 'completed' ? r : null;
    },
    BOUND_MS,
  );
}

/** The run says it waits for the relay, with this reason. */
async function heldFor(on: Harness, runId: number, reason: string) {
  return waitFor(
    `the run to wait for the relay (${reason})`,
    async () => {
      const r = (await on.api('GET', `/v1/wizard-runs/${runId}`)).body;
      return r.hold?.reason === reason ? r : null;
    },
    BOUND_MS,
  );
}

/** No lead's validity, no address status, no attempt and no counter of the run moved. */
async function nothingBlamed(on: Harness, runId: number, leadIds: number[]) {
  const leads = (
    await on.pool.query('SELECT email, email_valid, email_error_count FROM lead WHERE id = ANY($1::int[])', [
      leadIds,
    ])
  ).rows;
  expect(leads).toHaveLength(leadIds.length);
  for (const l of leads) expect(l).toMatchObject({ email_valid: true, email_error_count: 0 });
  const statuses = await on.pool.query(
    `SELECT address, status, error_count FROM address_status WHERE channel = 'email' AND address = ANY($1::text[])`,
    [leads.map((l) => String(l.email).toLowerCase())],
  );
  expect(statuses.rows).toEqual([]);
  const sends = (
    await on.pool.query(
      `SELECT s.result, s.code, (SELECT count(*)::int FROM send_attempt a WHERE a.send_id = s.id) AS attempts_recorded
         FROM send s WHERE s.run_id = $1`,
      [runId],
    )
  ).rows;
  for (const s of sends) expect(s).toMatchObject({ result: 'pending', code: null, attempts_recorded: 0 });
  const run = (await on.api('GET', `/v1/wizard-runs/${runId}`)).body;
  expect(run.counters).toMatchObject({ sent: 0, delivered: 0, errors: 0, preErrors: 0 });
}

/** Every send of the run was delivered and its message arrived exactly once; every lead is valid. */
async function allArrivedOnce(on: Harness, runId: number, leadIds: number[], sink: SmtpSink) {
  const final = await completed(on, runId);
  expect(final.counters).toMatchObject({
    targets: leadIds.length,
    sent: leadIds.length,
    delivered: leadIds.length,
    errors: 0,
  });
  expect(final.hold).toBeNull();
  expect(final.statusDetail).toBeNull();
  const sends = await withSendTokens(
    on.pool,
    (await on.pool.query('SELECT id::text AS id, token, code FROM send WHERE run_id = $1', [runId])).rows,
    (r) => r.id,
  );
  expect(sends).toHaveLength(leadIds.length);
  for (const s of sends) {
    expect(s.code).toBe(40000);
    expect(sink.messages.filter((m) => m.headers.get('x-send-token') === s.token)).toHaveLength(1);
  }
  const leads = (
    await on.pool.query('SELECT email_valid, email_error_count FROM lead WHERE id = ANY($1::int[])', [
      leadIds,
    ])
  ).rows;
  for (const l of leads) expect(l).toMatchObject({ email_valid: true, email_error_count: 0 });
}

async function relayFaultGauge(reason: string): Promise<number | null> {
  const line = (await metricsText())
    .split('\n')
    .find((l) => l.startsWith(`delivery_relay_fault{reason="${reason}"}`));
  return line === undefined ? null : Number(line.split(' ').pop());
}

/** Two domains, so that a refusal for everybody is told from one domain's policy. */
function addressesFor(what: string, n: number): string[] {
  const tag = uniqueSuffix();
  return Array.from({ length: n }, (_, i) => `${what}${i}.${tag}@${i % 2 ? 'a' : 'b'}.example.test`);
}

afterEach(() => {
  relay.refuse(null);
  relay.clearScripts();
});

test('when the relay answers 421 (closing the channel) or drops the connection mid-DATA or at RCPT once, then the message arrives exactly once and no lead is blamed', async () => {
  const tag = uniqueSuffix();
  const a421 = `a421.${tag}@example.test`;
  const drop = `dropdata.${tag}@example.test`;
  const dropRcpt = `droprcpt.${tag}@example.test`;
  const fine = `fine.${tag}@example.test`;
  relay.script(a421, [
    { kind: 'reject-rcpt', code: 421, enhanced: '4.7.0', text: 'try again later' },
    { kind: 'accept' },
  ]);
  relay.script(drop, [{ kind: 'drop-data' }, { kind: 'accept' }]);
  relay.script(dropRcpt, [{ kind: 'drop-rcpt' }, { kind: 'accept' }]);
  const { runId, leadIds } = await startRun(h, [a421, drop, dropRcpt, fine]);
  await allArrivedOnce(h, runId, leadIds, relay);
  const attempts = Object.fromEntries(
    (await h.pool.query('SELECT address, attempts FROM send WHERE run_id = $1', [runId])).rows.map((s) => [
      s.address,
      s.attempts,
    ]),
  );
  // A 421 closes the channel (nodemailer reports it at CONN) and a dropped connection is the
  // relay's fault too: each of these sends waited, and its one recorded attempt is the delivery.
  expect(attempts).toEqual({ [a421]: 1, [drop]: 1, [dropRcpt]: 1, [fine]: 1 });
});

test('when the relay refuses our AUTH, then the sends wait with the reason shown, no lead or address changes, and all arrive once after the relay accepts us again', async () => {
  relay.refuse({ kind: 'auth' });
  const { runId, leadIds } = await startRun(h, addressesFor('auth', 4));
  const held = await heldFor(h, runId, 'relay_auth');
  expect(held.status).toBe('running');
  expect(held.statusDetail).toMatch(/relay/i);
  expect(held.hold.detail).toMatch(/535/);
  // The relay is tried again (held sends come back in waves) and refused again.
  const refusedBefore = relay.refusals();
  await waitFor('the relay to be tried again', async () => relay.refusals() > refusedBefore, BOUND_MS);
  await nothingBlamed(h, runId, leadIds);
  expect(await relayFaultGauge('relay_auth')).toBe(1);
  relay.refuse(null);
  await allArrivedOnce(h, runId, leadIds, relay);
  expect(await relayFaultGauge('relay_auth')).toBe(0);
});

test('when the relay greets every connection with 421, then the sends wait untouched and all arrive once when it greets again', async () => {
  relay.refuse({ kind: 'greeting' });
  const { runId, leadIds } = await startRun(h, addressesFor('greet', 4));
  const held = await heldFor(h, runId, 'relay_unavailable');
  expect(held.hold.detail).toMatch(/421/);
  await nothingBlamed(h, runId, leadIds);
  relay.refuse(null);
  await allArrivedOnce(h, runId, leadIds, relay);
});

test('when the relay refuses relaying (554 5.7.1 Relay access denied at RCPT for everyone), then no recipient is invalidated and all arrive once after it relays again', async () => {
  relay.refuse({ kind: 'relay' });
  const { runId, leadIds } = await startRun(h, addressesFor('relay', 4));
  const held = await heldFor(h, runId, 'relay_refused');
  expect(held.hold.detail).toMatch(/Relay access denied/);
  const refusedBefore = relay.refusals();
  await waitFor('the relay to be tried again', async () => relay.refusals() > refusedBefore, BOUND_MS);
  await nothingBlamed(h, runId, leadIds);
  relay.refuse(null);
  await allArrivedOnce(h, runId, leadIds, relay);
});

test('when the relay gives every recipient of several domains the same refusal without saying "relay", then it is still taken as the relay refusing and nobody is invalidated', async () => {
  // 550 5.7.1 alone would be 42521, "refused by the receiving server": invalid after one error.
  relay.refuse({ kind: 'relay', code: 550, enhanced: '5.7.1', text: 'Access denied' });
  const { runId, leadIds } = await startRun(h, addressesFor('alike', 4));
  await heldFor(h, runId, 'relay_refused');
  await nothingBlamed(h, runId, leadIds);
  relay.refuse(null);
  await allArrivedOnce(h, runId, leadIds, relay);
});

test('when the relay refuses connections for a while, then the sends wait untouched and everything is delivered once it is back', async () => {
  await relay.stop();
  let restarted = false;
  try {
    const { runId, leadIds } = await startRun(h, addressesFor('down', 6));
    const held = await heldFor(h, runId, 'relay_unreachable');
    expect(held.hold.detail).toMatch(/ECONNREFUSED/);
    // Held at least twice: the first hold ended, the relay was tried and found down again.
    await waitFor(
      'a second try of the relay',
      async () => {
        const r = (await h.api('GET', `/v1/wizard-runs/${runId}`)).body;
        return r.hold && Date.parse(r.hold.nextTryAt) > Date.parse(held.hold.nextTryAt);
      },
      BOUND_MS,
    );
    await nothingBlamed(h, runId, leadIds);
    relay = new SmtpSink({ port: relayPort });
    await relay.start();
    restarted = true;
    await allArrivedOnce(h, runId, leadIds, relay);
  } finally {
    if (!restarted) {
      relay = new SmtpSink({ port: relayPort });
      await relay.start();
    }
  }
});

test('when a single send meets a relay fault, then the lead and the address stay untouched', async () => {
  relay.refuse({ kind: 'relay' });
  const [address] = addressesFor('single', 1);
  const id = (await h.api('POST', '/v1/leads', { name: 'S', email: address })).body.id;
  const tpl = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Single ${uniqueSuffix()}`,
    subject: 'Hi',
    from: 'n@example.test',
    bodyText: 'x',
  });
  const res = await h.api('POST', '/v1/messages', { leadId: id, templateId: tpl.body.id });
  // 201 with the result, or 202 when a busy machine took longer than the API waits: then poll.
  expect([201, 202]).toContain(res.status);
  const send = await waitFor(
    'the single send to be recorded',
    async () => {
      const row = (
        await h.pool.query('SELECT result, error_reason, detail FROM send WHERE id = $1', [res.body.id])
      ).rows[0];
      return row && row.result !== 'pending' ? row : null;
    },
    BOUND_MS,
  );
  expect(send).toMatchObject({ result: 'error', error_reason: 'unreachable' });
  expect(send.detail).toMatch(/Relay access denied/);
  const lead = (await h.pool.query('SELECT email_valid, email_error_count FROM lead WHERE id = $1', [id]))
    .rows[0];
  expect(lead).toEqual({ email_valid: true, email_error_count: 0 });
  const statuses = await h.pool.query(`SELECT 1 FROM address_status WHERE address = lower($1)`, [address]);
  expect(statuses.rows).toEqual([]);
});

describe('an unresolvable relay host name', () => {
  let bad: Harness | null = null;
  let replacement: { workers: Worker[]; running: Promise<unknown>; connection: NativeConnection } | null =
    null;

  afterAll(async () => {
    if (replacement) {
      for (const w of replacement.workers) if (w.getState() === 'RUNNING') w.shutdown();
      await replacement.running;
      await replacement.connection.close();
    }
    await bad?.stop();
  });

  test('when SMTP_URL names a host that never resolves, then the sends wait untouched, and a worker restarted with a good URL delivers each once', async () => {
    bad = await startHarness({ smtpUrl: 'smtp://relay.invalid:2525', ...FAST_HOLDS });
    const { runId, leadIds } = await startRun(bad, addressesFor('dns', 4));
    const held = await heldFor(bad, runId, 'relay_dns');
    expect(held.hold.detail).toMatch(/relay\.invalid/);
    await nothingBlamed(bad, runId, leadIds);
    expect(await relayFaultGauge('relay_dns')).toBe(1);

    // The operator fixes SMTP_URL and restarts the worker: same task queues, a good relay.
    for (const w of bad.workers) w.shutdown();
    await Promise.all(
      bad.workers.map((w) =>
        waitFor('the old worker to stop', async () => w.getState() === 'STOPPED', BOUND_MS),
      ),
    );
    const config = { ...bad.config, smtpUrl: `smtp://127.0.0.1:${relayPort}` };
    const connection = await NativeConnection.connect({ address: config.temporalAddress });
    const workers = await createWorkers({
      connection,
      namespace: 'default',
      pool: bad.pool,
      email: createEmailTransport({
        url: config.smtpUrl,
        maxConnections: config.smtpMaxConnections,
        maxMessages: config.smtpMaxMessages,
      }),
      logger: pino({ level: 'silent' }),
      config,
    });
    replacement = { workers, running: Promise.all(workers.map((w) => w.run())), connection };
    await allArrivedOnce(bad, runId, leadIds, relay);
  });
});
