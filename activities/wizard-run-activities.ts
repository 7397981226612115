// Every side effect the wizard run workflow asks for. Built by a factory over
// explicit dependencies, so the worker hands in real ones and tests hand in
// real ones pointed at local servers.
import { ApplicationFailure, Context, heartbeat } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { expectedCompletion } from '../domain/run-lifecycle';
import type { EmailTransport } from '../channels/email';
import {
  claimEmailBatch,
  getRun,
  prepareEmailTargets,
  recordEmailOutcomes,
  setExpectedCompletion,
  transitionRun,
  type RecordedCounts,
  type SendRecord,
} from '../db/run-queries';
import { getTemplate } from '../db/template-queries';
import { renderEmailBatch } from './render-email';

export interface ActivityDeps {
  pool: Pool;
  email: EmailTransport;
  logger: Logger;
  settings: {
    bounceDomain: string;
    publicBaseUrl: string;
    invalidAfterErrors: number;
    /** Messages on the wire at once per batch; the pool bounds connections. */
    sendConcurrency: number;
  };
}

export interface RunHeader {
  channel: string;
  status: string;
}

export interface SendBatchInput {
  runId: number;
  fromSeq: number;
  toSeq: number;
  /** Run start (ms) and planned total, to keep the expected completion current. */
  startedAtMs: number;
  totalTargets: number;
  doneBefore: number;
}

const FLUSH_EVERY = 50;

export function createActivities(deps: ActivityDeps) {
  const { pool, logger } = deps;

  async function loadRunHeader(runId: number): Promise<RunHeader | null> {
    const run = await getRun(pool, runId);
    return run ? { channel: run.channel, status: run.status } : null;
  }

  /** reserved → preparing; false when the run is gone or already past it. */
  async function markPreparing(runId: number): Promise<boolean> {
    return transitionRun(pool, runId, ['reserved', 'preparing'], 'preparing');
  }

  async function prepareRun(runId: number): Promise<{ targets: number; excluded: number }> {
    const run = await getRun(pool, runId);
    if (!run) throw ApplicationFailure.nonRetryable(`wizard run ${runId} does not exist`, 'RunMissing');
    const template = await getTemplate(pool, run.template_id);
    if (!template || template.deleted_at) {
      throw ApplicationFailure.nonRetryable(`template ${run.template_id} no longer exists`, 'TemplateMissing');
    }
    if (run.target_kind === 'segment') {
      const seg = await pool.query('SELECT 1 FROM segment WHERE id = $1', [run.segment_id]);
      if (seg.rowCount === 0) throw ApplicationFailure.nonRetryable(`segment ${run.segment_id} no longer exists`, 'SegmentMissing');
    }
    const counts = await prepareEmailTargets(pool, runId);
    logger.info({ runId, ...counts }, 'run prepared');
    return counts;
  }

  async function markRunning(runId: number): Promise<boolean> {
    return transitionRun(pool, runId, ['preparing', 'running'], 'running', { startedAt: true });
  }

  async function markCompleted(runId: number): Promise<boolean> {
    return transitionRun(pool, runId, ['running', 'preparing'], 'completed', { completedAt: true });
  }

  async function markCancelled(runId: number): Promise<boolean> {
    return transitionRun(pool, runId, ['reserved', 'preparing', 'running'], 'cancelled', { completedAt: true });
  }

  async function markError(runId: number, message: string): Promise<boolean> {
    return transitionRun(pool, runId, ['reserved', 'preparing', 'running'], 'error', { errorMessage: message });
  }

  /**
   * Send one range of a run's targets: claim, render, send over the pooled
   * transport, and record outcomes in chunks. Only counts go back to the
   * workflow. Cancellation (delivered through heartbeats) stops new sends;
   * what was sent is recorded before returning.
   */
  async function sendEmailBatch(input: SendBatchInput): Promise<RecordedCounts> {
    const ctx = Context.current();
    const run = await getRun(pool, input.runId);
    if (!run) throw ApplicationFailure.nonRetryable(`wizard run ${input.runId} does not exist`, 'RunMissing');
    if (run.status !== 'running') return { sent: 0, delivered: 0, errors: 0, preErrors: 0 };
    const template = await getTemplate(pool, run.template_id);
    if (!template) throw ApplicationFailure.nonRetryable(`template ${run.template_id} no longer exists`, 'TemplateMissing');

    const claimed = await claimEmailBatch(pool, input.runId, input.fromSeq, input.toSeq, ctx.info.attempt > 1);
    const messages = await renderEmailBatch(pool, template, claimed, deps.settings);
    const total: RecordedCounts = { sent: 0, delivered: 0, errors: 0, preErrors: 0 };
    let pending: SendRecord[] = [];
    const flush = async () => {
      const chunk = pending;
      pending = [];
      const c = await recordEmailOutcomes(pool, input.runId, chunk, deps.settings.invalidAfterErrors);
      total.sent += c.sent;
      total.delivered += c.delivered;
      total.errors += c.errors;
      total.preErrors += c.preErrors;
      heartbeat({ recorded: total.sent + total.preErrors });
    };

    let next = 0;
    const worker = async () => {
      while (next < claimed.length && !ctx.cancellationSignal.aborted) {
        const target = claimed[next++]!;
        const res = await deps.email.send(messages.get(target.send_id)!);
        pending.push({
          sendId: target.send_id,
          leadId: target.lead_id,
          attempt: target.attempt,
          at: new Date(),
          outcome: res.outcome,
          messageId: res.messageId,
        });
        if (pending.length >= FLUSH_EVERY) await flush();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, deps.settings.sendConcurrency) }, worker));
    await flush();

    const eta = expectedCompletion({
      startedAtMs: input.startedAtMs,
      nowMs: Date.now(),
      done: input.doneBefore + total.sent + total.preErrors,
      total: input.totalTargets,
    });
    await setExpectedCompletion(pool, input.runId, eta ? new Date(eta.expectedAtMs) : null);
    if (ctx.cancellationSignal.aborted && next < claimed.length) {
      // Unsent claims return to the pool of never-attempted sends.
      const rest = claimed.slice(next).map((c) => c.send_id);
      await pool.query(`UPDATE send SET attempts = 0 WHERE id = ANY($1::bigint[]) AND result = 'pending'`, [rest]);
    }
    return total;
  }

  return {
    loadRunHeader,
    markPreparing,
    prepareRun,
    markRunning,
    markCompleted,
    markCancelled,
    markError,
    sendEmailBatch,
  };
}

export type WizardRunActivities = ReturnType<typeof createActivities>;
