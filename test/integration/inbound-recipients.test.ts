// Issue 16 through the real pipeline and PostgreSQL: every recipient of a report
// is applied, and a refusal about our side or our rate, an invalid domain or a
// text no rule knows never invalidates a good address.
import { randomBytes } from 'node:crypto';
import { processInboundReport, type InboundDeps } from '../../inbound/process-report';
import { requalify } from '../../db/bounce-rule-queries';
import { applyPendingReports } from '../../db/report-queries';
import { startHarness, type Harness } from '../support/harness';
import { uniqueWord } from '../support/report-fixtures';

let h: Harness;
let deps: InboundDeps;
const bounceDomain = 'bounce.recipients.test';
const THRESHOLD = 3;

beforeAll(async () => {
  h = await startHarness();
  deps = { pool: h.pool, temporal: h.temporal, bounceDomain, invalidAfterErrors: THRESHOLD };
});

afterAll(async () => {
  await h?.stop();
});

/**
 * A delivered single send whose lead is one counted error away from invalid:
 * any bounce counted against it turns the address invalid and quarantined.
 */
async function fragileSend(domain = 'receiver.example') {
  const address = `${uniqueWord()}@${uniqueWord()}.${domain}`;
  const lead = await h.pool.query<{ id: number }>(
    `INSERT INTO lead (name, email, email_error_count, created_at, updated_at) VALUES ('P', $1, $2, now(), now()) RETURNING id`,
    [address, THRESHOLD - 1],
  );
  await h.pool.query(
    `INSERT INTO address_status (channel, address, status, error_type, reason, error_count, first_error_at, last_error_at, source, updated_at)
     VALUES ('email', lower($1), 'erroneous', 'soft', 'mailbox_full', $2, now(), now(), 'bounce', now())`,
    [address, THRESHOLD - 1],
  );
  const token = randomBytes(16).toString('base64url');
  const send = await h.pool.query<{ id: string }>(
    `INSERT INTO send (channel, lead_id, address, token, result, code, sent_at, delivered_at, created_at, updated_at)
     VALUES ('email', $1, $2, $3, 'delivered', 10000, now(), now(), now(), now()) RETURNING id`,
    [lead.rows[0]!.id, address, token],
  );
  return { sendId: send.rows[0]!.id, leadId: lead.rows[0]!.id, address, token };
}

interface Rcpt {
  address: string;
  status: string;
  diagnostic?: string;
  action?: string;
}

function dsn(o: { token: string; recipients: Rcpt[] }): Buffer {
  const b = `b-${uniqueWord()}`;
  const blocks = o.recipients
    .map(
      (r) => `Final-Recipient: rfc822; ${r.address}
Action: ${r.action ?? 'failed'}
Status: ${r.status}
Remote-MTA: dns; mx.receiver.example
${r.diagnostic === undefined ? '' : `Diagnostic-Code: smtp; ${r.diagnostic}\n`}`,
    )
    .join('\n');
  return Buffer.from(
    `From: MAILER-DAEMON@mx.receiver.example
To: b+${o.token}@${bounceDomain}
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="${b}"

--${b}
Content-Type: text/plain

Your message could not be delivered.

--${b}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.receiver.example

${blocks}
--${b}--
`.replace(/\r?\n/g, '\r\n'),
  );
}

const leadRow = async (id: number) =>
  (await h.pool.query('SELECT email_valid, email_error_count FROM lead WHERE id = $1', [id])).rows[0];
const addressRow = async (address: string) =>
  (
    await h.pool.query(
      `SELECT status, error_count FROM address_status WHERE channel = 'email' AND address = lower($1)`,
      [address],
    )
  ).rows[0];
const reportRow = async (id: string | null) =>
  (await h.pool.query('SELECT * FROM inbound_report WHERE id = $1', [id])).rows[0];

async function expectNotCounted(s: Awaited<ReturnType<typeof fragileSend>>) {
  expect(await leadRow(s.leadId)).toEqual({ email_valid: true, email_error_count: THRESHOLD - 1 });
  expect(await addressRow(s.address)).toEqual({ status: 'erroneous', error_count: THRESHOLD - 1 });
}

describe('a refusal about our side or our rate never counts against the recipient', () => {
  test.each<[string, Omit<Rcpt, 'address'>, string]>([
    [
      'our sender domain does not exist (553 5.1.8)',
      {
        status: '5.1.8',
        diagnostic:
          '553 5.1.8 <news@example.test>... Domain of sender address news@example.test does not exist',
      },
      'ours',
    ],
    [
      'too many recipients this hour (5.1.1)',
      {
        status: '5.1.1',
        diagnostic:
          '550 5.1.1 <x@receiver.example>: Recipient address rejected: too many recipients this hour',
      },
      'rate',
    ],
    [
      'Gmail receiving mail at a rate (5.2.1)',
      {
        status: '5.2.1',
        diagnostic:
          '550-5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.',
      },
      'rate',
    ],
    ['4.7.x policy by Status alone', { status: '5.7.26' }, 'ours'],
    ['denied by policy', { status: '5.0.0', diagnostic: '554 Denied by policy' }, 'ours'],
  ])('%s', async (_what, r, fault) => {
    const s = await fragileSend();
    const before = (
      await h.pool.query(`SELECT coalesce(sum(errors), 0)::int AS n FROM domain_state WHERE domain = $1`, [
        s.address.split('@')[1],
      ])
    ).rows[0].n;
    const out = await processInboundReport(
      deps,
      dsn({ token: s.token, recipients: [{ address: s.address, ...r }] }),
    );
    expect(out).toMatchObject({ status: 'pending', sendId: s.sendId });
    expect(out.qualification).toMatchObject({
      reason: 'refused',
      fault,
      refusedByPolicy: true,
      countsAgainstRecipient: false,
    });
    const row = await reportRow(out.id);
    expect(row).toMatchObject({ status: 'applied', fault, error_reason: 'refused' });
    expect(row.evidence.join(' ')).toMatch(/refused by policy/);
    await expectNotCounted(s);
    // Counted for the receiving domain's breaker instead (the domain is unique to this test).
    const after = (
      await h.pool.query(`SELECT errors FROM domain_state WHERE domain = $1`, [s.address.split('@')[1]])
    ).rows[0];
    expect(after.errors).toBe(before + 1);
  });
});

describe('an invalid domain is soft 41605, not hard 42550', () => {
  test.each<[string, Omit<Rcpt, 'address'>]>([
    ['null MX (5.1.10)', { status: '5.1.10', diagnostic: '556 5.1.10 Host does not accept mail' }],
    ['null MX by Status alone', { status: '5.1.10' }],
    ['550 5.4.4 Invalid domain', { status: '5.4.4', diagnostic: '550 5.4.4 Invalid domain' }],
    ['domain not found', { status: '5.1.2', diagnostic: '550 5.1.2 domain not found' }],
    ['NXDOMAIN', { status: '5.4.4', diagnostic: 'DNS lookup: NXDOMAIN' }],
    ['Host unknown', { status: '5.1.2', diagnostic: '550 Host unknown' }],
  ])('%s', async (_what, r) => {
    const s = await fragileSend();
    const out = await processInboundReport(
      deps,
      dsn({ token: s.token, recipients: [{ address: s.address, ...r }] }),
    );
    expect(out.qualification).toMatchObject({ errorType: 'soft', reason: 'invalid_domain', code: 41605 });
    expect(await reportRow(out.id)).toMatchObject({
      code: 41605,
      error_type: 'soft',
      error_reason: 'invalid_domain',
    });
  });
});

test('when a bounce text is undefined, then it counts against nobody until a rule qualifies it; requalify then counts it', async () => {
  const word = uniqueWord();
  const s = await fragileSend();
  const out = await processInboundReport(
    deps,
    dsn({
      token: s.token,
      recipients: [{ address: s.address, status: '5.0.0', diagnostic: `554 zorgon ${word} refused` }],
    }),
  );
  expect(out.qualification).toMatchObject({ errorType: 'undefined', countsAgainstRecipient: false });
  expect((await reportRow(out.id)).status).toBe('applied');
  await expectNotCounted(s);

  await h.pool.query(
    `INSERT INTO bounce_rule (pattern, is_regex, error_type, reason, code, origin, state, created_at, updated_at)
     VALUES ($1, false, 'hard', 'unknown_user', 42550, 'user', 'qualified', now(), now())`,
    [`zorgon ${word}`],
  );
  await requalify(h.pool, THRESHOLD);
  expect(await reportRow(out.id)).toMatchObject({
    error_type: 'hard',
    error_reason: 'unknown_user',
    fault: 'recipient',
  });
  expect(await leadRow(s.leadId)).toEqual({ email_valid: false, email_error_count: THRESHOLD });
  expect((await addressRow(s.address)).status).toBe('quarantined');
});

test('when a report names several recipients, then each one is stored, matched to its send and applied', async () => {
  const a = await fragileSend();
  const b = await fragileSend();
  const stranger = `${uniqueWord()}@nowhere.example`;
  const raw = dsn({
    token: a.token,
    recipients: [
      { address: a.address, status: '5.2.2', diagnostic: '552 5.2.2 Mailbox full' },
      { address: stranger, status: '5.1.1', diagnostic: '550 5.1.1 user unknown' },
      { address: b.address, status: '5.1.1', diagnostic: '550 5.1.1 user unknown' },
      { address: b.address, status: '4.4.1', action: 'delayed' },
    ],
  });
  const out = await processInboundReport(deps, raw);
  expect(out.recipients.map((r) => [r.recipient, r.status, r.sendId])).toEqual([
    [a.address, 'pending', a.sendId],
    [stranger, 'unmatched', null],
    [b.address, 'pending', b.sendId],
    [b.address, 'ignored', b.sendId],
  ]);
  expect(out.recipientIds).toHaveLength(4);
  const rows = (
    await h.pool.query(
      'SELECT position, status, raw IS NOT NULL AS has_raw FROM inbound_report WHERE fingerprint = $1 ORDER BY position',
      [out.fingerprint],
    )
  ).rows;
  expect(rows).toEqual([
    { position: 0, status: 'applied', has_raw: true },
    { position: 1, status: 'unmatched', has_raw: false },
    { position: 2, status: 'applied', has_raw: false },
    { position: 3, status: 'ignored', has_raw: false },
  ]);
  const sends = (
    await h.pool.query('SELECT id, result, error_reason FROM send WHERE id = ANY($1::bigint[]) ORDER BY id', [
      [a.sendId, b.sendId],
    ])
  ).rows;
  expect(sends).toEqual([
    { id: a.sendId, result: 'error', error_reason: 'mailbox_full' },
    { id: b.sendId, result: 'error', error_reason: 'unknown_user' },
  ]);
  // The same message again changes nothing.
  const again = await processInboundReport(deps, raw);
  expect(again).toMatchObject({ duplicate: true, id: null });
  expect(
    (
      await h.pool.query('SELECT count(*)::int AS n FROM inbound_report WHERE fingerprint = $1', [
        out.fingerprint,
      ])
    ).rows[0].n,
  ).toBe(4);
});

test('when a pending bounce is still undefined, then a requalify gives it the new rule before it is applied', async () => {
  const word = uniqueWord();
  const s = await fragileSend();
  // As the pipeline leaves a report whose run could not be told yet: stored, pending, undefined.
  const row = await h.pool.query<{ id: string }>(
    `INSERT INTO inbound_report (received_at, fingerprint, kind, status, send_id, run_id, action, recipient, remote_text, status_code, code, error_type, error_reason, evidence, raw)
     VALUES (now(), $1, 'dsn', 'pending', $2, NULL, 'bounce', $3, $4, '5.0.0', 0, 'undefined', 'undefined', '[]', 'raw')
     RETURNING id`,
    [randomBytes(16).toString('hex'), s.sendId, s.address, `554 quux ${word} bounced`],
  );
  await h.pool.query(
    `INSERT INTO bounce_rule (pattern, is_regex, error_type, reason, code, origin, state, created_at, updated_at)
     VALUES ($1, false, 'soft', 'mailbox_full', 42552, 'user', 'qualified', now(), now())`,
    [`quux ${word}`],
  );
  await requalify(h.pool, THRESHOLD);
  expect(await reportRow(row.rows[0]!.id)).toMatchObject({ status: 'pending', error_reason: 'mailbox_full' });
  await applyPendingReports(h.pool, null, THRESHOLD);
  expect((await h.pool.query('SELECT error_reason FROM send WHERE id = $1', [s.sendId])).rows[0]).toEqual({
    error_reason: 'mailbox_full',
  });
  expect(await leadRow(s.leadId)).toEqual({ email_valid: false, email_error_count: THRESHOLD });
});
