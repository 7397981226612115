// SPEC 10 (second manual): a reply text no rule knows yet (`undefined`) does
// not count against the address until it is qualified. Through the real
// pipeline: the SMTP sink answers RCPT with a 5xx text no rule knows; the run's
// send is recorded as an undefined error, and the lead stays valid with no
// error counted and no address status. Once a user rule qualifies the text and
// requalify runs, the send takes the qualification and the error counts.
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sendBatchSize: 10, sendBatchesInFlight: 2 });
});

afterAll(async () => {
  await h?.stop();
});

async function lead(email: string): Promise<number> {
  const res = await h.api('POST', '/v1/leads', { name: 'Lead', email });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function runTo(leadId: number): Promise<number> {
  const tpl = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `T ${uniqueSuffix()}`,
    subject: 'Hi',
    from: 'news@example.test',
    bodyText: 'Hello',
  });
  expect(tpl.status).toBe(201);
  const created = await h.api('POST', '/v1/wizard-runs', {
    templateId: tpl.body.id,
    leadIds: [leadId],
    // One retry a second later, so the run's first pass and its wave end soon.
    retrySchedules: { '*': { delaysMs: [1000] }, unreachable: { delaysMs: [1000] } },
  });
  expect(created.status).toBe(201);
  await waitFor(
    `run ${created.body.id} to complete`,
    async () => {
      const r = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
      // Completed after its first pass; its retry wave ends after that.
      return r.status === 'completed' && r.waves.finishedAt ? r : null;
    },
    90_000,
  );
  return created.body.id;
}

async function sendOf(runId: number) {
  // The send is final once no retry is planned.
  return waitFor(
    `the send of run ${runId} to be final`,
    async () => {
      const r = await h.pool.query(
        `SELECT * FROM send WHERE run_id = $1 AND result <> 'pending' AND next_attempt_at IS NULL`,
        [runId],
      );
      return r.rows[0] ?? null;
    },
    60_000,
  );
}

async function addressStatus(address: string) {
  const r = await h.pool.query(
    `SELECT status, error_count FROM address_status WHERE channel = 'email' AND address = lower($1)`,
    [address],
  );
  return r.rows[0] ?? null;
}

describe('an undefined reply text while sending', () => {
  test('when the receiving server answers a text no rule knows, then the address is not counted against until the text is qualified', async () => {
    const tag = uniqueSuffix();
    const address = `odd.${tag}@example.test`;
    const text = `Zorglub ${tag} frobnicated the quux`;
    h.sink.script(address, { kind: 'reject-rcpt', code: 559, text });
    const id = await lead(address);

    // Three messages, as many as the default threshold of consecutive errors.
    for (let i = 0; i < 3; i++) {
      const send = await sendOf(await runTo(id));
      expect(send).toMatchObject({ result: 'error', error_type: 'undefined', error_reason: 'undefined' });
      expect(send.detail).toContain(text);
    }
    expect((await h.api('GET', `/v1/leads/${id}`)).body).toMatchObject({
      emailValid: true,
      emailErrorCount: 0,
    });
    expect(await addressStatus(address)).toBeNull();

    // A user qualifies the text: requalify applies it to the sends that waited.
    const rule = await h.api('POST', '/v1/bounce-rules', {
      pattern: `Zorglub ${tag} frobnicated`,
      isRegex: false,
      errorType: 'hard',
      reason: 'unknown_user',
      code: 42550,
    });
    expect(rule.status).toBe(201);
    const requalified = await h.api('POST', '/v1/bounce-rules/requalify');
    expect(requalified.status).toBe(200);
    expect(requalified.body.sends).toBeGreaterThanOrEqual(3);
    const sends = await h.pool.query(
      `SELECT error_type, error_reason FROM send WHERE lead_id = $1 ORDER BY id`,
      [id],
    );
    expect(sends.rows).toEqual(
      Array.from({ length: 3 }, () => ({ error_type: 'hard', error_reason: 'unknown_user' })),
    );
    expect((await h.api('GET', `/v1/leads/${id}`)).body).toMatchObject({
      emailValid: false,
      emailErrorCount: 3,
    });
    expect(await addressStatus(address)).toMatchObject({ status: 'quarantined', error_count: 3 });

    // Requalifying again changes nothing more.
    await h.api('POST', '/v1/bounce-rules/requalify');
    expect((await h.api('GET', `/v1/leads/${id}`)).body.emailErrorCount).toBe(3);
  });
});
