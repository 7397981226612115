// The seam between the run's generic machinery (claiming targets, retry waves,
// counters: activities/) and one channel: each channel prepares its targets
// (its own exclusions), delivers claimed sends and makes single sends,
// recording outcomes through db/outcomes.ts. Channels are declared in
// channels/registry.ts.
import { heartbeat } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { PreparedTargets, ClaimedSend, RunRow } from '../db/run-queries';
import type { LeadRow } from '../db/lead-queries';
import { recordOutcomes, type OutcomeRecord, type RecordedCounts, type RecordingRules } from '../db/outcomes';
import type { DeliveryOutcome } from '../domain/delivery-outcome';
import { RESEND_AFTER_INTERRUPTION } from '../domain/repeat-bound';
import type { TemplateRow } from '../db/template-queries';
import type { AppConfig } from '../config/config';
import type { Channel } from '../domain/channels';
import type { RetrySchedule } from '../domain/retry-schedule';
import type { EmailTransport } from './email/transport';
import type { SmsTransport } from './sms/transport';
import type { LineClient } from './line/client';

export type BatchCounts = RecordedCounts & { claimed: number };

export const ZERO: BatchCounts = { sent: 0, delivered: 0, errors: 0, preErrors: 0, claimed: 0 };

/** Add recorded counts to a batch's running total. */
export function addCounts(total: BatchCounts, c: RecordedCounts): void {
  total.sent += c.sent;
  total.delivered += c.delivered;
  total.errors += c.errors;
  total.preErrors += c.preErrors;
}

/** A claimed send's attempt with its outcome, as recorded now; final unless the caller sets a retry. */
export function outcomeRecord(
  target: ClaimedSend,
  outcome: DeliveryOutcome,
  messageId: string | null = null,
  extra?: OutcomeRecord['extra'],
): OutcomeRecord {
  return {
    sendId: target.send_id,
    leadId: target.lead_id,
    address: target.address,
    attempt: target.attempt,
    transmission: target.transmission,
    resend: target.resend ? { reason: RESEND_AFTER_INTERRUPTION, originalMessageId: null } : null,
    at: new Date(),
    outcome,
    messageId,
    nextAttemptAt: null,
    extra,
  };
}

const FLUSH_EVERY = 50;

/**
 * A batch's outcomes recorded in chunks, so a crash loses little: each chunk is one transaction
 * (db/outcomes.ts), adds its counts to the batch's total and heartbeats the progress.
 */
export function chunkedRecording(
  pool: Pool,
  runId: number | null,
  rules: RecordingRules,
  total: BatchCounts,
) {
  let pending: OutcomeRecord[] = [];
  const flush = async (): Promise<void> => {
    const chunk = pending;
    pending = [];
    addCounts(total, await recordOutcomes(pool, runId, chunk, rules));
    heartbeat({ recorded: total.sent + total.preErrors });
  };
  return {
    async add(record: OutcomeRecord): Promise<void> {
      pending.push(record);
      if (pending.length >= FLUSH_EVERY) await flush();
    },
    flush,
  };
}

export interface SendContext {
  runId: number;
  template: TemplateRow;
  /** The workflow's clock: retry due times are set on it. */
  clockMs: number;
  schedules?: Record<string, RetrySchedule>;
  /** Every claimed send is recorded with this pre-error, nothing sent (issue 19: 91002 / 91003). */
  preError?: DeliveryOutcome;
}

export interface ChannelSender {
  /** Resolve a run's targets and exclusions (one set-based statement); idempotent. */
  prepare(runId: number): Promise<PreparedTargets>;
  /** Render, send and record claimed sends; only counts come back. */
  deliver(ctx: SendContext, claimed: ClaimedSend[]): Promise<BatchCounts>;
  /** One single send (no run, SPEC 2), claimed for its one attempt: send and record it. */
  sendSingle?(claimed: ClaimedSend, template: TemplateRow): Promise<void>;
  /**
   * At most this many of a batch's messages are sent without a durable record at once
   * (domain/repeat-bound.ts): a retried batch counts as resends only the unrecorded sends of its
   * range that can have gone out. Absent: every unrecorded send of the range counts as a resend.
   */
  resendWindow?: number;
}

/**
 * What every sender is built from: the worker's database, logger and configuration, and the
 * transports that hold sockets the process opens and closes itself. A channel whose transport is
 * absent has no sender (SMS without SMPP_URL); a channel may build its own from the configuration
 * when none is handed in (LINE's HTTP client).
 */
export interface SenderEnv {
  pool: Pool;
  logger: Logger;
  config: AppConfig;
  transports: { email?: EmailTransport; sms?: SmsTransport; line?: LineClient };
}

/** A template as the API receives it (POST/PATCH /v1/templates), before it is stored. */
export interface TemplateDraft {
  format?: 'text' | 'html' | 'multipart';
  subject?: string;
  from?: string;
  bodyText?: string;
  bodyHtml?: string;
  smsBody?: string;
  lineAccountId?: number;
  lineMessages?: Record<string, unknown>[];
}

/** What is wrong with a template draft, with the request field at fault (`body.subject`). */
export interface TemplateProblem {
  field: string;
  message: string;
}

/** One channel as the registry declares it. */
export interface ChannelModule {
  name: Channel;
  /** The channel's name in messages to API users ('SMS'). */
  label: string;
  /** This channel's sender, or null when its transport is not configured on this worker. */
  createSender(env: SenderEnv): ChannelSender | null;
  /** Why a run of this channel cannot go on when the workers have no sender for it. */
  unavailable: string;
  /** The channel's completeness rules for a template: the first problem, or null. */
  checkTemplate(draft: TemplateDraft): TemplateProblem | null;
  /** The address a single send (POST /v1/messages) goes to; absent: the channel has no single sends. */
  singleSendAddress?(lead: LeadRow): string;
  /** Why opens of a run cannot be measured (null: they can); absent: the channel carries no tracking image. */
  opensUnmeasurable?(template: TemplateRow | null): string | null;
  /** The run's "sent" figure, when it is not its count of sent messages (SMS: parts after splitting). */
  sentFigure?(run: RunRow): number;
}
