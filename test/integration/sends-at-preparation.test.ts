// A run's sends are created at its preparation and a batch's claim is a read (issue 17): against
// real PostgreSQL, what a retried batch counts as resends, what a cancelled run shows, and a run
// prepared the old way (run_target rows, sends created by claims) finishing after the migration.
import type { Pool } from 'pg';
import { createPool } from '../../db/pool';
import { recordOutcomes, type RecordingRules } from '../../db/outcomes';
import {
  claimTargetBatch,
  handBackClaims,
  prepareEmailTargets,
  transitionRun,
  type ClaimedSend,
} from '../../db/run-queries';
import { sendRepository } from '../../db/repositories/sends';
import { wizardRunRepository } from '../../db/repositories/wizard-runs';
import { listStatement } from '../../db/list-export-queries';
import { outcomeRecord } from '../../channels/sender';
import { classifySmtpReply } from '../../domain/smtp-classification';
import { RESEND_AFTER_INTERRUPTION } from '../../domain/repeat-bound';
import { Migration20261206100000_sends_at_preparation } from '../../db/migrations/Migration20261206100000_sends_at_preparation';
import { uniqueSuffix } from '../support/harness';

const EMAIL: RecordingRules = {
  acceptedAs: 'delivered',
  validity: { invalidAfterErrors: 3 },
  pendingOnly: false,
  stampPreErrors: true,
};

let pool: Pool;
beforeAll(() => {
  pool = createPool(process.env.TEST_DATABASE_URL_READY!, 2);
});
afterAll(() => pool.end());

/** A running email run to `n` new leads (by list), not prepared yet. */
async function emailRun(n: number) {
  const tag = uniqueSuffix();
  const leadIds: number[] = (
    await pool.query<{ id: number }>(
      `INSERT INTO lead (name, email) SELECT 'P' || i, 'p' || i || '.' || $1 || '@example.test'
         FROM generate_series(1, $2) i ORDER BY i RETURNING id`,
      [tag, n],
    )
  ).rows.map((r) => r.id);
  const templateId: number = (
    await pool.query(`INSERT INTO template (channel, title) VALUES ('email', 'Prep') RETURNING id`)
  ).rows[0].id;
  const runId: number = (
    await pool.query(
      `INSERT INTO wizard_run (channel, template_id, template_title, target_kind, lead_ids, status, workflow_id)
       VALUES ('email', $1, 'Prep', 'list', $2, 'running', $3) RETURNING id`,
      [templateId, leadIds, `prep-${tag}`],
    )
  ).rows[0].id;
  return { runId, templateId, leadIds: [...leadIds].sort((a, b) => a - b) };
}

const accepted = classifySmtpReply({ responseCode: 250 });

async function deliver(runId: number, claimed: readonly ClaimedSend[]) {
  await recordOutcomes(
    pool,
    runId,
    claimed.map((c) => outcomeRecord(c, accepted, `<${c.send_id}@prep.test>`)),
    EMAIL,
  );
}

async function sendsOf(runId: number) {
  return (
    await pool.query<{
      id: string;
      lead_id: number;
      seq: number | null;
      result: string;
      attempts: number;
      resends: number;
    }>('SELECT id, lead_id, seq, result, attempts, resends FROM send WHERE run_id = $1 ORDER BY id', [runId])
  ).rows;
}

async function resendRows(runId: number) {
  return (
    await pool.query<{ send_id: string; attempt: number; resend_reason: string | null }>(
      `SELECT a.send_id, a.attempt, a.resend_reason FROM send_attempt a JOIN send s ON s.id = a.send_id
        WHERE s.run_id = $1 ORDER BY a.send_id`,
      [runId],
    )
  ).rows;
}

test('when a run is prepared, then each target has one pending send numbered in lead order, and a first batch reads its range without writing', async () => {
  const { runId, leadIds } = await emailRun(25);
  expect(await prepareEmailTargets(pool, runId)).toEqual({ targets: 25, excluded: 0 });
  // Prepared again (a retried activity): the counts recorded, nothing more.
  expect(await prepareEmailTargets(pool, runId)).toEqual({ targets: 25, excluded: 0 });
  const before = await pool.query('SELECT *, xmin::text AS version FROM send WHERE run_id = $1 ORDER BY id', [
    runId,
  ]);
  expect(before.rows.map((r) => [r.lead_id, r.seq, r.result, r.attempts])).toEqual(
    leadIds.map((id, i) => [id, i + 1, 'pending', 0]),
  );

  const first = await claimTargetBatch(pool, runId, 11, 20, false, 4);
  expect(first.map((c) => c.lead_id)).toEqual(leadIds.slice(10, 20));
  expect(first.every((c) => c.attempt === 1 && c.transmission === 1 && !c.resend)).toBe(true);
  expect(first[0]).toMatchObject({ name: 'P11', address: expect.stringMatching(/^p11\./) });
  const after = await pool.query('SELECT *, xmin::text AS version FROM send WHERE run_id = $1 ORDER BY id', [
    runId,
  ]);
  expect(after.rows).toEqual(before.rows);
  // Nothing of a sent range is read again by a first execution.
  await deliver(runId, first);
  expect(await claimTargetBatch(pool, runId, 11, 20, false, 4)).toEqual([]);
});

test('when a batch is retried after an interruption, then the pending sends before its last recorded one and the window after it are recorded as resends, and no others', async () => {
  const { runId } = await emailRun(24);
  await prepareEmailTargets(pool, runId);
  const first = await claimTargetBatch(pool, runId, 1, 20, false, 4);
  expect(first).toHaveLength(20);
  // The interrupted execution recorded sends 0-4 and 7 (group commits land out of order) and died.
  await deliver(runId, [...first.slice(0, 5), first[7]!]);

  const retried = await claimTargetBatch(pool, runId, 1, 20, true, 4);
  const byId = new Map(retried.map((c) => [c.send_id, c]));
  expect(retried.map((c) => c.send_id)).toEqual(
    [5, 6, ...Array.from({ length: 12 }, (_, i) => 8 + i)].map((i) => first[i]!.send_id),
  );
  const resent = [5, 6, 8, 9, 10, 11].map((i) => first[i]!.send_id);
  for (const c of retried) {
    const resend = resent.includes(c.send_id);
    expect([c.send_id, c.resend, c.attempt, c.transmission]).toEqual([c.send_id, resend, 1, resend ? 2 : 1]);
  }
  await deliver(runId, retried);

  // The history: an attempt row with the resend's reason for each resend and none for the rest;
  // the sends' attempts and resends as the claims of before left them.
  expect(await resendRows(runId)).toEqual(
    resent.map((id) => ({ send_id: id, attempt: 2, resend_reason: RESEND_AFTER_INTERRUPTION })),
  );
  expect(await sendRepository(pool).resentCount(runId)).toBe(6);
  const sends = await sendsOf(runId);
  for (const s of sends.filter((x) => x.seq! <= 20)) {
    expect([s.id, s.result, s.attempts, s.resends]).toEqual([
      s.id,
      'delivered',
      resent.includes(s.id) ? 2 : 1,
      resent.includes(s.id) ? 1 : 0,
    ]);
    expect(byId.has(s.id) || first.slice(0, 8).some((c) => c.send_id === s.id)).toBe(true);
  }
  // Retried once more, the range has nothing left; the next range is untouched.
  expect(await claimTargetBatch(pool, runId, 1, 20, true, 4)).toEqual([]);
  expect(sends.filter((s) => s.seq! > 20).map((s) => [s.result, s.attempts])).toEqual(
    Array.from({ length: 4 }, () => ['pending', 0]),
  );
});

test('when a run is cancelled mid-way, then its unsent list shows every target not sent as pending and its sends are those its batches reached, as before', async () => {
  const { runId, leadIds } = await emailRun(12);
  await prepareEmailTargets(pool, runId);
  const first = await claimTargetBatch(pool, runId, 1, 5, false, 4);
  await deliver(runId, first.slice(0, 2));
  // The cancel reaches the batch: it stops and hands back its claims never sent; the run ends.
  await handBackClaims(pool, first.slice(2));
  expect(await transitionRun(pool, runId, ['running'], 'cancelled', { completedAt: true })).toBe(true);

  const run = (await pool.query('SELECT * FROM wizard_run WHERE id = $1', [runId])).rows[0];
  const unsent = await wizardRunRepository(pool).unsent(run, { limit: 100, offset: 0, afterLeadId: null });
  expect(unsent.map((u) => [u.lead_id, u.reason])).toEqual(leadIds.slice(2).map((id) => [id, 'pending']));
  const page = await wizardRunRepository(pool).unsent(run, { limit: 3, offset: 0, afterLeadId: leadIds[4]! });
  expect(page.map((u) => u.lead_id)).toEqual(leadIds.slice(5, 8));

  const exported = async (list: 'sent' | 'unsent') => {
    const st = listStatement(list, runId, { humanOnly: false });
    return (await pool.query<{ lead_id: number; reason?: string; result?: string }>(st.sql, st.params)).rows;
  };
  expect((await exported('unsent')).map((r) => [r.lead_id, r.reason])).toEqual(
    leadIds.slice(2).map((id) => [id, 'pending']),
  );
  // The run's sends: what its one batch claimed (two delivered, three handed back pending), not the
  // targets no batch reached, which had no send before sends were created at preparation.
  const reached = leadIds.slice(0, 5).map((id, i) => [id, i < 2 ? 'delivered' : 'pending']);
  expect((await exported('sent')).map((r) => [r.lead_id, r.result])).toEqual(reached);
  const ofRun = await sendRepository(pool).ofRun(runId, { limit: 100 });
  expect(ofRun.map((s) => [s.lead_id, s.result])).toEqual(reached);
  // A lead's history: no send of a run that never reached it.
  expect(await sendRepository(pool).ofLead(leadIds[7]!, { limit: 10 })).toEqual([]);
  expect((await sendRepository(pool).ofLead(leadIds[3]!, { limit: 10 })).map((s) => s.result)).toEqual([
    'pending',
  ]);
});

test('when a run prepared the old way (run_target rows, sends created by an interrupted claim) is migrated, then its retried batch and the rest finish with one send per lead', async () => {
  const { runId, templateId, leadIds } = await emailRun(25);
  // The old preparation: numbered targets, no sends.
  await pool.query(
    `INSERT INTO run_target (run_id, seq, lead_id, address, ignored_error)
     SELECT $1, i, l.id, l.email, false FROM unnest($2::int[]) WITH ORDINALITY AS t(id, i) JOIN lead l ON l.id = t.id`,
    [runId, leadIds],
  );
  await pool.query('UPDATE wizard_run SET target_count = 25 WHERE id = $1', [runId]);
  // The old claim of batch 1..10, its ids not in seq order (created last seq first): claimed
  // (attempts 1), sent in send id order; the first four recorded before the worker died.
  const claimedIds: string[] = [];
  for (let seq = 10; seq >= 1; seq--) {
    const r = await pool.query<{ id: string }>(
      `INSERT INTO send (run_id, channel, lead_id, address, template_id, template_title, token, result, attempts)
       SELECT $1, 'email', t.lead_id, t.address, $3, 'Prep', replace(gen_random_uuid()::text, '-', ''), 'pending', 1
         FROM run_target t WHERE t.run_id = $1 AND t.seq = $2 RETURNING id`,
      [runId, seq, templateId],
    );
    claimedIds.push(r.rows[0]!.id);
  }
  const oldClaim = (
    await pool.query<ClaimedSend>(
      `SELECT s.id AS send_id, s.lead_id, s.address, s.token, 1 AS attempt, 1 AS transmission, false AS resend,
              s.message_id, '' AS name, '{}'::jsonb AS attributes
         FROM send s WHERE s.run_id = $1 ORDER BY s.id`,
      [runId],
    )
  ).rows;
  await deliver(runId, oldClaim.slice(0, 4));

  const migration = new Migration20261206100000_sends_at_preparation({} as never, {} as never);
  await migration.up();
  for (const sql of migration.getQueries()) await pool.query(sql as string);

  // The retried batch: the six claimed and unrecorded, in send id order; the first two after the
  // last recorded one are resends (window 2), as the old claim's marks said.
  const retried = await claimTargetBatch(pool, runId, 1, 10, true, 2);
  expect(retried.map((c) => c.send_id)).toEqual(oldClaim.slice(4).map((c) => c.send_id));
  expect(retried.map((c) => [c.resend, c.transmission])).toEqual([
    [true, 2],
    [true, 2],
    [false, 1],
    [false, 1],
    [false, 1],
    [false, 1],
  ]);
  await deliver(runId, retried);
  // The ranges never claimed: their sends created by the migration, read by first executions.
  const second = await claimTargetBatch(pool, runId, 11, 20, false, 2);
  expect(second.map((c) => c.lead_id)).toEqual(leadIds.slice(10, 20));
  await deliver(runId, second);
  const third = await claimTargetBatch(pool, runId, 21, 30, false, 2);
  expect(third.map((c) => c.lead_id)).toEqual(leadIds.slice(20));
  await deliver(runId, third);

  const sends = await sendsOf(runId);
  expect(sends.map((s) => s.lead_id).sort((a, b) => a - b)).toEqual(leadIds);
  expect(sends.every((s) => s.result === 'delivered')).toBe(true);
  expect(await sendRepository(pool).resentCount(runId)).toBe(2);
  const run = (await pool.query('SELECT * FROM wizard_run WHERE id = $1', [runId])).rows[0];
  expect([run.sent_count, run.delivered_count]).toEqual([25, 25]);
  expect(await wizardRunRepository(pool).unsent(run, { limit: 100, offset: 0, afterLeadId: null })).toEqual(
    [],
  );
});
