// Fault scenario 4: the SMTP relay refuses connections, answers 421, and
// drops the connection in the middle of DATA. The affected messages are
// retried by the run's waves (SPEC 4), none is lost, and none is doubled:
// each recipient's mail arrives exactly once, counted by its send token.
// (A drop after the final dot is the one ambiguous case; see README, reliability.)
import { SmtpSink } from '../../dev/smtp-sink';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sendBatchSize: 10, sendBatchesInFlight: 1 });
});

afterAll(async () => {
  await h?.stop();
});

const FAST = { '*': { delaysMs: [1000, 1000, 1000] }, unreachable: { delaysMs: [1000, 1000, 1000] } };

async function runTo(addresses: string[]) {
  const ids: number[] = [];
  for (const a of addresses) ids.push((await h.api('POST', '/v1/leads', { name: 'R', email: a })).body.id);
  const tpl = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Relay ${uniqueSuffix()}`,
    subject: 'Hi',
    from: 'n@example.test',
    bodyText: 'x',
  });
  return h.api('POST', '/v1/wizard-runs', { templateId: tpl.body.id, leadIds: ids, retrySchedules: FAST });
}

async function completed(runId: number) {
  return waitFor(
    'completion',
    async () => {
      const r = (await h.api('GET', `/v1/wizard-runs/${runId}`)).body;
      return r.status === 'completed' ? r : null;
    },
    60_000,
  );
}

test('when the relay answers 421 or drops the connection mid-DATA once, then the message is retried and arrives exactly once', async () => {
  const tag = uniqueSuffix();
  const a421 = `a421.${tag}@example.test`;
  const drop = `dropdata.${tag}@example.test`;
  const dropRcpt = `droprcpt.${tag}@example.test`;
  const fine = `fine.${tag}@example.test`;
  h.sink.script(a421, [
    { kind: 'reject-rcpt', code: 421, enhanced: '4.7.0', text: 'try again later' },
    { kind: 'accept' },
  ]);
  h.sink.script(drop, [{ kind: 'drop-data' }, { kind: 'accept' }]);
  h.sink.script(dropRcpt, [{ kind: 'drop-rcpt' }, { kind: 'accept' }]);
  const created = await runTo([a421, drop, dropRcpt, fine]);
  const final = await completed(created.body.id);
  expect(final.counters).toMatchObject({ targets: 4, sent: 4, delivered: 4, errors: 0 });
  const sends = (
    await h.pool.query('SELECT address, token, attempts, code FROM send WHERE run_id = $1', [created.body.id])
  ).rows;
  for (const s of sends) {
    expect(s.code).toBe(40000);
    expect(h.sink.messages.filter((m) => m.headers.get('x-send-token') === s.token)).toHaveLength(1);
  }
  const attempts = Object.fromEntries(sends.map((s) => [s.address, s.attempts]));
  expect(attempts).toMatchObject({ [a421]: 2, [drop]: 2, [dropRcpt]: 2, [fine]: 1 });
});

test('when the relay refuses connections for a while, then the run waits in waves and delivers everything once it is back', async () => {
  const tag = uniqueSuffix();
  const addresses = Array.from({ length: 6 }, (_, i) => `down${i}.${tag}@example.test`);
  const port = Number(new URL(h.config.smtpUrl).port);
  await h.sink.stop();
  let revived: SmtpSink | null = null;
  try {
    const created = await runTo(addresses);
    // Every first attempt is refused at connect: soft 41601, waiting for a wave.
    await waitFor(
      'first attempts to fail',
      async () => (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body.counters.errors === 6,
    );
    const codes = (
      await h.pool.query(
        'SELECT DISTINCT a.code FROM send_attempt a JOIN send s ON s.id = a.send_id WHERE s.run_id = $1',
        [created.body.id],
      )
    ).rows;
    expect(codes.map((c) => c.code)).toEqual([41601]);
    revived = new SmtpSink({ port });
    await revived.start();
    const final = await completed(created.body.id);
    expect(final.counters).toMatchObject({ sent: 6, delivered: 6, errors: 0 });
    const tokens = (
      await h.pool.query('SELECT token FROM send WHERE run_id = $1', [created.body.id])
    ).rows.map((r) => r.token);
    for (const t of tokens)
      expect(revived.messages.filter((m) => m.headers.get('x-send-token') === t)).toHaveLength(1);
  } finally {
    await revived?.stop();
  }
});
