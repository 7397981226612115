// Operators' view of the bounce mailbox over HTTP (issue 16): POST
// /v1/inbound/bounces names every recipient with its decision, and GET
// /v1/inbound-reports lists and shows what arrived, with its evidence.
import { randomBytes } from 'node:crypto';
import { createApiKey } from '../../db/api-key-queries';
import { startHarness, uniqueSuffix, type Harness } from '../support/harness';
import { uniqueWord } from '../support/report-fixtures';

let h: Harness;
let writer: string;
let reader: string;

beforeAll(async () => {
  h = await startHarness();
  writer = (await createApiKey(h.pool, `ir-w-${uniqueSuffix()}`, ['read', 'write'])).key;
  reader = (await createApiKey(h.pool, `ir-r-${uniqueSuffix()}`, ['read'])).key;
});

afterAll(async () => {
  await h?.stop();
});

async function call<T = any>(key: string, method: string, path: string, body?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'message/rfc822';
  const res = await fetch(`${h.baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function deliveredSend() {
  const address = `${uniqueWord()}@${uniqueWord()}.example`;
  const lead = await h.pool.query<{ id: number }>(
    `INSERT INTO lead (name, email, created_at, updated_at) VALUES ('P', $1, now(), now()) RETURNING id`,
    [address],
  );
  const token = randomBytes(16).toString('base64url');
  const send = await h.pool.query<{ id: string }>(
    `INSERT INTO send (channel, lead_id, address, token, result, code, sent_at, delivered_at, created_at, updated_at)
     VALUES ('email', $1, $2, $3, 'delivered', 10000, now(), now(), now(), now()) RETURNING id`,
    [lead.rows[0]!.id, address, token],
  );
  return { sendId: String(send.rows[0]!.id), address, token };
}

function twoRecipientDsn(token: string, a: string, b: string): string {
  const bd = `x-${uniqueWord()}`;
  return `From: MAILER-DAEMON@mx.example
To: b+${token}@${h.config.bounceDomain}
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="${bd}"

--${bd}
Content-Type: text/plain

Could not deliver.

--${bd}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example

Final-Recipient: rfc822; ${a}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

Final-Recipient: rfc822; ${b}
Action: failed
Status: 5.7.1
Diagnostic-Code: smtp; 550 5.7.1 Message rejected: denied by policy

--${bd}--
`.replace(/\r?\n/g, '\r\n');
}

test('when a report names two recipients, then the POST answer names both with their codes, and operators can list and read them', async () => {
  const a = await deliveredSend();
  const b = await deliveredSend();
  const posted = await call(
    writer,
    'POST',
    '/v1/inbound/bounces',
    twoRecipientDsn(a.token, a.address, b.address),
  );
  expect(posted.status).toBe(202);
  expect(posted.body.recipients).toEqual([
    expect.objectContaining({
      recipient: a.address,
      sendId: a.sendId,
      code: 42550,
      errorReason: 'unknown_user',
      fault: 'recipient',
    }),
    expect.objectContaining({
      recipient: b.address,
      sendId: b.sendId,
      code: 42530,
      errorReason: 'refused',
      fault: 'ours',
    }),
  ]);

  const list = await call(
    reader,
    'GET',
    `/v1/inbound-reports?recipient=${encodeURIComponent(b.address.toUpperCase())}`,
  );
  expect(list.status).toBe(200);
  expect(list.body.items).toHaveLength(1);
  expect(list.body.items[0]).toMatchObject({
    recipient: b.address,
    decision: 'refused-by-policy',
    sendId: b.sendId,
    messageReportId: posted.body.id,
    position: 1,
  });
  expect(list.body.items[0].evidence).toEqual(
    expect.arrayContaining([
      'rule `denied-by-policy` on Diagnostic-Code',
      `matched to send ${b.sendId} by recipient`,
    ]),
  );

  const bySend = await call(reader, 'GET', `/v1/inbound-reports?sendId=${a.sendId}`);
  expect(bySend.body.items).toEqual([
    expect.objectContaining({
      recipient: a.address,
      decision: 'against-recipient',
      errorReason: 'unknown_user',
    }),
  ]);

  const policy = await call(reader, 'GET', '/v1/inbound-reports?decision=refused-by-policy&limit=500');
  expect(policy.body.items.map((i: { recipient: string }) => i.recipient)).toContain(b.address);
  expect(policy.body.items.map((i: { recipient: string }) => i.recipient)).not.toContain(a.address);

  const one = await call(reader, 'GET', `/v1/inbound-reports/${list.body.items[0].id}`);
  expect(one.status).toBe(200);
  expect(one.body.raw).toContain('denied by policy');
  expect(one.body.reading).toMatchObject({ format: 'rfc3464', recipient: { status: '5.7.1' } });
  expect(one.body.otherRecipients).toEqual([
    expect.objectContaining({ recipient: a.address, decision: 'against-recipient' }),
  ]);

  expect((await call(reader, 'GET', '/v1/inbound-reports/999999999999')).status).toBe(404);
});

test('when the list is longer than a page, then the cursor walks it without repeats', async () => {
  const since = new Date(Date.now() - 1000).toISOString();
  for (let i = 0; i < 3; i++) {
    const s = await deliveredSend();
    await call(
      writer,
      'POST',
      '/v1/inbound/bounces',
      twoRecipientDsn(s.token, s.address, `${uniqueWord()}@nowhere.example`),
    );
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await call(
      reader,
      'GET',
      `/v1/inbound-reports?kind=dsn&receivedFrom=${encodeURIComponent(since)}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
    );
    seen.push(...page.body.items.map((i) => i.id));
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  expect(seen.length).toBeGreaterThanOrEqual(6);
  expect(new Set(seen).size).toBe(seen.length);
});

test('the inbound-reports routes are in the OpenAPI document', async () => {
  const doc = (await (await fetch(`${h.baseUrl}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining(['/v1/inbound-reports', '/v1/inbound-reports/{id}']),
  );
});
