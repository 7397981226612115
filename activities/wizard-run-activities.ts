// Every side effect the wizard run workflow asks for. Built by a factory over
// explicit dependencies, so the worker hands in real ones and tests hand in
// real ones pointed at local servers.
import { Context, heartbeat } from '@temporalio/activity';
import { runCannotProceed } from '../channels/run-failure';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { isChannel, type Channel } from '../domain/channels';
import { expectedCompletion } from '../domain/run-lifecycle';
import { parseRetrySchedules, type RetrySchedule } from '../domain/retry-schedule';
import {
  claimTargetBatch,
  claimRetryBatch,
  claimSingleSend,
  dropPendingRetries,
  getRun,
  measuredThroughput,
  nextRetryDue,
  setExpectedCompletion,
  transitionRun,
  type RunRow,
} from '../db/run-queries';
import { getTemplate, type TemplateRow } from '../db/template-queries';
import { applyPendingReports } from '../db/report-queries';
import { sendStanding } from '../db/outcomes';
import { ZERO, type BatchCounts, type ChannelSender } from '../channels/sender';
import { CHANNEL_MODULES } from '../channels/registry';
import type { NoticeMailer } from '../channels/email/notices';
import { plannedCompletion } from '../domain/run-summary';
import { figuresOfRun } from '../channels/run-figures';
import {
  errorNoticeAddress,
  noticeLocale,
  reminderMail,
  runEndMail,
  runFailureNotice,
  runStartMail,
  singleSendFailureNotice,
} from './notification-mails';
import { observeBatch, observeQueueLag, recordMessages } from '../observability/metrics';
import { preflightRefusal, senderAuthPreError } from '../domain/sender-auth';
import { storeRunPreflight, type SenderAuthSettings } from './sender-auth-activities';

export interface ActivityDeps {
  pool: Pool;
  logger: Logger;
  /** The senders of the channels this worker runs (channels/registry.ts createSenders). */
  senders: Partial<Record<Channel, ChannelSender>>;
  /** How status mail and failure notices go out. */
  notices: NoticeMailer;
  settings: {
    notifyFrom: string;
    invalidAfterErrors: number;
    /** QUARANTINE_AFTER_ERRORS; default the campaign manual's 5. */
    quarantineAfterErrors?: number;
    /** Issue 19: the pre-flight check of each run and its thresholds; absent: no check. */
    senderAuth?: SenderAuthSettings;
    /** Messages per minute a run is planned at before its channel's runs were measured (RUN_THROUGHPUT_PER_MINUTE). */
    runThroughputPerMinute?: number;
    /** Issue 18: the account's language (DEFAULT_LANGUAGE) and time zone (ACCOUNT_TIME_ZONE) of notices; ja and Asia/Tokyo when absent. */
    language?: string;
    timeZone?: string;
  };
}

/** The pre-error every send of a run gets when its From domain may not send (91002 / 91003). */
function runPreError(run: RunRow) {
  return run.sender_auth_code !== null
    ? senderAuthPreError({
        code: run.sender_auth_code as 91002 | 91003,
        detail: run.sender_auth_detail ?? 'sending domain not verified',
      })
    : undefined;
}

export interface RunHeader {
  channel: string;
  status: string;
}

export interface SendBatchInput {
  runId: number;
  fromSeq: number;
  toSeq: number;
  /** The workflow's clock: retry due times are set on it (time-skipping tests move it). */
  clockMs: number;
  /** Run start (ms) and planned total, to keep the expected completion current. */
  startedAtMs: number;
  totalTargets: number;
  doneBefore: number;
}

export interface RetryWaveInput {
  runId: number;
  /** Sends due at or before this time (workflow clock) are retried. */
  dueByMs: number;
  clockMs: number;
  limit: number;
}

export function createActivities(deps: ActivityDeps) {
  const { pool, logger } = deps;
  const senderFor = (channel: string): ChannelSender => {
    const sender = isChannel(channel) ? deps.senders[channel] : undefined;
    if (!sender)
      throw runCannotProceed(
        'ChannelUnavailable',
        isChannel(channel)
          ? CHANNEL_MODULES[channel].unavailable
          : `no ${channel} transport is configured on the workers; create the run again once one is`,
      );
    return sender;
  };

  async function loadRunHeader(runId: number): Promise<RunHeader | null> {
    const run = await getRun(pool, runId);
    return run ? { channel: run.channel, status: run.status } : null;
  }

  /**
   * reserved → preparing; false when the run is already past it (cancelled,
   * marked error). A run with no row is a failure, never a quiet end: the API
   * commits the row before it starts the workflow, so none is expected.
   */
  async function markPreparing(runId: number): Promise<boolean> {
    if (await transitionRun(pool, runId, ['reserved', 'preparing'], 'preparing')) return true;
    if (!(await getRun(pool, runId)))
      throw runCannotProceed('RunMissing', `wizard run ${runId} does not exist`);
    return false;
  }

  async function prepareRun(runId: number): Promise<{ targets: number; excluded: number }> {
    const run = await getRun(pool, runId);
    if (!run) throw runCannotProceed('RunMissing', `wizard run ${runId} does not exist`);
    const template = await getTemplate(pool, run.template_id);
    if (!template || template.deleted_at) {
      throw runCannotProceed('TemplateMissing', `template ${run.template_id} no longer exists`);
    }
    if (run.target_kind === 'segment') {
      const seg = await pool.query('SELECT 1 FROM segment WHERE id = $1', [run.segment_id]);
      if (seg.rowCount === 0)
        throw runCannotProceed('SegmentMissing', `segment ${run.segment_id} no longer exists`);
    }
    const counts = await senderFor(run.channel).prepare(runId);
    logger.info({ runId, ...counts }, 'run prepared');
    if (deps.settings.senderAuth) {
      const preflight = await storeRunPreflight(pool, run, template, deps.settings.senderAuth);
      if (preflight.block)
        logger.warn(
          { runId, code: preflight.block.code, detail: preflight.block.detail },
          'sends become pre-errors',
        );
      const refused = preflightRefusal(preflight);
      if (refused) throw runCannotProceed('PreflightRefused', refused);
    }
    return counts;
  }

  /**
   * preparing → running, with the planned completion (送信完了予定日時) from the
   * moment the targets are known: the targets over the channel's measured
   * throughput, or the configured one. Batches refine it as they measure.
   */
  async function markRunning(runId: number): Promise<boolean> {
    const moved = await transitionRun(pool, runId, ['preparing', 'running'], 'running', { startedAt: true });
    const run = moved ? await getRun(pool, runId) : null;
    if (run && run.expected_completion_at === null) {
      const perMinute =
        (await measuredThroughput(pool, run.channel)) ?? deps.settings.runThroughputPerMinute ?? 3000;
      const planned = plannedCompletion({ nowMs: Date.now(), targets: run.target_count, perMinute });
      if (planned) await setExpectedCompletion(pool, runId, new Date(planned.expectedAtMs));
    }
    return moved;
  }

  async function markCompleted(runId: number): Promise<boolean> {
    return transitionRun(pool, runId, ['running', 'preparing'], 'completed', { completedAt: true });
  }

  /**
   * The run's workflow was cancelled: the run ends cancelled, or — already
   * completed, its waves going on — its pending waves are cancelled (and so
   * recorded). Either way no send keeps a next attempt.
   */
  async function markCancelled(runId: number): Promise<boolean> {
    if (
      await transitionRun(pool, runId, ['reserved', 'preparing', 'running'], 'cancelled', {
        completedAt: true,
      })
    )
      return true;
    const run = await getRun(pool, runId);
    if (run?.status === 'completed') {
      await pool.query(
        `UPDATE wizard_run SET waves_cancelled_at = coalesce(waves_cancelled_at, now()),
                waves_cancelled_by = coalesce(waves_cancelled_by, cancelled_by), updated_at = now()
          WHERE id = $1 AND waves_cancelled_at IS NULL`,
        [runId],
      );
      await dropPendingRetries(pool, runId);
    }
    return false;
  }

  async function markError(runId: number, message: string): Promise<boolean> {
    return transitionRun(pool, runId, ['reserved', 'preparing', 'running'], 'error', {
      errorMessage: message,
    });
  }

  async function loadSendingContext(
    runId: number,
    wave = false,
  ): Promise<{ run: RunRow; template: TemplateRow; schedules?: Record<string, RetrySchedule> } | null> {
    const run = await getRun(pool, runId);
    if (!run) throw runCannotProceed('RunMissing', `wizard run ${runId} does not exist`);
    // Retry waves go on after the run completed, until they are cancelled.
    const sending =
      run.status === 'running' || (wave && run.status === 'completed' && !run.waves_cancelled_at);
    if (!sending) return null;
    const template = await getTemplate(pool, run.template_id);
    if (!template) throw runCannotProceed('TemplateMissing', `template ${run.template_id} no longer exists`);
    const parsed = run.retry_schedules ? parseRetrySchedules(run.retry_schedules) : null;
    return { run, template, schedules: parsed?.ok ? parsed.value : undefined };
  }

  /**
   * One send batch with its logs (a child logger carrying the run id: start and
   * finish at debug, failure at warn) and metrics by the run's channel: queue lag
   * (this attempt scheduled by the server → started here: the SDK's Info has no
   * started timestamp, so the worker's clock at entry), batch seconds and counts.
   * A run that is no longer running sends nothing and counts nothing.
   */
  async function measuredBatch(
    kind: string,
    runId: number,
    detail: Record<string, unknown>,
    work: (sending: NonNullable<Awaited<ReturnType<typeof loadSendingContext>>>) => Promise<BatchCounts>,
  ): Promise<BatchCounts> {
    const log = logger.child({ runId });
    const info = Context.current().info;
    const startedAtMs = Date.now();
    const t0 = performance.now();
    // Liveness: while this process runs the batch, it heartbeats every second even when
    // no message completes (a relay stalled for its socket timeout), so the short
    // heartbeat timeout (BATCH_HEARTBEAT_TIMEOUT_SECONDS) fires only for a dead worker.
    const alive = setInterval(() => heartbeat(), 1000);
    try {
      const sending = await loadSendingContext(runId, kind === 'retry');
      if (!sending) {
        log.debug({ ...detail }, `${kind} batch skipped: the run is not running`);
        return ZERO;
      }
      const channel = sending.run.channel;
      observeQueueLag(channel, (startedAtMs - info.currentAttemptScheduledTimestampMs) / 1000);
      log.debug({ channel, attempt: info.attempt, ...detail }, `${kind} batch started`);
      const counts = await work(sending);
      const seconds = (performance.now() - t0) / 1000;
      observeBatch(channel, seconds);
      recordMessages(channel, counts);
      log.debug({ channel, ...counts, seconds }, `${kind} batch finished`);
      return counts;
    } catch (err) {
      log.warn({ err, attempt: info.attempt, ...detail }, `${kind} batch failed`);
      throw err;
    } finally {
      clearInterval(alive);
    }
  }

  /** Send one range of a run's targets: the first attempt of each. Only counts go back to the workflow. */
  async function sendRunBatch(input: SendBatchInput): Promise<BatchCounts> {
    return measuredBatch(
      'send',
      input.runId,
      { fromSeq: input.fromSeq, toSeq: input.toSeq },
      async (sending) => {
        const reclaim = Context.current().info.attempt > 1;
        const sender = senderFor(sending.run.channel);
        const claimed = await claimTargetBatch(
          pool,
          input.runId,
          input.fromSeq,
          input.toSeq,
          reclaim,
          sender.resendWindow ?? null,
        );
        const total = await sender.deliver(
          {
            runId: input.runId,
            template: sending.template,
            clockMs: input.clockMs,
            schedules: sending.schedules,
            preError: runPreError(sending.run),
          },
          claimed,
        );
        const eta = expectedCompletion({
          startedAtMs: input.startedAtMs,
          nowMs: Date.now(),
          done: input.doneBefore + total.sent + total.preErrors,
          total: input.totalTargets,
        });
        await setExpectedCompletion(pool, input.runId, eta ? new Date(eta.expectedAtMs) : null);
        return total;
      },
    );
  }

  /** One batch of a retry wave: up to `limit` sends whose retry is due. */
  async function sendRetryBatch(input: RetryWaveInput): Promise<BatchCounts> {
    return measuredBatch(
      'retry',
      input.runId,
      { dueByMs: input.dueByMs, limit: input.limit },
      async (sending) => {
        const reclaim = Context.current().info.attempt > 1;
        const claimed = await claimRetryBatch(
          pool,
          input.runId,
          new Date(input.dueByMs),
          input.limit,
          reclaim,
        );
        return senderFor(sending.run.channel).deliver(
          {
            runId: input.runId,
            template: sending.template,
            clockMs: input.clockMs,
            schedules: sending.schedules,
            preError: runPreError(sending.run),
          },
          claimed,
        );
      },
    );
  }

  /** The next wave: when it is due, how many sends wait, and how many of them are held back before a first attempt. */
  async function findNextRetry(
    runId: number,
  ): Promise<{ dueAtMs: number; count: number; held?: number } | null> {
    const due = await nextRetryDue(pool, runId);
    return due ? { dueAtMs: due.dueAt.getTime(), count: due.count, held: due.held } : null;
  }

  /**
   * Status mail on start and end (SPEC 2; the end mail with the run's figures),
   * and one failure notice to the template's error address (email: error
   * reply-to; SMS: its error notification address) at the end and, for the
   * sends the retry waves gave up on, after the last wave ('waves').
   */
  async function notifyRun(runId: number, event: 'start' | 'end' | 'waves'): Promise<void> {
    const column =
      event === 'start' ? 'start_notified_at' : event === 'end' ? 'end_notified_at' : 'waves_notified_at';
    // Claim the notification first: at most one mail per run and event.
    const claim = await pool.query<RunRow>(
      `UPDATE wizard_run SET ${column} = now() WHERE id = $1 AND ${column} IS NULL RETURNING *`,
      [runId],
    );
    const run = claim.rows[0];
    if (!run) return;
    const from = deps.settings.notifyFrom;
    if (run.status_mail && event !== 'waves') {
      const mail = event === 'start' ? runStartMail(run, locale) : runEndMail(run, figuresOfRun(run), locale);
      await sendNotice({ ...mail, from, to: run.status_mail });
    }
    // One failure notice per run, once no wave is left: at the end when nothing waits for a wave
    // (then the 'waves' event finds it done), else after the last wave.
    let failureNotice = event === 'waves';
    if (event === 'end' && !(await nextRetryDue(pool, runId))) {
      const done = await pool.query(
        'UPDATE wizard_run SET waves_notified_at = now() WHERE id = $1 AND waves_notified_at IS NULL',
        [runId],
      );
      failureNotice = (done.rowCount ?? 0) > 0;
    }
    if (failureNotice) {
      const template = await getTemplate(pool, run.template_id);
      const to = template ? errorNoticeAddress(template) : null;
      if (to) {
        const failed = await pool.query<{ address: string; code: number; detail: string; lead_id: number }>(
          `SELECT address, code, detail, lead_id FROM send
            WHERE run_id = $1 AND result = 'error' AND next_attempt_at IS NULL ORDER BY id LIMIT 500`,
          [runId],
        );
        if (failed.rows.length > 0) {
          await sendNotice({ ...runFailureNotice(run, failed.rows, locale), from, to });
        }
      }
    }
  }

  /** The reminder mail (リマインドメール) before a scheduled start: once per run, only while it is still reserved. */
  async function sendReminder(runId: number): Promise<boolean> {
    const claim = await pool.query<RunRow>(
      `UPDATE wizard_run SET reminded_at = now()
        WHERE id = $1 AND reminded_at IS NULL AND status = 'reserved' AND remind_mail IS NOT NULL RETURNING *`,
      [runId],
    );
    const run = claim.rows[0];
    if (!run?.remind_mail) return false;
    await sendNotice({ ...reminderMail(run, locale), from: deps.settings.notifyFrom, to: run.remind_mail });
    return true;
  }

  /** A failed single send is told to its template's error address, as a run's failures are. */
  async function notifySingleSendFailure(sendId: string): Promise<boolean> {
    const res = await pool.query<{
      id: string;
      address: string;
      code: number | null;
      detail: string | null;
      lead_id: number;
      template_id: number;
      result: string;
      channel: string;
      at: Date | null;
    }>(
      `SELECT id, address, code, detail, lead_id, template_id, result, channel, coalesce(sent_at, updated_at) AS at
         FROM send WHERE id = $1 AND run_id IS NULL`,
      [sendId],
    );
    const send = res.rows[0];
    if (!send || send.result !== 'error') return false;
    const template = await getTemplate(pool, send.template_id);
    const to = template ? errorNoticeAddress(template) : null;
    if (!template || !to) return false;
    await sendNotice({
      ...singleSendFailureNotice(send, template.title, locale),
      from: deps.settings.notifyFrom,
      to,
    });
    return true;
  }

  /** A completed run's waves were cancelled: drop what a wave in flight planned after the cancel. */
  async function dropRunRetries(runId: number): Promise<number> {
    return dropPendingRetries(pool, runId);
  }

  const sendNotice = deps.notices;
  const locale = noticeLocale(deps.settings);

  /**
   * A single send (SPEC 2) through its channel's single-send hook: one attempt, recorded without
   * a run. The send's result and code go back to the caller.
   */
  async function sendSingle(sendId: string): Promise<{ result: string; code: number | null }> {
    const send = await sendStanding(pool, sendId);
    if (send?.result === 'pending') {
      const sender = senderFor(send.channel);
      if (!sender.sendSingle)
        throw runCannotProceed('ChannelUnavailable', `${send.channel} has no single sends`);
      const claimed = await claimSingleSend(pool, sendId, Context.current().info.attempt > 1);
      if (claimed) {
        const template = await getTemplate(pool, claimed.template_id);
        if (!template)
          throw runCannotProceed('TemplateMissing', `template ${claimed.template_id} no longer exists`);
        await sender.sendSingle(claimed, template);
      }
    }
    const now = await sendStanding(pool, sendId);
    return now ? { result: now.result, code: now.code } : { result: 'error', code: null };
  }

  /**
   * Apply a run's pending asynchronous reports and tell the template's error
   * reply-to address about the bounces, in one notice per apply.
   */
  async function applyAsyncReports(runId: number): Promise<{ bounced: number; complaints: number }> {
    const applied = await applyPendingReports(pool, runId, {
      invalidAfterErrors: deps.settings.invalidAfterErrors,
      quarantineAfterErrors: deps.settings.quarantineAfterErrors,
    });
    const first = applied.bouncedSends[0];
    if (first?.template_id) {
      const template = await getTemplate(pool, first.template_id);
      const run = await getRun(pool, runId);
      if (template?.error_reply_to && run) {
        await sendNotice({
          ...runFailureNotice(
            run,
            applied.bouncedSends.map((b) => ({ ...b, code: 90000 })),
            locale,
            'bounces',
          ),
          from: deps.settings.notifyFrom,
          to: template.error_reply_to,
        });
      }
    }
    return { bounced: applied.bounced, complaints: applied.complaints };
  }

  return {
    applyAsyncReports,
    // Both names are the one channel-neutral single send: workflows already in history call them by name.
    sendSingleEmail: sendSingle,
    sendSingleSms: sendSingle,
    loadRunHeader,
    markPreparing,
    prepareRun,
    markRunning,
    markCompleted,
    markCancelled,
    markError,
    sendRunBatch,
    sendRetryBatch,
    findNextRetry,
    notifyRun,
    sendReminder,
    notifySingleSendFailure,
    dropPendingRetries: dropRunRetries,
  };
}

export type WizardRunActivities = ReturnType<typeof createActivities>;
