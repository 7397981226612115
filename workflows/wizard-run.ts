// One workflow per wizard run (SPEC 2). Deterministic orchestration only: it
// imports domain/ and activity types, nothing else (enforced by ESLint).
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  defineQuery,
  defineSignal,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { WizardRunActivities } from '../activities/wizard-run-activities';
import { expectedCompletion, isRunFailure, type RunStatusName } from '../domain/run-lifecycle';
import { WIZARD_STATUS } from './search-attributes';

export interface WizardRunSettings {
  taskQueueSend: string;
  batchSize: number;
  batchesInFlight: number;
  /** Continue-as-new after this many batches even if Temporal does not suggest it yet (tests use a tiny value). */
  maxBatchesPerExecution: number;
  /** How long the run stays open after sending for asynchronous bounces and complaints (SPEC 4). */
  asyncBounceWindowMs: number;
  /** A batch silent this long is presumed lost (its worker died) and retried elsewhere. Default 2 minutes. */
  heartbeatTimeoutMs?: number;
}

export interface RunCounts {
  sent: number;
  delivered: number;
  errors: number;
  preErrors: number;
}

export interface WizardRunInput {
  runId: number;
  channel: string;
  /** ISO time; null = immediate. */
  scheduledAt: string | null;
  settings: WizardRunSettings;
  /** Carried over continue-as-new: cursors and counters, never lists. */
  resume?: {
    targets: number;
    excluded: number;
    nextSeq: number;
    counts: RunCounts;
    startedAtMs: number;
    waves: number;
    /** Set once sending is over: the run only listens for asynchronous reports until then. */
    listenUntilMs?: number;
    reportsPending?: boolean;
  };
}

export interface WizardRunProgress {
  runId: number;
  status: RunStatusName;
  targets: number;
  excluded: number;
  done: number;
  remaining: number;
  counts: RunCounts;
  expectedCompletionAt: string | null;
  minutesLeft: number | null;
  /** Retry waves run so far, and when the next one is due. */
  waves: number;
  nextWaveAt: string | null;
  summary: string;
}

export const progressQuery = defineQuery<WizardRunProgress>('progress');
/**
 * "Reports for this run are waiting to be applied." No payload: the reports
 * are in the database, and senders signal at most once per apply cycle, so a
 * large run stays far from Temporal's per-execution signal limit.
 */
export const asyncReportsSignal = defineSignal('asyncReports');
/** Patch id of the apply step at the close of the asynchronous-bounce window. */
export const FINAL_REPORT_SWEEP = 'final-report-sweep';

const bookkeeping = proxyActivities<WizardRunActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

/** Failure types that ended a run in error before RUN_FAILURES_END_IN_ERROR (recorded histories replay with them). */
const LEGACY_SETUP_FAILURES = ['RunMissing', 'TemplateMissing', 'SegmentMissing', 'AccountMissing'];
/**
 * Patch id: every failure the run cannot recover from ends it in error — the
 * types of domain/run-lifecycle's RUN_FAILURE_TYPES and any other failure an
 * activity gave up on (non-retryable) — instead of failing the workflow and
 * leaving the run in a non-final status.
 */
export const RUN_FAILURES_END_IN_ERROR = 'run-failures-end-in-error';

export async function wizardRunWorkflow(input: WizardRunInput): Promise<WizardRunProgress> {
  const { runId, settings } = input;
  const sender = proxyActivities<WizardRunActivities>({
    taskQueue: settings.taskQueueSend,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: settings.heartbeatTimeoutMs ?? 120_000,
    // Let an in-flight batch record what it sent before the run ends.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '2s', maximumInterval: '2 minutes', backoffCoefficient: 2 },
  });

  let status: RunStatusName = input.resume ? 'running' : 'reserved';
  let targets = input.resume?.targets ?? 0;
  let excluded = input.resume?.excluded ?? 0;
  let startedAtMs = input.resume?.startedAtMs ?? 0;
  const counts: RunCounts = input.resume?.counts ?? { sent: 0, delivered: 0, errors: 0, preErrors: 0 };
  let waves = input.resume?.waves ?? 0;
  let nextWaveAtMs: number | null = null;
  let reportsPending = input.resume?.reportsPending ?? false;
  setHandler(asyncReportsSignal, () => {
    reportsPending = true;
  });
  const done = () => counts.sent + counts.preErrors;
  const add = (c: RunCounts) => {
    counts.sent += c.sent;
    counts.delivered += c.delivered;
    counts.errors += c.errors;
    counts.preErrors += c.preErrors;
  };

  setHandler(progressQuery, () => {
    const eta =
      status === 'running'
        ? expectedCompletion({ startedAtMs, nowMs: Date.now(), done: done(), total: targets })
        : null;
    const remaining = Math.max(0, targets - done());
    return {
      runId,
      status,
      targets,
      excluded,
      done: done(),
      remaining,
      counts: { ...counts },
      expectedCompletionAt: eta ? new Date(eta.expectedAtMs).toISOString() : null,
      minutesLeft: eta?.minutesLeft ?? null,
      waves,
      nextWaveAt: nextWaveAtMs !== null ? new Date(nextWaveAtMs).toISOString() : null,
      summary:
        status !== 'running'
          ? `${status}: ${done()} of ${targets} sent`
          : nextWaveAtMs !== null
            ? `${done()} of ${targets} sent; ${counts.errors} waiting for retry wave ${waves + 1} at ${new Date(nextWaveAtMs).toISOString()}`
            : `${done()} of ${targets} sent${eta ? `, about ${eta.minutesLeft} minutes left` : ''}`,
    };
  });

  // Keep the status attribute current when the starter set it (the API always
  // does); a server without our attributes registered (the time-skipping test
  // server) would reject an upsert.
  const tracksStatus = workflowInfo().typedSearchAttributes.get(WIZARD_STATUS) !== undefined;
  const setStatus = (s: RunStatusName) => {
    status = s;
    if (tracksStatus) upsertSearchAttributes([{ key: WIZARD_STATUS, value: s }]);
  };

  // Batches in flight, so a cancel can wait for every one of them to stop and record.
  const inFlight = new Set<Promise<void>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    const settled: Promise<void> = p.then(
      () => undefined,
      () => undefined,
    );
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
    return p;
  };
  try {
    const sending = input.resume?.listenUntilMs === undefined;
    if (!input.resume) {
      // The durable reservation timer: cancelling the workflow here ends the run with nothing sent.
      if (input.scheduledAt) {
        const wait = Date.parse(input.scheduledAt) - Date.now();
        if (wait > 0) await sleep(wait);
      }
      if (!(await bookkeeping.markPreparing(runId))) return finalProgress();
      setStatus('preparing');
      const prepared = await bookkeeping.prepareRun(runId);
      targets = prepared.targets;
      excluded = prepared.excluded;
      if (!(await bookkeeping.markRunning(runId))) return finalProgress();
      setStatus('running');
      startedAtMs = Date.now();
    }

    let nextSeq = input.resume?.nextSeq ?? targets + 1;
    let batchesThisExecution = 0;
    const historyHeavy = () =>
      workflowInfo().continueAsNewSuggested || batchesThisExecution >= settings.maxBatchesPerExecution;
    const carryOn = (listenUntilMs?: number) =>
      continueAsNew<typeof wizardRunWorkflow>({
        ...input,
        resume: { targets, excluded, nextSeq, counts, startedAtMs, waves, listenUntilMs, reportsPending },
      });
    if (sending) {
      if (!input.resume) {
        nextSeq = 1;
        await bookkeeping.notifyRun(runId, 'start');
      }

      // First pass: every target once, several batches in flight.
      let batchFailure: unknown = null;
      while (nextSeq <= targets || inFlight.size > 0) {
        while (!historyHeavy() && inFlight.size < settings.batchesInFlight && nextSeq <= targets) {
          const fromSeq = nextSeq;
          const toSeq = Math.min(targets, fromSeq + settings.batchSize - 1);
          nextSeq = toSeq + 1;
          batchesThisExecution++;
          void track(
            sender.sendRunBatch({
              runId,
              fromSeq,
              toSeq,
              clockMs: Date.now(),
              startedAtMs,
              totalTargets: targets,
              doneBefore: done(),
            }),
          ).then(add, (err: unknown) => {
            batchFailure ??= err;
          });
        }
        if (inFlight.size === 0) {
          // Drained: every batch before nextSeq is done, so the cursor is exact.
          if (nextSeq <= targets) await carryOn();
          break;
        }
        await Promise.race(inFlight);
        if (batchFailure) throw batchFailure;
      }

      // Retry waves (SPEC 4): soft errors wait on durable timers for their
      // reason's schedule; a cancel during the wait ends the run here.
      for (;;) {
        const due = await bookkeeping.findNextRetry(runId);
        if (!due) break;
        nextWaveAtMs = due.dueAtMs;
        const wait = due.dueAtMs - Date.now();
        if (wait > 0) await sleep(wait);
        const dueByMs = Math.max(due.dueAtMs, Date.now());
        nextWaveAtMs = null;
        waves++;
        for (;;) {
          const waveBatches = Array.from({ length: settings.batchesInFlight }, () =>
            track(sender.sendRetryBatch({ runId, dueByMs, clockMs: Date.now(), limit: settings.batchSize })),
          );
          batchesThisExecution += waveBatches.length;
          const results = await Promise.all(waveBatches);
          results.forEach(add);
          if (results.every((r) => r.claimed < settings.batchSize)) break;
        }
        if (historyHeavy()) await carryOn();
      }

      await bookkeeping.markCompleted(runId);
      setStatus('completed');
      await bookkeeping.notifyRun(runId, 'end');
    }
    setStatus('completed');

    // The asynchronous-bounce window: reports that arrive later reach the run
    // by signal and are applied through an activity, keeping counters current.
    const listenUntilMs = input.resume?.listenUntilMs ?? Date.now() + settings.asyncBounceWindowMs;
    let swept = false;
    for (;;) {
      const remaining = listenUntilMs - Date.now();
      if (!reportsPending) {
        if (remaining <= 0) {
          // A report whose signal never arrived (the API could not reach Temporal)
          // is still pending in the database: one last apply as the window closes
          // picks it up. Histories recorded before this step replay without it.
          if (swept || settings.asyncBounceWindowMs <= 0 || !patched(FINAL_REPORT_SWEEP)) break;
          swept = true;
        } else {
          await condition(() => reportsPending, remaining);
          if (!reportsPending) continue;
        }
      }
      reportsPending = false;
      const applied = await bookkeeping.applyAsyncReports(runId);
      counts.delivered -= applied.bounced;
      counts.errors += applied.bounced;
      batchesThisExecution++;
      if (historyHeavy()) await carryOn(listenUntilMs);
    }
    return finalProgress();
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        // Each batch stops at its next heartbeat and records what it sent first.
        await Promise.allSettled([...inFlight]);
        if (await bookkeeping.markCancelled(runId)) await bookkeeping.notifyRun(runId, 'end');
      });
      setStatus('cancelled');
      throw err;
    }
    const cause =
      err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : null;
    const fatal =
      cause !== null &&
      ((cause.type !== undefined && cause.type !== null && LEGACY_SETUP_FAILURES.includes(cause.type)) ||
        (patched(RUN_FAILURES_END_IN_ERROR) && (isRunFailure(cause.type) || cause.nonRetryable)));
    if (cause && fatal) {
      // SPEC 2: the run cannot proceed (its template, target or transport is gone) → error (red).
      const message = isRunFailure(cause.type) ? cause.message : `the run stopped: ${cause.message}`;
      await bookkeeping.markError(runId, message || 'the run cannot proceed');
      setStatus('error');
      return finalProgress();
    }
    throw err;
  }

  function finalProgress(): WizardRunProgress {
    return {
      runId,
      status,
      targets,
      excluded,
      done: done(),
      remaining: Math.max(0, targets - done()),
      counts: { ...counts },
      expectedCompletionAt: null,
      minutesLeft: null,
      waves,
      nextWaveAt: null,
      summary: `${status}: ${done()} of ${targets} sent`,
    };
  }
}
