// The LINE channel (SPEC §7): pushes through ./client.ts, outcomes classified by domain/line-outcome.ts and recorded
// by db/outcomes.ts.
//
// Results: LINE confirms acceptance, never delivery (a push to a user who blocked us is accepted and dropped), so an
// accepted push is recorded 'sent', never 'delivered'; the run's figures are sent / planned and pre-errors. There
// are no retry waves: every recorded outcome is final. Transient failures (rate limit, 5xx, timeout) are retried by
// Temporal retrying the batch activity: what was pushed is recorded first, the rest stays claimed and is re-pushed
// with the same X-Line-Retry-Key, so a push whose answer was lost is answered 409 and counted once.
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context, heartbeat } from '@temporalio/activity';
import { runCannotProceed } from '../run-failure';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { createLineClient, LINE_API_BASE_URL, type LineClient } from './client';
import { validateLineMessages, type LineMessage } from '../../domain/line-messages';
import type { LinePushOutcome } from '../../domain/line-outcome';
import { lineTrackableLinks, renderLineMessages, type LineRender } from '../../domain/line-render';
import { TRACKING_PATHS, ownTrackingPrefixes } from '../../domain/link-rewrite';
import { ensureTrackingTokens, tokenKey, type WantedToken } from '../../db/tracking-queries';
import {
  blockedLeads,
  lineQuotaExhausted,
  liveOfficialAccount,
  markLineQuotaExhausted,
  prepareLineTargets,
  type OfficialAccountRow,
} from '../../db/line-queries';
import type { RecordingRules } from '../../db/outcomes';
import { preErrorOutcome, type DeliveryOutcome } from '../../domain/delivery-outcome';
import { getRun, handBackClaims, type ClaimedSend } from '../../db/run-queries';
import { getTemplate, type TemplateRow } from '../../db/template-queries';
import {
  ZERO,
  chunkedRecording,
  outcomeRecord,
  type BatchCounts,
  type ChannelModule,
  type ChannelSender,
  type SendContext,
  type TemplateDraft,
  type TemplateProblem,
} from '../sender';

export interface LineSenderDeps {
  pool: Pool;
  logger: Logger;
  line: LineClient;
  /** Pushes on the wire at once per batch. */
  concurrency?: number;
  /** Where the click-tracking URLs live (`${publicBaseUrl}/c/<token>`); needed by templates with clickTracking. */
  publicBaseUrl?: string;
}

/** Activity attempts after which a 5xx / timeout / network failure is recorded as an error instead of retried. */
const TRANSIENT_ATTEMPTS = 10;

export const BLOCKED_DETAIL = 'the user blocked the account after befriending it';
export const MONTHLY_LIMIT_DETAIL = 'the monthly message limit is exhausted';

/**
 * LINE confirms acceptance, never delivery: an accepted push is 'sent' for good. Every push is final (no retry
 * waves), so only pending sends change and a chunk recorded twice counts once. A LINE user id is not an address
 * whose deliverability we track: no validity.
 */
const RECORDING: RecordingRules = {
  acceptedAs: 'sent',
  validity: null,
  pendingOnly: true,
  stampPreErrors: false,
};

/**
 * The X-Line-Retry-Key of a send's attempt: a UUID derived from the send id and its attempt number, so a Temporal
 * retry of the batch (same send, same attempt) sends the same key without storing it.
 */
export function lineRetryKey(sendId: string, attempt: number): string {
  const b = createHash('sha256').update(`line-retry-key:${sendId}:${attempt}`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50; // version 5 (name-based, SHA)
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The messages for each claimed send: merge fields in texts, emoji indexes moved with the text, and with click
 * tracking every link in texts and URI actions swapped for its tracking URL. The tokens of a batch are stored in
 * one statement before any push, so a recipient never holds a token the database does not know.
 */
export async function renderLineBatch(
  pool: Pool,
  template: Pick<TemplateRow, 'line_messages' | 'click_tracking'>,
  claimed: readonly ClaimedSend[],
  publicBaseUrl: string | undefined,
): Promise<Map<string, LineRender>> {
  const messages = (template.line_messages ?? []) as LineMessage[];
  const merge = (c: ClaimedSend) => ({ id: c.lead_id, name: c.name, attributes: c.attributes });
  const out = new Map<string, LineRender>();
  if (!template.click_tracking) {
    for (const c of claimed) out.set(c.send_id, renderLineMessages(messages, merge(c)));
    return out;
  }
  if (!publicBaseUrl)
    throw new Error('LINE click tracking needs the public base URL of the tracking endpoints');
  const base = publicBaseUrl.replace(/\/+$/, '');
  const keepPrefixes = ownTrackingPrefixes(base);
  const wanted: WantedToken[] = claimed.flatMap((c) =>
    lineTrackableLinks(messages, merge(c), { keepPrefixes }).map((url) => ({
      sendId: c.send_id,
      part: 'line' as const,
      url,
    })),
  );
  const tokens = await ensureTrackingTokens(pool, wanted);
  for (const c of claimed) {
    out.set(
      c.send_id,
      renderLineMessages(messages, merge(c), {
        keepPrefixes,
        trackingUrlFor: (url) => {
          const token = tokens.get(tokenKey(c.send_id, 'line', url));
          if (!token) throw new Error(`no line token stored for send ${c.send_id}`);
          return `${base}${TRACKING_PATHS.click}${token}`;
        },
      }),
    );
  }
  return out;
}

export function createLineSender(deps: LineSenderDeps): ChannelSender {
  const { pool } = deps;

  async function accountOf(template: TemplateRow): Promise<OfficialAccountRow> {
    const account = await liveOfficialAccount(pool, template.line_account_id);
    if (!account) {
      throw runCannotProceed(
        'AccountMissing',
        `official account ${template.line_account_id ?? '(none)'} of template ${template.id} no longer exists`,
      );
    }
    return account;
  }

  async function prepare(runId: number) {
    const run = await getRun(pool, runId);
    if (!run) throw runCannotProceed('RunMissing', `wizard run ${runId} does not exist`);
    const template = await getTemplate(pool, run.template_id);
    if (!template || template.deleted_at) {
      throw runCannotProceed('TemplateMissing', `template ${run.template_id} no longer exists`);
    }
    await accountOf(template);
    return prepareLineTargets(pool, runId);
  }

  async function deliver(sendCtx: SendContext, claimed: ClaimedSend[]): Promise<BatchCounts> {
    const { runId, template } = sendCtx;
    const ctx = Context.current();
    const account = await accountOf(template);
    const rendered = await renderLineBatch(pool, template, claimed, deps.publicBaseUrl);
    const blocked = await blockedLeads(
      pool,
      claimed.map((c) => c.lead_id),
    );
    let exhausted = await lineQuotaExhausted(pool, runId);
    const total: BatchCounts = { ...ZERO, claimed: claimed.length };
    const recording = chunkedRecording(pool, runId, RECORDING, total);
    const record = (c: ClaimedSend, outcome: DeliveryOutcome, messageId: string | null = null) =>
      recording.add(outcomeRecord(c, outcome, messageId, { lineAccountName: account.name }));

    // A transient failure that stops the batch: thrown after what was pushed is recorded.
    let stoppedBy: LinePushOutcome | null = null;
    let next = 0;
    const worker = async () => {
      while (next < claimed.length && stoppedBy === null && !ctx.cancellationSignal.aborted) {
        const c = claimed[next++]!;
        if (blocked.has(c.lead_id)) {
          await record(c, preErrorOutcome(BLOCKED_DETAIL, 'blocked'));
          continue;
        }
        const render = rendered.get(c.send_id)!;
        if (!render.ok) {
          // LINE would answer 400: never pushed, the reason kept with the send.
          await record(c, preErrorOutcome(render.reason, 'line_message_invalid'));
          continue;
        }
        if (exhausted) {
          await record(c, preErrorOutcome(MONTHLY_LIMIT_DETAIL, 'monthly_limit'));
          continue;
        }
        const outcome = await deps.line.push({
          accessToken: account.access_token,
          to: c.address,
          messages: render.messages,
          retryKey: lineRetryKey(c.send_id, c.attempt),
        });
        heartbeat();
        if (outcome.kind === 'monthly_limit') {
          // Every later push of the account meets it too: stop pushing, in this batch and in later ones.
          exhausted = true;
          await markLineQuotaExhausted(pool, runId);
          await record(c, preErrorOutcome(MONTHLY_LIMIT_DETAIL, 'monthly_limit'));
          continue;
        }
        const giveUp = outcome.kind !== 'rate_limited' && ctx.info.attempt >= TRANSIENT_ATTEMPTS;
        if (outcome.retryable && !giveUp) {
          stoppedBy ??= outcome;
          return;
        }
        await record(c, outcome, outcome.sentMessageIds[0] ?? outcome.acceptedRequestId ?? outcome.requestId);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, deps.concurrency ?? 8) }, worker));
    await recording.flush();

    if (stoppedBy !== null) {
      const outcome: LinePushOutcome = stoppedBy;
      deps.logger.warn(
        { runId, kind: outcome.kind, detail: outcome.detail },
        'LINE push failed; the batch is retried',
      );
      // The unrecorded claims stay claimed: the retried activity reclaims them and pushes with the same retry keys.
      throw ApplicationFailure.create({
        message: `LINE push failed transiently (${outcome.kind}): ${outcome.detail}`,
        type: outcome.kind === 'rate_limited' ? 'LineRateLimited' : 'LineUnavailable',
        nonRetryable: false,
        nextRetryDelay: outcome.retryAfterMs ?? undefined,
      });
    }
    if (ctx.cancellationSignal.aborted && next < claimed.length) {
      // Claims never pushed go back to the state they were claimed from, a wave's due again (as email's).
      await handBackClaims(pool, claimed.slice(next));
    }
    return total;
  }

  return { prepare, deliver };
}

/** LINE's client holds no socket of its own: built from the configuration unless one is handed in. */
/** A LINE template names its official account and holds 1 to 5 valid message objects. */
function checkLineTemplate(t: TemplateDraft): TemplateProblem | null {
  if (!t.lineAccountId)
    return { field: 'body.lineAccountId', message: 'a LINE template names its official account' };
  if (!t.lineMessages)
    return { field: 'body.lineMessages', message: 'a LINE template needs 1 to 5 message objects' };
  const check = validateLineMessages(t.lineMessages, 'body.lineMessages');
  if (check.ok) return null;
  const [first, ...rest] = check.errors;
  return {
    field: first!.path,
    message: [first!.message, ...rest.map((e) => `${e.path}: ${e.message}`)].join('; '),
  };
}

export const lineChannel: ChannelModule = {
  name: 'line',
  label: 'LINE',
  checkTemplate: checkLineTemplate,
  unavailable: 'no line transport is configured on the workers; create the run again once one is',
  createSender: ({ pool, logger, config, transports }) =>
    createLineSender({
      pool,
      logger,
      publicBaseUrl: config.publicBaseUrl,
      line:
        transports.line ??
        createLineClient({
          baseUrl: config.lineApiBaseUrl || LINE_API_BASE_URL,
          timeoutMs: config.lineTimeoutMs,
        }),
    }),
};
