// The email channel: pooled SMTP through channels/email.ts, outcomes
// classified by domain/, retries planned by the reason's schedule.
import { Context, heartbeat } from '@temporalio/activity';
import { planAfterAttempt } from '../domain/retry-plan';
import { markAccepted, prepareEmailTargets, recordEmailOutcomes, type ClaimedSend, type SendRecord } from '../db/run-queries';
import { classifyAcceptedMessage } from '../domain/smtp-classification';
import { renderEmailBatch } from './render-email';
import type { ActivityDeps } from './wizard-run-activities';
import { ZERO, type BatchCounts, type ChannelSender, type SendContext } from './channel-sender';

const FLUSH_EVERY = 50;

export function createEmailSender(deps: ActivityDeps): ChannelSender {
  const { pool } = deps;

  /**
   * Render, send and record claimed sends. Outcomes are recorded in chunks so
   * a crash loses little; cancellation (delivered through heartbeats) stops
   * new sends, and what was sent is recorded before returning.
   */
  async function deliver(sendCtx: SendContext, claimed: ClaimedSend[]): Promise<BatchCounts> {
    const { runId, template, clockMs, schedules } = sendCtx;
    const ctx = Context.current();
    const skew = clockMs - Date.now();
    const messages = await renderEmailBatch(pool, template, claimed, deps.settings);
    const total: BatchCounts = { ...ZERO, claimed: claimed.length };
    let pending: SendRecord[] = [];
    const flush = async () => {
      const chunk = pending;
      pending = [];
      const c = await recordEmailOutcomes(pool, runId, chunk, deps.settings.invalidAfterErrors);
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
        // Accepted by the relay before an interruption: record it, never send it twice.
        const res = target.message_id
          ? { outcome: classifyAcceptedMessage('accepted before the worker was interrupted'), messageId: target.message_id }
          : await deps.email.send(messages.get(target.send_id)!);
        if (!target.message_id && res.outcome.result === 'sent' && res.messageId) {
          await markAccepted(pool, target.send_id, res.messageId);
        }
        const plan = planAfterAttempt(res.outcome, target.attempt, schedules);
        const now = Date.now();
        pending.push({
          sendId: target.send_id,
          leadId: target.lead_id,
          address: target.address,
          attempt: target.attempt,
          at: new Date(now),
          outcome: plan.outcome,
          messageId: res.messageId,
          nextAttemptAt: plan.retryInMs === null ? null : new Date(now + skew + plan.retryInMs),
        });
        // The SDK throttles heartbeats; each one also brings a pending cancellation.
        heartbeat();
        if (pending.length >= FLUSH_EVERY) await flush();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, deps.settings.sendConcurrency) }, worker));
    await flush();
    if (ctx.cancellationSignal.aborted && next < claimed.length) {
      // Claims never sent go back to the state they were claimed from.
      const rest = claimed.slice(next);
      await pool.query(
        `UPDATE send SET attempts = CASE WHEN result = 'pending' THEN 0 ELSE attempts - 1 END,
                         next_attempt_at = CASE WHEN result = 'error' THEN now() ELSE next_attempt_at END
          WHERE id = ANY($1::bigint[])`,
        [rest.map((c) => c.send_id)],
      );
    }
    return total;
  }

  return { prepare: (runId) => prepareEmailTargets(pool, runId), deliver };
}
