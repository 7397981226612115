// Issue 17: the outcome's update of a send row is a HOT update (no index of
// send names a column it changes, and the table keeps room on its pages), and
// the SMS receipt timeout sweep, which an index on send's result and sent_at
// used to serve, works from its own queue (sms_receipt_wait).
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { recordOutcomes, type OutcomeRecord, type RecordingRules } from '../../db/outcomes';
import { claimTargetBatch, prepareEmailTargets } from '../../db/run-queries';
import { applySmsReceipts, expireSmsReceipts } from '../../db/sms-queries';
import { classifySmtpReply } from '../../domain/smtp-classification';
import { submitDeliveryOutcome } from '../../domain/smpp-status';
import { uniqueSuffix, waitFor } from '../support/harness';

const EMAIL: RecordingRules = {
  acceptedAs: 'delivered',
  validity: { invalidAfterErrors: 3 },
  pendingOnly: false,
  stampPreErrors: true,
};
const SMS: RecordingRules = {
  acceptedAs: 'sent',
  validity: null,
  pendingOnly: false,
  stampPreErrors: false,
  awaitsReceipt: true,
};

let pool: Pool;
beforeAll(() => {
  pool = createPool(process.env.TEST_DATABASE_URL_READY!, 4);
});
afterAll(() => pool.end());

/** A run of `channel` with `n` pending sends to new leads (email: prepared and claimed as a batch does; no stored token). */
async function pendingRun(channel: 'email' | 'sms', n: number) {
  const tag = uniqueSuffix();
  const leads = (
    await pool.query<{ id: number; email: string }>(
      `INSERT INTO lead (name, email) SELECT 'H' || g, 'h' || g || '.' || $2 || '@example.test' FROM generate_series(1, $1) g
       RETURNING id, email`,
      [n, tag],
    )
  ).rows;
  const templateId: number = (
    await pool.query(`INSERT INTO template (channel, title) VALUES ($1, 'Hot') RETURNING id`, [channel])
  ).rows[0].id;
  const runId: number = (
    await pool.query(
      `INSERT INTO wizard_run (channel, template_id, template_title, target_kind, lead_ids, status, workflow_id)
       VALUES ($1, $2, 'Hot', 'list', $3, 'running', $4) RETURNING id`,
      [channel, templateId, leads.map((l) => l.id), `hot-${tag}`],
    )
  ).rows[0].id;
  if (channel === 'email') {
    // As production makes them: created at the run's preparation, read by the batch's claim.
    const prepared = await prepareEmailTargets(pool, runId);
    expect(prepared.targets).toBe(n);
    const claimed = await claimTargetBatch(pool, runId, 1, n, false);
    return { runId, sends: claimed.map((c) => ({ id: c.send_id, lead_id: c.lead_id, address: c.address })) };
  }
  const sends = (
    await pool.query<{ id: string; lead_id: number; address: string }>(
      `INSERT INTO send (run_id, channel, lead_id, address, template_id, template_title, token, result, attempts)
       SELECT $1, $2, l.id, l.email, $3, 'Hot', NULL, 'pending', 1 FROM unnest($4::int[], $5::text[]) AS l(id, email)
       RETURNING id::text, lead_id, address`,
      [runId, channel, templateId, leads.map((l) => l.id), leads.map((l) => l.email)],
    )
  ).rows;
  return { runId, sends };
}

async function sendUpdates(): Promise<{ all: number; hot: number }> {
  const r = await pool.query<{ upd: string; hot: string }>(
    `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'send'`,
  );
  return { all: Number(r.rows[0]!.upd), hot: Number(r.rows[0]!.hot) };
}

test("when a run's email deliveries are recorded, then nearly every update of its send rows is HOT", async () => {
  const N = 600;
  const { runId, sends } = await pendingRun('email', N);
  const before = await sendUpdates();
  const accepted = classifySmtpReply({ responseCode: 250, response: '250 2.0.0 Ok: queued as 4ABC' });
  // Four batches in flight, each recording groups of 10 (the worker's group commits).
  await Promise.all(
    [0, 1, 2, 3].map(async (w) => {
      const mine = sends.filter((_s, i) => i % 4 === w);
      for (let i = 0; i < mine.length; i += 10) {
        const group: OutcomeRecord[] = mine.slice(i, i + 10).map((s) => ({
          sendId: s.id,
          leadId: s.lead_id,
          address: s.address,
          attempt: 1,
          at: new Date(),
          outcome: accepted,
          messageId: `<${s.id}.hot@example.test>`,
          nextAttemptAt: null,
        }));
        await recordOutcomes(pool, runId, group, EMAIL, `slot-${w}`);
      }
    }),
  );
  const delivered = await pool.query(`SELECT 1 FROM send WHERE run_id = $1 AND result = 'delivered'`, [
    runId,
  ]);
  expect(delivered.rowCount).toBe(N);
  // The statistics arrive from each backend within seconds; wait until these N updates are counted.
  const after = await waitFor('the updates in the statistics', async () => {
    await pool.query('SELECT pg_stat_force_next_flush()');
    const now = await sendUpdates();
    return now.all - before.all >= N ? now : null;
  });
  // A HOT update writes no index entry. Before issue 17's migration none of these was HOT (result
  // and sent_at were indexed); a few may still not be when a page runs out of room.
  expect(after.hot - before.hot).toBeGreaterThanOrEqual(0.8 * N);
});

test('when SMS are recorded as sent, then they wait for their receipt until one settles them or the timeout sweep does', async () => {
  const { runId, sends } = await pendingRun('sms', 3);
  const [answered, silent, other] = sends as [(typeof sends)[0], (typeof sends)[0], (typeof sends)[0]];
  const tag = uniqueSuffix();
  await recordOutcomes(
    pool,
    runId,
    sends.map((s, i) => ({
      sendId: s.id,
      leadId: s.lead_id,
      address: s.address,
      attempt: 1,
      at: new Date(),
      outcome: submitDeliveryOutcome('submitted', ''),
      messageId: `${tag}-${i}`,
      nextAttemptAt: null,
      extra: { body: 'hi', segments: 1, partIds: [{ seq: 1, messageId: `${tag}-${i}` }] },
    })),
    SMS,
  );
  const waiting = async () =>
    (
      await pool.query<{ send_id: string }>(
        'SELECT send_id::text FROM sms_receipt_wait WHERE send_id = ANY($1::bigint[]) ORDER BY send_id',
        [sends.map((s) => s.id)],
      )
    ).rows.map((r) => r.send_id);
  expect(await waiting()).toEqual(sends.map((s) => s.id));

  // A receipt settles its send, which leaves the queue.
  const unmatched = await applySmsReceipts(pool, [
    { messageId: `${tag}-0`, stat: 'DELIVRD', err: '000', receivedAt: new Date() },
  ]);
  expect(unmatched).toEqual([]);
  expect(await waiting()).toEqual([silent.id, other.id]);

  // A send that left 'sent' some other way is dropped from the queue by the sweep, untouched.
  await pool.query(`UPDATE send SET result = 'error', detail = 'elsewhere' WHERE id = $1`, [other.id]);

  // The sweep gives up on those not answered within the timeout (0 s here).
  await expireSmsReceipts(pool, 0);
  expect(await waiting()).toEqual([]);
  const rows = new Map(
    (
      await pool.query('SELECT id::text, result, detail FROM send WHERE id = ANY($1::bigint[])', [
        sends.map((s) => s.id),
      ])
    ).rows.map((r) => [r.id, r]),
  );
  expect(rows.get(answered.id)).toMatchObject({ result: 'delivered' });
  expect(rows.get(silent.id)).toMatchObject({ result: 'error', detail: 'the result could not be confirmed' });
  expect(rows.get(other.id)).toMatchObject({ result: 'error', detail: 'elsewhere' });
  const run = (await pool.query('SELECT * FROM wizard_run WHERE id = $1', [runId])).rows[0];
  expect(run).toMatchObject({ sent_count: 3, delivered_count: 1, error_count: 1 });
});
