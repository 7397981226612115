// The inbound report pipeline against the real database: classification,
// correlation, storing once, the qualification table and direct application
// for sends without a run.
import { randomBytes } from 'node:crypto';
import { processInboundReport, type InboundDeps } from '../../inbound/process-report';
import { OCCURRENCE_CAP } from '../../domain/bounce-normalize';
import { sendToken } from '../../db/send-token';
import { ensureTrackingTokens, tokenKey } from '../../db/tracking-queries';
import { startHarness, type Harness } from '../support/harness';
import {
  arfReport,
  exchangeDsn,
  plainMail,
  postfixDsn,
  truncate,
  uniqueWord,
  vacationReply,
} from '../support/report-fixtures';

let h: Harness;
let deps: InboundDeps;
const bounceDomain = 'bounce.pipeline.test';

beforeAll(async () => {
  h = await startHarness();
  deps = { pool: h.pool, temporal: h.temporal, bounceDomain, invalidAfterErrors: 3 };
});

afterAll(async () => {
  await h?.stop();
});

/** A lead with one delivered single send (no run), as the single-send path leaves it. */
async function deliveredSend() {
  const address = `${uniqueWord()}@receiver.example`;
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
  return { sendId: send.rows[0]!.id, leadId: lead.rows[0]!.id, address, token };
}

const sendRow = async (id: string) => (await h.pool.query('SELECT * FROM send WHERE id = $1', [id])).rows[0];
const reportRow = async (id: string | null) =>
  (await h.pool.query('SELECT * FROM inbound_report WHERE id = $1', [id])).rows[0];
const buf = (s: string) => Buffer.from(s);

test('when a Postfix DSN reaches the VERP address, then it is matched by token, qualified by the built-in rules and applied as 90000', async () => {
  const s = await deliveredSend();
  const r = await processInboundReport(
    deps,
    buf(
      postfixDsn({
        token: s.token,
        bounceDomain,
        to: s.address,
        diagnostic: `550 5.1.1 <${s.address}>: Recipient address rejected: User unknown in virtual mailbox table`,
      }),
    ),
  );
  expect(r).toMatchObject({
    kind: 'dsn',
    status: 'pending',
    action: 'bounce',
    sendId: s.sendId,
    matchedBy: 'verp',
    duplicate: false,
  });
  expect(r.qualification).toMatchObject({ errorType: 'hard', reason: 'unknown_user', ruleOrigin: 'builtin' });
  expect(await sendRow(s.sendId)).toMatchObject({
    result: 'error',
    code: 90000,
    error_type: 'hard',
    error_reason: 'unknown_user',
  });
  expect((await reportRow(r.id)).status).toBe('applied');
  const lead = (await h.pool.query('SELECT email_error_count FROM lead WHERE id = $1', [s.leadId])).rows[0];
  expect(lead.email_error_count).toBe(1);
});

test('when an Exchange NDR comes back to a plain address with the token as Original-Envelope-Id, then the envelope id matches it', async () => {
  const s = await deliveredSend();
  const r = await processInboundReport(
    deps,
    buf(
      exchangeDsn({
        envelopeId: s.token,
        to: s.address,
        reportTo: `postmaster@${bounceDomain}`,
        diagnostic: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
      }),
    ),
  );
  expect(r).toMatchObject({
    status: 'pending',
    action: 'bounce',
    sendId: s.sendId,
    matchedBy: 'envelope-id',
  });
  expect((await sendRow(s.sendId)).code).toBe(90000);
});

test('when a DSN carries no token at all, then the most recent delivered send to the failed recipient is taken', async () => {
  const s = await deliveredSend();
  const r = await processInboundReport(
    deps,
    buf(
      exchangeDsn({
        envelopeId: 'not-ours',
        to: s.address,
        reportTo: `postmaster@${bounceDomain}`,
        diagnostic: '550 5.1.1 user unknown',
      }),
    ),
  );
  expect(r).toMatchObject({ status: 'pending', sendId: s.sendId, matchedBy: 'recipient' });
});

test('when only the returned headers identify the send, then X-Send-Token / Message-ID match it', async () => {
  const s = await deliveredSend();
  // The report went to a forwarding address and names a recipient we never sent to.
  const dsn = postfixDsn({
    token: s.token,
    bounceDomain,
    to: `${uniqueWord()}@elsewhere.example`,
    diagnostic: '550 5.1.1 no such user',
    verpTo: `postmaster@${bounceDomain}`,
  });
  const r = await processInboundReport(deps, buf(dsn));
  expect(r).toMatchObject({ status: 'pending', sendId: s.sendId, matchedBy: 'returned-headers' });
});

test('when a DSN says delayed, then it is stored as ignored and the send stays delivered', async () => {
  const s = await deliveredSend();
  const r = await processInboundReport(
    deps,
    buf(
      postfixDsn({
        token: s.token,
        bounceDomain,
        to: s.address,
        action: 'delayed',
        status: '4.4.1',
        diagnostic: '421 4.4.1 connection timed out',
      }),
    ),
  );
  expect(r).toMatchObject({ kind: 'dsn', status: 'ignored', action: 'delayed', sendId: s.sendId });
  expect((await sendRow(s.sendId)).result).toBe('delivered');
});

test('when an ARF abuse report arrives, then it is a complaint: the address is blocklisted and the lead unsubscribed', async () => {
  const s = await deliveredSend();
  const r = await processInboundReport(deps, buf(arfReport({ token: s.token, bounceDomain, to: s.address })));
  expect(r).toMatchObject({
    kind: 'arf',
    status: 'pending',
    action: 'complaint',
    sendId: s.sendId,
    matchedBy: 'returned-headers',
  });
  const st = (
    await h.pool.query(
      `SELECT status, source FROM address_status WHERE channel = 'email' AND address = lower($1)`,
      [s.address],
    )
  ).rows[0];
  expect(st).toEqual({ status: 'blocklisted', source: 'complaint' });
  expect(
    (await h.pool.query('SELECT unsubscribed_email_at FROM lead WHERE id = $1', [s.leadId])).rows[0]
      .unsubscribed_email_at,
  ).toBeInstanceOf(Date);
});

test('when an ARF report is not an abuse report, then it is ignored', async () => {
  const s = await deliveredSend();
  const r = await processInboundReport(
    deps,
    buf(arfReport({ token: s.token, bounceDomain, to: s.address, feedbackType: 'not-spam' })),
  );
  expect(r).toMatchObject({ status: 'ignored', action: 'feedback' });
});

test('when a vacation reply reaches the VERP address, then it is ignored and the send is untouched', async () => {
  const s = await deliveredSend();
  const r = await processInboundReport(deps, buf(vacationReply({ token: s.token, bounceDomain })));
  expect(r).toMatchObject({ kind: 'auto-reply', status: 'ignored', action: 'auto-reply' });
  expect((await sendRow(s.sendId)).result).toBe('delivered');
});

test.each([
  ['garbage bytes', () => Buffer.from([0, 1, 2, 255, 254, 10, 13, 0])],
  ['a plain message', () => buf(plainMail(`b+${randomBytes(16).toString('base64url')}@${bounceDomain}`))],
])('when %s arrives, then it is stored as unmatched without throwing', async (_what, make) => {
  const r = await processInboundReport(deps, make());
  expect(r.status).toBe('unmatched');
  expect(r.id).not.toBeNull();
  expect((await reportRow(r.id)).status).toBe('unmatched');
});

test('when a report is cut off mid-MIME, then it is stored as unmatched and nothing is applied', async () => {
  const s = await deliveredSend();
  const r = await processInboundReport(
    deps,
    buf(
      truncate(
        postfixDsn({ token: s.token, bounceDomain, to: s.address, diagnostic: '550 5.1.1 user unknown' }),
      ),
    ),
  );
  expect(r).toMatchObject({ kind: 'truncated', status: 'unmatched' });
  expect((await sendRow(s.sendId)).result).toBe('delivered');
});

test('when a bounce names a token no send has, then it is stored as unmatched', async () => {
  const token = randomBytes(16).toString('base64url');
  const r = await processInboundReport(
    deps,
    buf(
      postfixDsn({
        token,
        bounceDomain,
        to: `${uniqueWord()}@nowhere.example`,
        diagnostic: '550 5.1.1 user unknown',
      }),
    ),
  );
  expect(r).toMatchObject({ kind: 'dsn', status: 'unmatched', action: 'bounce', sendId: null });
});

test('when the same report is delivered twice, then the second changes nothing', async () => {
  const s = await deliveredSend();
  const raw = buf(
    postfixDsn({ token: s.token, bounceDomain, to: s.address, diagnostic: '552 5.2.2 mailbox full' }),
  );
  const first = await processInboundReport(deps, raw);
  const lead1 = (await h.pool.query('SELECT email_error_count FROM lead WHERE id = $1', [s.leadId])).rows[0];
  const second = await processInboundReport(deps, raw);
  expect(first.duplicate).toBe(false);
  expect(second).toMatchObject({ duplicate: true, id: null });
  expect(
    (
      await h.pool.query('SELECT count(*)::int AS n FROM inbound_report WHERE fingerprint = $1', [
        first.fingerprint,
      ])
    ).rows[0].n,
  ).toBe(1);
  expect(
    (await h.pool.query('SELECT email_error_count FROM lead WHERE id = $1', [s.leadId])).rows[0],
  ).toEqual(lead1);
});

test('when no rule knows a remote text, then it creates an undefined row that counts occurrences, capped', async () => {
  const word = uniqueWord();
  const text = (n: number) => `554 zorgon ${word} refused message ${n}2345 at 10:0${n}:00`;
  for (const n of [1, 2]) {
    const s = await deliveredSend();
    const r = await processInboundReport(
      deps,
      buf(postfixDsn({ token: s.token, bounceDomain, to: s.address, diagnostic: text(n), status: '5.0.0' })),
    );
    expect(r.qualification).toMatchObject({ errorType: 'undefined', reason: 'undefined', ruleId: null });
    expect(await sendRow(s.sendId)).toMatchObject({
      code: 90000,
      error_type: 'undefined',
      error_reason: 'undefined',
    });
  }
  const rows = (await h.pool.query(`SELECT * FROM bounce_rule WHERE normalized_text LIKE $1`, [`%${word}%`]))
    .rows;
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({
    state: 'undefined',
    error_type: 'undefined',
    reason: 'undefined',
    origin: 'observed',
    occurrences: 2,
  });

  await h.pool.query('UPDATE bounce_rule SET occurrences = $2 WHERE id = $1', [rows[0].id, OCCURRENCE_CAP]);
  const s = await deliveredSend();
  await processInboundReport(
    deps,
    buf(postfixDsn({ token: s.token, bounceDomain, to: s.address, diagnostic: text(3), status: '5.0.0' })),
  );
  expect(
    (await h.pool.query('SELECT occurrences FROM bounce_rule WHERE id = $1', [rows[0].id])).rows[0]
      .occurrences,
  ).toBe(OCCURRENCE_CAP);
});

test('when a user rule matches the same text as a built-in rule, then the user rule wins', async () => {
  const word = uniqueWord();
  await h.pool.query(
    `INSERT INTO bounce_rule (pattern, is_regex, error_type, reason, code, origin, state, created_at, updated_at)
     VALUES ($1, false, 'soft', 'refused', 42530, 'user', 'qualified', now(), now())`,
    [`user unknown ${word}`],
  );
  const s = await deliveredSend();
  const r = await processInboundReport(
    deps,
    buf(
      postfixDsn({
        token: s.token,
        bounceDomain,
        to: s.address,
        diagnostic: `550 5.1.1 user unknown ${word}`,
      }),
    ),
  );
  expect(r.qualification).toMatchObject({ errorType: 'soft', reason: 'refused', ruleOrigin: 'user' });
});

/** A delivered single send made since issue 17: it stores no token, its token is derived from its id. */
async function derivedTokenSend() {
  const address = `${uniqueWord()}@receiver.example`;
  const lead = await h.pool.query<{ id: number }>(
    `INSERT INTO lead (name, email, created_at, updated_at) VALUES ('D', $1, now(), now()) RETURNING id`,
    [address],
  );
  const send = await h.pool.query<{ id: string }>(
    `INSERT INTO send (channel, lead_id, address, token, result, code, sent_at, delivered_at, created_at, updated_at)
     VALUES ('email', $1, $2, NULL, 'delivered', 10000, now(), now(), now(), now()) RETURNING id`,
    [lead.rows[0]!.id, address],
  );
  const sendId = send.rows[0]!.id;
  return { sendId, address, token: await sendToken(h.pool, sendId) };
}

/** A send made before issue 17: its random token is stored (32 hex digits, as the claim made them). */
async function storedTokenSend() {
  const s = await deliveredSend();
  const token = randomBytes(16).toString('hex');
  await h.pool.query('UPDATE send SET token = $2 WHERE id = $1', [s.sendId, token]);
  return { ...s, token };
}

test('when a DSN and an ARF report come back for sends whose token is derived from their id, then each finds its send', async () => {
  const a = await derivedTokenSend();
  expect(a.token).toMatch(/^[0-9a-f]{32}$/);
  const dsn = await processInboundReport(
    deps,
    buf(postfixDsn({ token: a.token, bounceDomain, to: a.address, diagnostic: '552 5.2.2 mailbox full' })),
  );
  expect(dsn).toMatchObject({ kind: 'dsn', sendId: a.sendId, matchedBy: 'verp' });

  // A relay that changes the case of the return path's local part does not lose it.
  const b = await derivedTokenSend();
  const upper = await processInboundReport(
    deps,
    buf(
      postfixDsn({
        token: b.token,
        verpTo: `b+${b.token.toUpperCase()}@${bounceDomain}`,
        bounceDomain,
        to: b.address,
        diagnostic: '552 5.2.2 mailbox full',
      }),
    ),
  );
  expect(upper).toMatchObject({ sendId: b.sendId, matchedBy: 'verp' });

  // An ARF report comes to the feedback address: the returned Message-ID and X-Send-Token name the send.
  const c = await derivedTokenSend();
  const arf = await processInboundReport(
    deps,
    buf(arfReport({ token: c.token, bounceDomain, to: c.address })),
  );
  expect(arf).toMatchObject({ kind: 'arf', sendId: c.sendId, matchedBy: 'returned-headers' });
});

test('when a DSN and an ARF report come back for sends made before, with a stored token, then each still finds its send', async () => {
  const a = await storedTokenSend();
  const dsn = await processInboundReport(
    deps,
    buf(postfixDsn({ token: a.token, bounceDomain, to: a.address, diagnostic: '552 5.2.2 mailbox full' })),
  );
  expect(dsn).toMatchObject({ kind: 'dsn', sendId: a.sendId, matchedBy: 'verp' });
  const b = await storedTokenSend();
  const arf = await processInboundReport(
    deps,
    buf(arfReport({ token: b.token, bounceDomain, to: b.address })),
  );
  expect(arf).toMatchObject({ kind: 'arf', sendId: b.sendId, matchedBy: 'returned-headers' });
});

test('when a bounce names a forged send token, then no send is matched by it', async () => {
  const s = await derivedTokenSend();
  const old = await storedTokenSend();
  const flip = (t: string) => (t[0] === '0' ? '1' : '0') + t.slice(1);
  const openToken = (await ensureTrackingTokens(h.pool, [{ sendId: s.sendId, part: 'open', url: '' }])).get(
    tokenKey(s.sendId, 'open', ''),
  )!;
  const forged = [
    randomBytes(16).toString('hex'),
    flip(s.token),
    // Made with our key for the same send, but as its open token: not a send token.
    Buffer.from(openToken, 'base64url').toString('hex'),
    // The token a send made before would have had if derived: it was never sent, its stored one was.
    await sendToken(h.pool, old.sendId),
  ];
  for (const token of forged) {
    const r = await processInboundReport(
      deps,
      buf(
        postfixDsn({
          token,
          bounceDomain,
          to: `${uniqueWord()}@nowhere.example`,
          diagnostic: '550 5.1.1 user unknown',
        }),
      ),
    );
    expect(r).toMatchObject({ kind: 'dsn', status: 'unmatched', sendId: null });
  }
  expect((await sendRow(s.sendId)).result).toBe('delivered');
  expect((await sendRow(old.sendId)).result).toBe('delivered');
});
