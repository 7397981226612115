// The email channel: pooled SMTP through channels/email.ts, outcomes
// classified by domain/, retries planned by the reason's schedule.
import { Context, heartbeat } from '@temporalio/activity';
import { planAfterAttempt } from '../domain/retry-plan';
import {
  prepareEmailTargets,
  recordEmailOutcomes,
  type ClaimedSend,
  type SendRecord,
} from '../db/run-queries';
import { classifyAcceptedMessage } from '../domain/smtp-classification';
import { renderEmailBatch } from './render-email';
import { countDomainOutcomes, holdSends, loadDomainRules, loadDomainStates } from '../db/domain-queries';
import { domainOf, holdUntil, ruleFor } from '../domain/domain-throttle';
import { setBreakerState } from '../observability/metrics';
import type { ActivityDeps } from './wizard-run-activities';
import { AcceptMarks } from './accept-marks';
import { ZERO, type BatchCounts, type ChannelSender, type SendContext } from './channel-sender';

const FLUSH_EVERY = 50;
const HEARTBEAT_EVERY_MS = 1000;

/** Connections in use per receiving domain in this worker (SPEC 5 max connections). */
class DomainSlots {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  async acquire(domain: string, max: number): Promise<void> {
    while ((this.active.get(domain) ?? 0) >= Math.max(1, max)) {
      await new Promise<void>((resolve) =>
        this.waiting.set(domain, [...(this.waiting.get(domain) ?? []), resolve]),
      );
    }
    this.active.set(domain, (this.active.get(domain) ?? 0) + 1);
  }

  release(domain: string): void {
    this.active.set(domain, (this.active.get(domain) ?? 1) - 1);
    const next = this.waiting.get(domain)?.shift();
    next?.();
  }
}

export function createEmailSender(deps: ActivityDeps): ChannelSender {
  const { pool } = deps;
  const slots = new DomainSlots();
  // One group writer for every batch of this worker, so concurrent batches share statements.
  const acceptMarks = new AcceptMarks(pool);

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
    // MX management: per-domain rules and breaker state, shared by all workers through the database.
    const rules = await loadDomainRules(pool);
    const states = await loadDomainStates(pool, [...new Set(claimed.map((c) => domainOf(c.address)))]);
    for (const st of states.values())
      setBreakerState(st.domain, !!st.blockedUntil && st.blockedUntil.getTime() > Date.now());
    const sentThisBatch = new Map<string, number>();
    const held: Array<{ sendId: string; until: Date }> = [];
    let pending: SendRecord[] = [];
    let marks: Promise<void>[] = [];
    let markFailure: unknown = null;
    const flush = async () => {
      const chunk = pending;
      pending = [];
      const written = marks;
      marks = [];
      await Promise.all(written);
      if (markFailure) throw markFailure;
      const perDomain = new Map<string, { messages: number; errors: number }>();
      for (const r of chunk) {
        const d = perDomain.get(domainOf(r.address)) ?? { messages: 0, errors: 0 };
        d.messages++;
        if (r.outcome.result === 'error') d.errors++;
        perDomain.set(domainOf(r.address), d);
      }
      const c = await recordEmailOutcomes(pool, runId, chunk, deps.settings.invalidAfterErrors);
      const tripped = await countDomainOutcomes(pool, perDomain, rules);
      if (tripped.length > 0) {
        deps.logger.warn({ runId, domains: tripped }, 'receiving domains blocked by the error-rate breaker');
        for (const [d, state] of await loadDomainStates(pool, tripped)) {
          states.set(d, state);
          setBreakerState(d, true);
        }
      }
      total.sent += c.sent;
      total.delivered += c.delivered;
      total.errors += c.errors;
      total.preErrors += c.preErrors;
      heartbeat({ recorded: total.sent + total.preErrors });
    };

    let next = 0;
    let lastBeat = 0;
    const worker = async () => {
      while (next < claimed.length && !ctx.cancellationSignal.aborted && !markFailure) {
        const target = claimed[next++]!;
        const domain = domainOf(target.address);
        const rule = ruleFor(domain, rules);
        if (!target.message_id) {
          // Held back by the breaker or the hourly allowance: delayed, not failed (SPEC 5).
          const until = holdUntil(states.get(domain), rule, sentThisBatch.get(domain) ?? 0, Date.now());
          if (until) {
            held.push({ sendId: target.send_id, until: new Date(until.getTime() + skew) });
            continue;
          }
          sentThisBatch.set(domain, (sentThisBatch.get(domain) ?? 0) + 1);
        }
        let res;
        if (target.message_id) {
          // Accepted by the relay before an interruption: record it, never send it twice.
          res = {
            outcome: classifyAcceptedMessage('accepted before the worker was interrupted'),
            messageId: target.message_id,
          };
        } else {
          await slots.acquire(domain, rule.maxConnections);
          try {
            res = await deps.email.send(messages.get(target.send_id)!);
          } finally {
            slots.release(domain);
          }
        }
        if (!target.message_id && res.outcome.result === 'sent' && res.messageId) {
          // Not awaited here: the next message need not wait for this commit; a flush waits for all.
          // A failed write (the database is away) stops sending, so a retried batch resends little.
          marks.push(
            acceptMarks.add({ sendId: target.send_id, messageId: res.messageId }).catch((err: unknown) => {
              markFailure ??= err;
            }),
          );
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
        // Each heartbeat also brings a pending cancellation. The SDK throttles what
        // reaches the server but still encodes every call, so beat at most every second.
        if (now - lastBeat >= HEARTBEAT_EVERY_MS) {
          lastBeat = now;
          heartbeat();
        }
        if (pending.length >= FLUSH_EVERY) await flush();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, deps.settings.sendConcurrency) }, worker));
    await flush();
    await holdSends(pool, held);
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
