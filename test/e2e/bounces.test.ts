// Asynchronous reports end to end: a wizard run delivers to the SMTP sink,
// then DSNs and a complaint come back over real SMTP to the bounce mailbox and
// through POST /v1/inbound/bounces, and the qualification table is managed
// over HTTP. Nothing is mocked.
import nodemailer from 'nodemailer';
import { BounceMailbox } from '../../inbound/bounce-mailbox';
import { createApiKey } from '../../db/api-key-queries';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { arfReport, plainMail, postfixDsn, truncate, uniqueWord } from '../support/report-fixtures';
import { withSendTokens } from '../../db/send-token';

let h: Harness;
let mailbox: BounceMailbox;
let mailboxPort: number;
let key: string;

beforeAll(async () => {
  // The run stays open for its asynchronous-bounce window, so reports reach it by signal.
  h = await startHarness({ asyncBounceWindowSeconds: 300 });
  mailbox = new BounceMailbox(
    {
      pool: h.pool,
      temporal: h.temporal,
      bounceDomain: h.config.bounceDomain,
      invalidAfterErrors: h.config.invalidAfterErrors,
    },
    { port: 0, host: '127.0.0.1' },
  );
  mailboxPort = (await mailbox.start()).port;
  key = (await createApiKey(h.pool, `bounces-${uniqueSuffix()}`, ['read', 'write', 'admin'])).key;
});

afterAll(async () => {
  await mailbox?.stop();
  await h?.stop();
});

async function call<T = any>(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = contentType;
  const res = await fetch(`${h.baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function smtpDeliver(to: string, raw: string) {
  const smtp = nodemailer.createTransport({
    host: '127.0.0.1',
    port: mailboxPort,
    secure: false,
    ignoreTLS: true,
  });
  try {
    // DSNs travel with the null sender.
    return await smtp.sendMail({ envelope: { from: '', to: [to] }, raw });
  } finally {
    smtp.close();
  }
}

let run: any;
let sends: any[];

test('when a run has been delivered, then every send is delivered and carries its VERP token', async () => {
  const tag = uniqueSuffix();
  const ids: number[] = [];
  for (let i = 0; i < 4; i++)
    ids.push(
      (await call('POST', '/v1/leads', { name: `B${i}`, email: `b${i}.${tag}@receiver.example` })).body.id,
    );
  const tpl = await call('POST', '/v1/templates', {
    channel: 'email',
    title: `Bounces ${tag}`,
    subject: 'Hi',
    from: 'news@example.test',
    bodyText: 'Hello',
  });
  const created = await call('POST', '/v1/wizard-runs', { templateId: tpl.body.id, leadIds: ids });
  expect(created.status).toBe(201);
  run = await waitFor('completion', async () => {
    const r = (await call('GET', `/v1/wizard-runs/${created.body.id}`)).body;
    return r.status === 'completed' ? r : null;
  });
  sends = await withSendTokens(
    h.pool,
    (await h.pool.query('SELECT * FROM send WHERE run_id = $1 ORDER BY lead_id', [run.id])).rows,
    (r) => String(r.id),
  );
  expect(sends.map((s) => s.result)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
  // The sink saw the VERP return path the DSN will come back to.
  const seen = h.sink.messagesTo(sends[0].address)[0]!;
  expect(JSON.stringify(seen)).toContain(`b+${sends[0].token}@${h.config.bounceDomain}`);
});

test('when DSNs come back over SMTP and over the API and a complaint follows, then sends become 90000, counters and flags move, the address is blocklisted', async () => {
  const domain = h.config.bounceDomain;
  const [s0, s1, s2] = sends;
  const info = await smtpDeliver(
    `b+${s0.token}@${domain}`,
    postfixDsn({
      token: s0.token,
      bounceDomain: domain,
      to: s0.address,
      diagnostic: `550 5.1.1 <${s0.address}>: Recipient address rejected: User unknown`,
    }),
  );
  expect(info.accepted).toEqual([`b+${s0.token}@${domain}`]);

  const viaApi = await call(
    'POST',
    '/v1/inbound/bounces',
    postfixDsn({
      token: s1.token,
      bounceDomain: domain,
      to: s1.address,
      diagnostic: '552 5.2.2 <x>: mailbox full, over quota',
    }),
    'message/rfc822',
  );
  expect(viaApi.status).toBe(202);
  expect(viaApi.body).toMatchObject({
    status: 'pending',
    action: 'bounce',
    sendId: String(s1.id),
    matchedBy: 'verp',
    errorReason: 'mailbox_full',
  });

  const complaint = await call(
    'POST',
    '/v1/inbound/bounces',
    arfReport({ token: s2.token, bounceDomain: domain, to: s2.address }),
    'text/plain',
  );
  expect(complaint.body).toMatchObject({ status: 'pending', action: 'complaint', sendId: String(s2.id) });

  const after = await waitFor('both bounces to apply', async () => {
    const r = (await call('GET', `/v1/wizard-runs/${run.id}`)).body;
    return r.counters.errors === 2 ? r : null;
  });
  expect(after.counters).toMatchObject({ sent: 4, delivered: 2, errors: 2 });
  expect((await call('GET', `/v1/sends/${s0.id}`)).body).toMatchObject({
    result: 'error',
    code: 90000,
    errorType: 'hard',
    errorReason: 'unknown_user',
  });
  expect((await call('GET', `/v1/sends/${s1.id}`)).body).toMatchObject({
    result: 'error',
    code: 90000,
    errorType: 'soft',
    errorReason: 'mailbox_full',
  });
  expect((await call('GET', `/v1/leads/${s0.lead_id}`)).body.emailErrorCount).toBe(1);
  const st = await waitFor('blocklisting', async () => {
    const r = await call(
      'GET',
      `/v1/address-statuses?channel=email&address=${encodeURIComponent(s2.address)}`,
    );
    return r.status === 200 && r.body.status === 'blocklisted' ? r.body : null;
  }).catch(async (err: Error) => {
    // Say where the complaint stopped: its record, the run's signal flag, the workflow's last events.
    const reports = await h.pool.query(
      'SELECT id, action, status, run_id, send_id, received_at, applied_at FROM inbound_report WHERE run_id = $1 ORDER BY id',
      [run.id],
    );
    const flag = await h.pool.query(
      'SELECT reports_signalled_at, now() AS now FROM wizard_run WHERE id = $1',
      [run.id],
    );
    const history = await h.temporal.workflow.getHandle(run.taskId).fetchHistory();
    const last = (history.events ?? []).slice(-12).map((e) => `${e.eventId} ${e.eventType}`);
    throw new Error(
      `${err.message}\nreports: ${JSON.stringify(reports.rows)}\nflag: ${JSON.stringify(flag.rows)}\nlast events: ${last.join(', ')}`,
    );
  });
  expect(st.source).toBe('complaint');
  expect((await call('GET', `/v1/leads/${s2.lead_id}`)).body.unsubscribed.email).toMatch(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/,
  );
});

test('when the same DSN is delivered again over either path, then nothing changes', async () => {
  const domain = h.config.bounceDomain;
  const [s0] = sends;
  const raw = postfixDsn({
    token: s0.token,
    bounceDomain: domain,
    to: s0.address,
    diagnostic: '550 5.1.1 user unknown',
    boundary: 'same-boundary',
  });
  const first = await call('POST', '/v1/inbound/bounces', raw, 'message/rfc822');
  const again = await call('POST', '/v1/inbound/bounces', raw, 'message/rfc822');
  expect(first.body.duplicate).toBe(false);
  expect(again.status).toBe(202);
  expect(again.body).toMatchObject({ duplicate: true, id: null });
  await smtpDeliver(`b+${s0.token}@${domain}`, raw);
  const reportId = /Message-ID: <([^>]+)>/.exec(raw)![1]!;
  expect(
    (await h.pool.query(`SELECT count(*)::int AS n FROM inbound_report WHERE raw LIKE $1`, [`%${reportId}%`]))
      .rows[0].n,
  ).toBe(1);

  await waitFor('nothing pending', async () => {
    const r = await h.pool.query(
      `SELECT count(*)::int AS n FROM inbound_report WHERE run_id = $1 AND status = 'pending'`,
      [run.id],
    );
    return r.rows[0].n === 0;
  });
  expect((await call('GET', `/v1/wizard-runs/${run.id}`)).body.counters).toMatchObject({
    delivered: 2,
    errors: 2,
  });
  expect((await call('GET', `/v1/leads/${s0.lead_id}`)).body.emailErrorCount).toBe(1);
});

test('when the input is not a usable report, then it is stored as unmatched with a 2xx or refused with a 4xx, never a 5xx', async () => {
  const domain = h.config.bounceDomain;
  const notReport = await call(
    'POST',
    '/v1/inbound/bounces',
    plainMail(`b+${sends[3].token}@${domain}`),
    'text/plain',
  );
  expect(notReport).toMatchObject({ status: 202, body: { status: 'unmatched', kind: 'other' } });
  const unknown = await call(
    'POST',
    '/v1/inbound/bounces',
    postfixDsn({
      token: 'AAAAAAAAAAAAAAAAAAAAAA',
      bounceDomain: domain,
      to: `${uniqueWord()}@nowhere.example`,
      diagnostic: '550 5.1.1 user unknown',
    }),
    'message/rfc822',
  );
  expect(unknown).toMatchObject({
    status: 202,
    body: { status: 'unmatched', action: 'bounce', sendId: null },
  });
  const cut = await call(
    'POST',
    '/v1/inbound/bounces',
    truncate(
      postfixDsn({
        token: sends[3].token,
        bounceDomain: domain,
        to: sends[3].address,
        diagnostic: '550 5.1.1 user unknown',
      }),
    ),
    'message/rfc822',
  );
  expect(cut).toMatchObject({ status: 202, body: { status: 'unmatched', kind: 'truncated' } });
  expect((await call('GET', `/v1/sends/${sends[3].id}`)).body.result).toBe('delivered');

  for (const [body, type] of [
    ['', 'message/rfc822'],
    ['{not json', 'application/json'],
    ['x', 'image/png'],
  ] as const) {
    const r = await call('POST', '/v1/inbound/bounces', body, type);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
  }
  // The listener is no relay: other domains are refused at RCPT.
  await expect(
    smtpDeliver('someone@elsewhere.example', plainMail('someone@elsewhere.example')),
  ).rejects.toMatchObject({ responseCode: 550 });
});

describe('the bounce qualification table over HTTP', () => {
  let undefinedText: string;

  test('when a bounce text matches no rule, then it is listed as undefined next to the built-in rules', async () => {
    const s3 = sends[3];
    const word = uniqueWord();
    const res = await call(
      'POST',
      '/v1/inbound/bounces',
      postfixDsn({
        token: s3.token,
        bounceDomain: h.config.bounceDomain,
        to: s3.address,
        status: '5.0.0',
        diagnostic: `554 frobnicated ${word} by policy engine`,
      }),
      'message/rfc822',
    );
    expect(res.body).toMatchObject({ status: 'pending', errorType: 'undefined', errorReason: 'undefined' });
    await waitFor(
      'the third bounce',
      async () => (await call('GET', `/v1/wizard-runs/${run.id}`)).body.counters.errors === 3,
    );

    const list = await call('GET', '/v1/bounce-rules');
    expect(list.status).toBe(200);
    expect(list.body.items.some((r: any) => r.origin === 'builtin' && r.id === 'builtin:mailbox-full')).toBe(
      true,
    );
    const undef = (await call('GET', '/v1/bounce-rules?state=undefined')).body.items.find((r: any) =>
      r.normalizedText?.includes(word),
    );
    expect(undef).toMatchObject({
      state: 'undefined',
      errorType: 'undefined',
      reason: 'undefined',
      occurrences: 1,
    });
    undefinedText = undef.id;
  });

  test.each([
    [{ pattern: '(a+)+$', isRegex: true, errorType: 'hard', reason: 'unknown_user', code: 42550 }, 'pattern'],
    [{ pattern: 'x', errorType: 'hard', reason: 'no_such_reason', code: 42550 }, 'reason'],
    [{ pattern: 'x', errorType: 'hard', reason: 'mailbox_full', code: 42552 }, 'errorType'],
    [{ pattern: 'x', errorType: 'hard', reason: 'unknown_user', code: 12345 }, 'code'],
  ])('when a rule is invalid (%j), then 400 names the field', async (body, field) => {
    const r = await call('POST', '/v1/bounce-rules', body);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ statusCode: 400, field });
  });

  test('when a user qualifies the undefined text and requalifies, then the stored bounce and its send take the new reason', async () => {
    const added = await call('POST', '/v1/bounce-rules', {
      pattern: `zzz-${uniqueWord()}`,
      errorType: 'soft',
      reason: 'refused',
      code: 42530,
    });
    expect(added).toMatchObject({ status: 201, body: { origin: 'user', state: 'qualified' } });

    const patched = await call('PATCH', `/v1/bounce-rules/${undefinedText}`, {
      errorType: 'hard',
      reason: 'invalid_account',
      code: 42550,
    });
    expect(patched).toMatchObject({
      status: 200,
      body: { origin: 'user', state: 'qualified', reason: 'invalid_account' },
    });
    expect((await call('PATCH', '/v1/bounce-rules/2147483000', { reason: 'refused' })).status).toBe(404);

    const re = await call('POST', '/v1/bounce-rules/requalify');
    expect(re.status).toBe(200);
    expect(re.body.sends).toBeGreaterThanOrEqual(1);
    expect((await call('GET', `/v1/sends/${sends[3].id}`)).body).toMatchObject({
      code: 90000,
      errorType: 'hard',
      errorReason: 'invalid_account',
    });
    await h.temporal.workflow.getHandle(run.taskId).cancel();
  });
});
