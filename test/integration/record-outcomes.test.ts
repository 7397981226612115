// The one recordOutcomes (db/outcomes.ts) under each channel's RecordingRules,
// against real PostgreSQL: what the send, its attempt, its SMS parts, the
// lead's validity and the run's counters become.
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { recordOutcomes, type OutcomeRecord, type RecordingRules } from '../../db/outcomes';
import { applyPendingReports } from '../../db/report-queries';
import { sendRepository } from '../../db/repositories/sends';
import { RESEND_AFTER_INTERRUPTION } from '../../domain/repeat-bound';
import { preErrorOutcome, type DeliveryOutcome } from '../../domain/delivery-outcome';
import { classifySmtpReply } from '../../domain/smtp-classification';
import { submitDeliveryOutcome } from '../../domain/smpp-status';
import { uniqueSuffix } from '../support/harness';

const EMAIL: RecordingRules = {
  acceptedAs: 'delivered',
  validity: { invalidAfterErrors: 3 },
  pendingOnly: false,
  stampPreErrors: true,
};
const SMS: RecordingRules = { acceptedAs: 'sent', validity: null, pendingOnly: false, stampPreErrors: false };
const LINE: RecordingRules = { acceptedAs: 'sent', validity: null, pendingOnly: true, stampPreErrors: false };

let pool: Pool;
beforeAll(() => {
  pool = createPool(process.env.TEST_DATABASE_URL_READY!, 2);
});
afterAll(() => pool.end());

/** A run of `channel` with one pending send to a new lead. */
async function pendingSend(channel: string) {
  const tag = uniqueSuffix();
  const leadId: number = (
    await pool.query(`INSERT INTO lead (name, email) VALUES ('R', $1) RETURNING id`, [
      `r.${tag}@example.test`,
    ])
  ).rows[0].id;
  const templateId: number = (
    await pool.query(`INSERT INTO template (channel, title) VALUES ($1, 'Outcomes') RETURNING id`, [channel])
  ).rows[0].id;
  const runId: number = (
    await pool.query(
      `INSERT INTO wizard_run (channel, template_id, template_title, target_kind, lead_ids, status, workflow_id)
       VALUES ($1, $2, 'Outcomes', 'list', $3, 'running', $4) RETURNING id`,
      [channel, templateId, [leadId], `outcomes-${tag}`],
    )
  ).rows[0].id;
  const sendId: string = (
    await pool.query(
      `INSERT INTO send (run_id, channel, lead_id, address, template_id, template_title, token, result, attempts)
       VALUES ($1, $2, $3, $4, $5, 'Outcomes', $6, 'pending', 1) RETURNING id`,
      [runId, channel, leadId, `r.${tag}@example.test`, templateId, tag],
    )
  ).rows[0].id;
  const record = (outcome: DeliveryOutcome, extra?: OutcomeRecord['extra']): OutcomeRecord => ({
    sendId,
    leadId,
    address: `r.${tag}@example.test`,
    attempt: 1,
    at: new Date(),
    outcome,
    messageId: 'm-1',
    nextAttemptAt: null,
    extra,
  });
  const read = async () => ({
    send: (await pool.query('SELECT * FROM send WHERE id = $1', [sendId])).rows[0],
    attempts: (await pool.query('SELECT * FROM send_attempt_history WHERE send_id = $1', [sendId])).rows,
    parts: (await pool.query('SELECT * FROM sms_part WHERE send_id = $1 ORDER BY seq', [sendId])).rows,
    run: (await pool.query('SELECT * FROM wizard_run WHERE id = $1', [runId])).rows[0],
    lead: (await pool.query('SELECT * FROM lead WHERE id = $1', [leadId])).rows[0],
  });
  const rows = async () =>
    (await pool.query('SELECT * FROM send_attempt WHERE send_id = $1 ORDER BY attempt', [sendId])).rows;
  return { runId, sendId, record, read, rows };
}

test('when the relay accepts an email, then the send is delivered and the run counts it sent and delivered', async () => {
  const { runId, record, read } = await pendingSend('email');
  const counts = await recordOutcomes(pool, runId, [record(classifySmtpReply({ responseCode: 250 }))], EMAIL);
  expect(counts).toEqual({ sent: 1, delivered: 1, errors: 0, preErrors: 0 });
  const { send, attempts, run } = await read();
  expect(send).toMatchObject({ result: 'delivered', code: 40000, message_id: 'm-1' });
  expect(send.delivered_at).not.toBeNull();
  expect(attempts).toMatchObject([{ attempt: 1, result: 'delivered', code: 40000 }]);
  expect(run).toMatchObject({ sent_count: 1, delivered_count: 1, error_count: 0, sms_parts_count: 0 });
});

test("when an email is refused as an unknown user, then it counts toward the lead's consecutive errors", async () => {
  const { runId, record, read } = await pendingSend('email');
  const refused = classifySmtpReply({
    responseCode: 550,
    response: '550 5.1.1 user unknown',
    command: 'RCPT TO',
  });
  await recordOutcomes(pool, runId, [record(refused)], EMAIL);
  const { send, lead, run } = await read();
  expect(send).toMatchObject({ result: 'error', error_type: 'hard' });
  expect(lead.email_error_count).toBe(1);
  expect(run).toMatchObject({ sent_count: 1, error_count: 1 });
});

test('when the same outcomes are recorded under SMS rules, then the lead keeps its validity and the parts are kept', async () => {
  const { runId, record, read } = await pendingSend('sms');
  const partIds = [
    { seq: 1, messageId: 'p1' },
    { seq: 2, messageId: 'p2' },
  ];
  await recordOutcomes(
    pool,
    runId,
    [record(submitDeliveryOutcome('submitted', ''), { body: 'hello', segments: 2, partIds })],
    SMS,
  );
  const { send, parts, run, lead } = await read();
  expect(send).toMatchObject({ result: 'sent', code: null, detail: null, body: 'hello', sms_segments: 2 });
  expect(send.delivered_at).toBeNull();
  expect(parts.map((p) => p.message_id)).toEqual(['p1', 'p2']);
  expect(run).toMatchObject({ sent_count: 1, delivered_count: 0, sms_parts_count: 2 });
  expect(lead).toMatchObject({ email_valid: true, email_error_count: 0 });
});

test.each([
  ['email', EMAIL, true],
  ['sms', SMS, false],
])(
  'when a %s pre-error is recorded, then it gets a sent time only on email',
  async (channel, rules, stamped) => {
    const { runId, record, read } = await pendingSend(channel);
    await recordOutcomes(pool, runId, [record(preErrorOutcome('nothing to send'))], rules);
    const { send, run } = await read();
    expect(send.result).toBe('pre_error');
    expect(send.sent_at !== null).toBe(stamped);
    expect(run).toMatchObject({ sent_count: 0, pre_error_count: 1 });
  },
);

test('when a LINE chunk is recorded twice (a retried activity), then the run counts it once', async () => {
  const { runId, record, read } = await pendingSend('line');
  const pushed = record(
    { ...preErrorOutcome('accepted by LINE'), result: 'sent', reason: null },
    { lineAccountName: 'Shop' },
  );
  expect(await recordOutcomes(pool, runId, [pushed], LINE)).toMatchObject({ sent: 1 });
  expect(await recordOutcomes(pool, runId, [pushed], LINE)).toMatchObject({ sent: 0 });
  const { send, attempts, run } = await read();
  expect(send).toMatchObject({ result: 'sent', line_account_name: 'Shop' });
  expect(attempts).toHaveLength(1);
  expect(run).toMatchObject({ sent_count: 1, error_count: 0 });
});

// Issue 17: a plain first transmission is recorded on the send row alone; the history reads the same.
test('when a first transmission is accepted, then the send row alone records it and its history lists it with every field', async () => {
  const { runId, sendId, record, rows } = await pendingSend('email');
  const accepted = record(classifySmtpReply({ responseCode: 250, response: '250 2.0.0 Ok: queued as A1' }));
  await recordOutcomes(pool, runId, [accepted], EMAIL);
  expect(await rows()).toEqual([]);
  const history = await sendRepository(pool).attempts(sendId);
  expect(history).toEqual([
    {
      send_id: sendId,
      attempt: 1,
      at: accepted.at,
      result: 'delivered',
      code: 40000,
      detail: accepted.outcome.detail,
      error_type: null,
      error_reason: null,
      message_id: 'm-1',
      resend_reason: null,
      original_message_id: null,
    },
  ]);
});

test('when a later transmission is recorded over a first one kept on the send row, then the history keeps both as they were', async () => {
  const { runId, sendId, record, rows } = await pendingSend('email');
  const first = record(classifySmtpReply({ responseCode: 250, response: '250 first' }));
  await recordOutcomes(pool, runId, [first], EMAIL);
  const again: OutcomeRecord = {
    ...record(classifySmtpReply({ responseCode: 250, response: '250 again' })),
    at: new Date(first.at.getTime() + 1000),
    transmission: 2,
    messageId: 'm-1',
    resend: { reason: RESEND_AFTER_INTERRUPTION, originalMessageId: 'm-1' },
  };
  await recordOutcomes(pool, runId, [again], EMAIL);
  const history = await sendRepository(pool).attempts(sendId);
  expect(history).toMatchObject([
    { attempt: 1, at: first.at, result: 'delivered', detail: first.outcome.detail, resend_reason: null },
    {
      attempt: 2,
      at: again.at,
      result: 'delivered',
      detail: again.outcome.detail,
      resend_reason: RESEND_AFTER_INTERRUPTION,
      original_message_id: 'm-1',
    },
  ]);
  expect((await rows()).map((a) => a.attempt)).toEqual([1, 2]);
  // And over an error recorded by the general path (a later wave's refusal).
  const refused: OutcomeRecord = {
    ...record(classifySmtpReply({ responseCode: 450, response: '450 try later', command: 'RCPT TO' })),
    attempt: 2,
    transmission: 3,
    at: new Date(first.at.getTime() + 2000),
  };
  await recordOutcomes(pool, runId, [refused], EMAIL);
  expect((await sendRepository(pool).attempts(sendId)).map((a) => [a.attempt, a.detail])).toEqual([
    [1, first.outcome.detail],
    [2, again.outcome.detail],
    [3, refused.outcome.detail],
  ]);
});

test('when a first transmission kept on the send row bounces later, then its history still says it was delivered', async () => {
  const { runId, sendId, record, read } = await pendingSend('email');
  const accepted = record(classifySmtpReply({ responseCode: 250, response: '250 ok' }));
  await recordOutcomes(pool, runId, [accepted], EMAIL);
  await pool.query(
    `INSERT INTO inbound_report (received_at, fingerprint, kind, status, send_id, run_id, action, recipient, remote_text, status_code, code, error_type, error_reason, evidence, raw)
     VALUES (now(), $1, 'dsn', 'pending', $2, $3, 'bounce', 'x', '550 5.1.1 gone', '5.1.1', 0, 'hard', 'unknown_user', '[]', 'raw')`,
    [`fp-${sendId}`, sendId, runId],
  );
  await applyPendingReports(pool, runId, 3);
  expect((await read()).send).toMatchObject({ result: 'error', delivered_at: null });
  expect(await sendRepository(pool).attempts(sendId)).toMatchObject([
    { attempt: 1, at: accepted.at, result: 'delivered', detail: accepted.outcome.detail, message_id: 'm-1' },
  ]);
});
