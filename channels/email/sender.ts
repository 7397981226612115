// The email channel: pooled SMTP through ./transport.ts, outcomes
// classified by domain/smtp-classification.ts, retries planned by the reason's schedule.
import { Context, heartbeat } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { planAfterAttempt } from '../../domain/retry-plan';
import type { RetryPolicy } from '../../domain/retry-schedule';
import { retryPolicyOf } from '../../config/config';
import {
  prepareEmailTargets,
  clearRunHold,
  handBackClaims,
  setRunHold,
  type ClaimedSend,
} from '../../db/run-queries';
import { randomUUID } from 'node:crypto';
import {
  foldRunCounters,
  recordedCounts,
  recordOutcomes,
  type OutcomeRecord,
  type RecordingRules,
} from '../../db/outcomes';
import type { TemplateRow } from '../../db/template-queries';
import { classifyAcceptedMessage, preErrorMissingAddress } from '../../domain/smtp-classification';
import {
  RELAY_REFUSED_BY_AGREEMENT,
  relayHoldMs,
  relayRefusalByAgreement,
  type RefusalSighting,
  type RelayFaultReason,
} from '../../domain/relay-faults';
import type { EmailSendResult, EmailTransport } from './transport';
import { renderEmailBatch, type RenderSettings } from './render';
import { countDomainOutcomes, holdSends, loadDomainRules, loadDomainStates } from '../../db/domain-queries';
import { addDomainTally, domainOf, domainTallyOf, holdUntil, ruleFor } from '../../domain/domain-throttle';
import { countRelayHeldSends, setBreakerState, setRelayFault } from '../../observability/metrics';
import { GroupCommit, SharedCommits } from './group-commit';
import { emailSendConcurrency, unrecordedPerBatch } from '../../domain/repeat-bound';
import { singleSendBlock } from './sender-auth-gate';
import { senderAuthPreError } from '../../domain/sender-auth';
import {
  ZERO,
  addCounts,
  chunkedRecording,
  outcomeRecord,
  type BatchCounts,
  type ChannelModule,
  type ChannelSender,
  type SendContext,
  type TemplateDraft,
  type TemplateProblem,
} from '../sender';

export interface EmailSenderDeps {
  pool: Pool;
  email: EmailTransport;
  logger: Logger;
  settings: RenderSettings & {
    invalidAfterErrors: number;
    /** Errors that quarantine an address (QUARANTINE_AFTER_ERRORS); default the campaign manual's 5. */
    quarantineAfterErrors?: number;
    /** Messages on the wire at once per batch; the pool bounds connections. */
    sendConcurrency: number;
    /** First and longest wait of sends held by a fault of our relay. */
    relayHoldMs?: number;
    relayHoldMaxMs?: number;
    /** Issue 19: single sends from unregistered or unverified domains go out anyway (development). */
    allowUnauthenticatedSending?: boolean;
    /** The global default schedule and the delivery's validity period (config); absent: the built-in ones. */
    retryPolicy?: RetryPolicy;
  };
}

const FLUSH_EVERY = 50;
const HEARTBEAT_EVERY_MS = 1000;
const DEFAULT_RELAY_HOLD_MS = 30_000;
const DEFAULT_RELAY_HOLD_MAX_MS = 600_000;

interface RelayHold {
  reason: RelayFaultReason;
  detail: string;
  untilMs: number;
}

/**
 * What this worker knows of our relay. A relay fault (domain/relay-faults.ts) holds every batch's
 * sends, the way an MX breaker holds a domain's: they go back to wait (holdSends) and the run's
 * retry waves try them again when the hold ends; the hold grows with the outage. The first send
 * the relay answers for a recipient ends the fault.
 */
class RelayGate {
  private fault: (RelayHold & { sinceMs: number; signature: string | null }) | null = null;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly logger: Logger,
  ) {}

  /** The hold in force now, if any. */
  current(nowMs: number): RelayHold | null {
    return this.fault && this.fault.untilMs > nowMs ? this.fault : null;
  }

  /** The relay was found refusing everybody with this reply and has not answered otherwise since. */
  refusesAlike(signature: string): boolean {
    return this.fault?.signature === signature;
  }

  /**
   * A relay fault seen now: hold (or keep holding) sends until the next try. `signature`: the
   * refusal everybody got, when agreement showed the fault.
   */
  trip(
    reason: RelayFaultReason,
    detail: string,
    nowMs: number,
    runId: number,
    signature: string | null = null,
  ): RelayHold {
    const holding = this.current(nowMs);
    if (holding) return holding;
    const sinceMs = this.fault?.sinceMs ?? nowMs;
    const untilMs = nowMs + relayHoldMs(sinceMs, nowMs, this.minMs, this.maxMs);
    const first = this.fault === null;
    this.fault = { reason, detail, sinceMs, untilMs, signature: signature ?? this.fault?.signature ?? null };
    setRelayFault(reason);
    this.logger.warn(
      {
        runId,
        relayFault: reason,
        detail,
        faultSince: new Date(sinceMs).toISOString(),
        nextTryAt: new Date(untilMs).toISOString(),
      },
      first
        ? 'relay fault: email sends are held until the relay works again; no lead or address changes'
        : 'relay still failing: email sends held again',
    );
    return this.fault;
  }

  /** The relay answered for a recipient: it works. */
  recovered(runId: number): void {
    const fault = this.fault;
    if (!fault) return;
    this.fault = null;
    setRelayFault(null);
    this.logger.info(
      { runId, relayFault: fault.reason, faultSeconds: Math.round((Date.now() - fault.sinceMs) / 1000) },
      'relay works again: held email sends resume',
    );
  }
}

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

export function createEmailSender(deps: EmailSenderDeps): ChannelSender {
  const { pool } = deps;
  // An SMTP acceptance is SPEC's delivery (bounces come later, as reports); outcomes move validity.
  const recording: RecordingRules = {
    acceptedAs: 'delivered',
    validity: {
      invalidAfterErrors: deps.settings.invalidAfterErrors,
      quarantineAfterErrors: deps.settings.quarantineAfterErrors,
    },
    pendingOnly: false,
    stampPreErrors: true,
  };
  const slots = new DomainSlots();
  /** Each run's shared group commits in this worker (deliver). */
  const runCommits = new Map<number, SharedCommits<OutcomeRecord>>();
  const relay = new RelayGate(
    deps.settings.relayHoldMs ?? DEFAULT_RELAY_HOLD_MS,
    deps.settings.relayHoldMaxMs ?? DEFAULT_RELAY_HOLD_MAX_MS,
    deps.logger,
  );

  /**
   * Render, send and record claimed sends. Outcomes are recorded in chunks so
   * a crash loses little; cancellation (delivered through heartbeats) stops
   * new sends, and what was sent is recorded before returning.
   */
  async function deliver(sendCtx: SendContext, claimed: ClaimedSend[]): Promise<BatchCounts> {
    const { runId, template, clockMs, schedules } = sendCtx;
    if (sendCtx.preError) {
      // The run's From domain may not send (issue 19): every send is this pre-error, nothing sent.
      const blocked: BatchCounts = { ...ZERO, claimed: claimed.length };
      const rec = chunkedRecording(pool, runId, recording, blocked);
      for (const c of claimed) await rec.add(outcomeRecord(c, sendCtx.preError));
      await rec.flush();
      return blocked;
    }
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
    // Receiving domains' message and error counts for the breaker, written every FLUSH_EVERY outcomes.
    let perDomain = new Map<string, { messages: number; errors: number }>();
    let perDomainCount = 0;
    // Last heartbeat: a batch that could not beat for its whole heartbeat timeout (blocked on a
    // recording write that hung) may have been handed to another worker; it sends nothing more.
    let lastBeat = Date.now();
    const heartbeatTimeoutMs = ctx.info.heartbeatTimeoutMs ?? 0;
    let stalled = false;
    const countDomains = async () => {
      if (perDomainCount === 0) return;
      const counted = perDomain;
      perDomain = new Map();
      perDomainCount = 0;
      const tripped = await countDomainOutcomes(pool, counted, rules);
      if (tripped.length > 0) {
        deps.logger.warn({ runId, domains: tripped }, 'receiving domains blocked by the error-rate breaker');
        for (const [d, state] of await loadDomainStates(pool, tripped)) {
          states.set(d, state);
          setBreakerState(d, true);
        }
      }
    };
    // Outcomes are group-committed: an acceptance is durable as soon as the write carrying it
    // commits, and a batch never has more than `unrecorded` messages sent without a record.
    // The run's batches in flight in this worker write their groups together (SharedCommits: one
    // statement and commit for all, fewer and larger writes), each batch keeping its own slots
    // (the bound). Their own slot of the run's counters (db/outcomes.ts foldRunCounters), folded
    // into the run's row when a batch ends: other workers' commits do not queue on that row. A
    // batch does not join writes stuck longer than its heartbeat timeout (a write that hung): its
    // own may go through.
    let shared = runCommits.get(runId);
    if (!shared || (heartbeatTimeoutMs > 0 && shared.busyFor(Date.now()) > heartbeatTimeoutMs)) {
      const counterSlot = randomUUID();
      shared = new SharedCommits<OutcomeRecord>(async (items) => {
        await recordOutcomes(pool, runId, items, recording, counterSlot);
      });
      runCommits.set(runId, shared);
    }
    const commits = shared;
    const recorder: GroupCommit<OutcomeRecord> = new GroupCommit<OutcomeRecord>(
      async (group) => {
        await commits.submit(recorder, group);
        addCounts(total, recordedCounts(group, recording));
        for (const r of group)
          addDomainTally(perDomain, r.address, domainTallyOf({ kind: 'reply', result: r.outcome.result }));
        perDomainCount += group.length;
        if (perDomainCount >= FLUSH_EVERY) await countDomains();
        const now = Date.now();
        if (now - lastBeat >= HEARTBEAT_EVERY_MS) {
          lastBeat = now;
          heartbeat({ recorded: total.sent + total.preErrors });
        }
      },
      unrecordedPerBatch(deps.settings.sendConcurrency),
      // A group per send concurrency's worth of outcomes: the slots left let sending go on
      // while it commits.
      Math.max(1, deps.settings.sendConcurrency),
    );

    commits.join(recorder);
    const leaveCommits = () => {
      commits.leave(recorder);
      if (commits.size === 0 && runCommits.get(runId) === commits) runCommits.delete(runId);
    };

    let next = 0;
    // Relay faults (domain/relay-faults.ts): this batch's hold, the sends it put back, and refusals
    // that may be the relay's, kept aside until they agree (the relay) or the batch ends (each
    // recipient's own).
    let relayHold: RelayHold | null = null;
    /** The relay gives everybody the same refusal: one fault for the worker, whoever saw it. */
    const tripByAgreement = (detail: string, signature: string) =>
      relay.trip(
        RELAY_REFUSED_BY_AGREEMENT.reason,
        `${RELAY_REFUSED_BY_AGREEMENT.explanation}: ${detail}`,
        Date.now(),
        runId,
        signature,
      );
    const relayHeld: string[] = [];
    let reachedRelay = false;
    let suspects: Array<{ target: ClaimedSend; res: EmailSendResult; sighting: RefusalSighting }> = [];
    let acceptedSinceSuspect = 0;
    const record = (
      target: ClaimedSend,
      res: { outcome: EmailSendResult['outcome']; messageId: string | null },
      slotted = true,
    ) => {
      const plan = planAfterAttempt(res.outcome, target.attempt, schedules, deps.settings.retryPolicy);
      const attempt = outcomeRecord(target, plan.outcome, res.messageId);
      // A resend repeats the Message-ID of the copy that may have gone out (it is the send's own).
      if (attempt.resend)
        attempt.resend.originalMessageId = messages.get(target.send_id)?.messageId ?? target.message_id;
      const retryAt = plan.retryInMs === null ? null : attempt.at.getTime() + skew + plan.retryInMs;
      recorder.add({ ...attempt, nextAttemptAt: retryAt === null ? null : new Date(retryAt) }, slotted);
    };
    const worker = async () => {
      while (next < claimed.length && !ctx.cancellationSignal.aborted) {
        // A slot first: no message goes out while the batch has its bound of unrecorded ones,
        // nor at all once a recording write failed (domain/repeat-bound.ts).
        if (!(await recorder.acquire())) break;
        if (next >= claimed.length || ctx.cancellationSignal.aborted) {
          recorder.release();
          break;
        }
        if (heartbeatTimeoutMs > 0 && Date.now() - lastBeat > heartbeatTimeoutMs) {
          stalled = true;
          recorder.release();
          break;
        }
        const target = claimed[next++]!;
        const domain = domainOf(target.address);
        const rule = ruleFor(domain, rules);
        if (!target.message_id) {
          // Our relay is failing: wait for it, untouched (SPEC §10).
          relayHold ??= relay.current(Date.now());
          if (relayHold) {
            relayHeld.push(target.send_id);
            recorder.release();
            continue;
          }
          // Held back by the breaker or the hourly allowance: delayed, not failed (SPEC 5).
          const until = holdUntil(states.get(domain), rule, sentThisBatch.get(domain) ?? 0, Date.now());
          if (until) {
            held.push({ sendId: target.send_id, until: new Date(until.getTime() + skew) });
            recorder.release();
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
          let sent: EmailSendResult;
          try {
            sent = await deps.email.send(messages.get(target.send_id)!);
          } finally {
            slots.release(domain);
          }
          const fault = sent.outcome.relayFault;
          if (fault) {
            relayHold ??= relay.trip(fault, sent.outcome.detail, Date.now(), runId);
            relayHeld.push(target.send_id);
            recorder.release();
            continue;
          }
          const signature = sent.outcome.refusalSignature;
          if (signature && (relayHold || relay.refusesAlike(signature))) {
            // The relay is already known to refuse (everybody alike): this one waits with the rest.
            relayHold ??= tripByAgreement(sent.outcome.detail, signature);
            relayHeld.push(target.send_id);
            recorder.release();
            continue;
          }
          if (signature) {
            suspects.push({
              target,
              res: sent,
              sighting: { domain, signature },
            });
            const sightings = suspects.map((x) => x.sighting);
            if (relayRefusalByAgreement(sightings, acceptedSinceSuspect)) {
              relayHold ??= tripByAgreement(sent.outcome.detail, signature);
              relayHeld.push(...suspects.map((x) => x.target.send_id));
              suspects = [];
            }
            // A refusal, not an acceptance: nothing to send twice, so it frees its slot now.
            recorder.release();
            continue;
          }
          // The relay answered for this recipient: it works.
          reachedRelay = true;
          relay.recovered(runId);
          if (suspects.length > 0 && sent.outcome.result === 'sent') acceptedSinceSuspect++;
          res = sent;
        }
        // Not awaited: the next message need not wait for this commit, only for a free slot.
        record(target, res);
        const now = Date.now();
        // Each heartbeat also brings a pending cancellation. The SDK throttles what
        // reaches the server but still encodes every call, so beat at most every second.
        if (now - lastBeat >= HEARTBEAT_EVERY_MS) {
          lastBeat = now;
          heartbeat();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, deps.settings.sendConcurrency) }, worker)).catch(
      (err: unknown) => {
        leaveCommits();
        throw err;
      },
    );
    // Refusals that never agreed: each recipient's own, classified as usual.
    for (const x of suspects) {
      reachedRelay = true;
      record(x.target, x.res, false);
    }
    // Everything sent is recorded, or the batch fails here (its retry resends what was not).
    try {
      await recorder.settle();
    } finally {
      leaveCommits();
      // What was recorded is counted in the run's row (a failed fold leaves the slot to the next one).
      await foldRunCounters(pool, runId).catch(() => undefined);
    }
    if (stalled)
      throw new Error(
        'send batch stopped: no heartbeat for its whole heartbeat timeout (a recording write hung); its retry sends the rest',
      );
    await countDomains();
    const holdRelay = relayHold as RelayHold | null;
    if (holdRelay) {
      const until = new Date(holdRelay.untilMs + skew);
      held.push(...relayHeld.map((sendId) => ({ sendId, until })));
    }
    await holdSends(pool, held);
    if (holdRelay) {
      countRelayHeldSends(holdRelay.reason, relayHeld.length);
      await setRunHold(pool, runId, {
        reason: holdRelay.reason,
        detail: holdRelay.detail,
        until: new Date(holdRelay.untilMs + skew),
      });
    } else if (reachedRelay) {
      await clearRunHold(pool, runId);
    }
    if (ctx.cancellationSignal.aborted && next < claimed.length) {
      // Claims never sent go back to the state they were claimed from.
      await handBackClaims(pool, claimed.slice(next));
    }
    return total;
  }

  /**
   * A single send (SPEC 2): goes out whatever the validity flag says, is
   * recorded without a run and classified like any other. No retry waves:
   * a transactional message that cannot go now is reported, not re-sent later.
   */
  async function sendSingle(claimed: ClaimedSend, template: TemplateRow): Promise<void> {
    let outcome: OutcomeRecord['outcome'] = preErrorMissingAddress();
    let messageId: string | null = null;
    const block = await singleSendBlock(
      pool,
      template.from_address,
      deps.settings.allowUnauthenticatedSending ?? false,
    );
    if (block) outcome = senderAuthPreError(block);
    else if (claimed.address) {
      const messages = await renderEmailBatch(pool, template, [claimed], deps.settings);
      ({ outcome, messageId } = await deps.email.send(messages.get(claimed.send_id)!));
    }
    await recordOutcomes(pool, null, [outcomeRecord(claimed, outcome, messageId)], recording);
  }

  return {
    prepare: (runId) => prepareEmailTargets(pool, runId, deps.settings.quarantineAfterErrors),
    deliver,
    sendSingle,
    resendWindow: unrecordedPerBatch(deps.settings.sendConcurrency),
  };
}

/** An email template is complete with a subject, a from address and the bodies its format names. */
function checkEmailTemplate(t: TemplateDraft): TemplateProblem | null {
  const format = t.format ?? 'text';
  if (!t.subject) return { field: 'body.subject', message: 'an email template needs a subject' };
  if (!t.from) return { field: 'body.from', message: 'an email template needs a from address' };
  if (format !== 'html' && !t.bodyText)
    return { field: 'body.bodyText', message: `a ${format} template needs a text body` };
  if (format !== 'text' && !t.bodyHtml)
    return { field: 'body.bodyHtml', message: `a ${format} template needs an HTML body` };
  for (const f of ['smsBody', 'lineAccountId', 'lineMessages'] as const) {
    if (t[f] !== undefined) return { field: `body.${f}`, message: 'not a field of an email template' };
  }
  return null;
}

/** Opens are seen only through the image in an HTML part (SPEC §8), when the template tracks them. */
function emailOpensUnmeasurable(template: TemplateRow | null): string | null {
  const format = template?.email_format ?? 'text';
  if (format === 'text') return 'not measurable: text mail carries no tracking image';
  if (template && !template.open_tracking) return 'not measurable: open tracking was off for this template';
  return null;
}

export const emailChannel: ChannelModule = {
  name: 'email',
  label: 'email',
  checkTemplate: checkEmailTemplate,
  singleSendAddress: (lead) => lead.email ?? '',
  opensUnmeasurable: emailOpensUnmeasurable,
  unavailable: 'no email transport is configured on the workers; create the run again once one is',
  createSender: ({ pool, logger, config, transports }) =>
    transports.email
      ? createEmailSender({
          pool,
          email: transports.email,
          logger,
          settings: {
            bounceDomain: config.bounceDomain,
            publicBaseUrl: config.publicBaseUrl,
            invalidAfterErrors: config.invalidAfterErrors,
            quarantineAfterErrors: config.quarantineAfterErrors,
            sendConcurrency: emailSendConcurrency(config.smtpMaxConnections),
            relayHoldMs: config.relayHoldSeconds * 1000,
            relayHoldMaxMs: config.relayHoldMaxSeconds * 1000,
            allowUnauthenticatedSending: config.allowUnauthenticatedSending === 1,
            retryPolicy: retryPolicyOf(config),
          },
        })
      : null,
};
