// One workflow per wizard run (SPEC 2). Deterministic orchestration only: it
// imports @temporalio/workflow, domain/ and activity types, nothing else
// (an allowlist in eslint.config.mjs).
//
// Shape: the run's state is one object (WizardRun: status, cursors, counters,
// the batches in flight, the progress query and the reports signal), and the
// run moves through phase functions that act on it: wait for the scheduled
// time, prepare, send every target once, retry waves, complete, listen for
// asynchronous reports; a failure ends it in cancelled or error. A run that
// continues as new resumes at the phase its carried state names. Every phase
// issues the same commands, in the same order, as the single closure it
// replaces: the histories in test/fixtures/histories replay against it.
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
import { runSummary } from '../domain/run-summary';
import { WIZARD_STATUS } from './search-attributes';

export interface WizardRunSettings {
  taskQueueSend: string;
  batchSize: number;
  batchesInFlight: number;
  /** Continue-as-new after this many batches even if Temporal does not suggest it yet (tests use a tiny value). */
  maxBatchesPerExecution: number;
  /** How long the run stays open after sending for asynchronous bounces and complaints (SPEC 4). */
  asyncBounceWindowMs: number;
  /**
   * A batch silent this long is presumed lost (its worker died, or Temporal
   * lost it in a restart) and retried elsewhere: BATCH_HEARTBEAT_TIMEOUT_SECONDS,
   * carried in the input so it reaches the workflow deterministically. Absent in
   * inputs recorded before that setting: 2 minutes, as those runs were started with.
   */
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
  /**
   * ISO time of the reminder mail (リマインドメール) before a scheduled start, on
   * its own durable timer; absent: no reminder. Runs started before reminders
   * existed carry none.
   */
  remindAt?: string | null;
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
    /** The run was marked completed after its first pass (COMPLETE_BEFORE_WAVES); waves may go on. */
    completed?: boolean;
    /** A user cancelled the completed run's pending waves. */
    wavesCancelled?: boolean;
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
/**
 * "Stop the completed run's pending retry waves." No payload: the API has
 * recorded who asked and dropped the sends' next attempts; the run stops
 * waiting, drops what a wave in flight left behind, and goes on listening for
 * asynchronous reports.
 */
export const cancelWavesSignal = defineSignal('cancelWaves');
/**
 * Patch id: the run is `completed` once its first pass is sent (the manual's
 * 完了: the system finished sending); its retry waves go on after that, and
 * the waves can be cancelled by signal without ending the run.
 */
export const COMPLETE_BEFORE_WAVES = 'complete-before-waves';
/** Patch id: the reminder mail's own durable timer before the scheduled start. */
export const REMIND_MAIL = 'remind-mail';
/** The reminder's id, shown on the run (its timer's summary in the workflow's history). */
export function reminderId(runId: number): string {
  return `wizard-run-${runId}-reminder`;
}
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
  const run = new WizardRun(input);
  // Messages: the reports signal (no payload: the reports are in the database)
  // and the operators' progress query. Both act on the run's state only.
  setHandler(asyncReportsSignal, () => {
    run.reportsPending = true;
  });
  setHandler(cancelWavesSignal, () => {
    run.wavesCancelled = true;
  });
  setHandler(progressQuery, () => run.progress());

  // The phases. A resumed execution starts at the phase its carried state names.
  try {
    if (!input.resume) {
      await waitForScheduledTime(run);
      if (!(await prepare(run))) return run.progress();
    }
    if (run.sending) {
      await sendEveryTarget(run);
      if (run.completed || patched(COMPLETE_BEFORE_WAVES)) {
        // 完了 when the first pass is sent — sends held back (a domain's allowance)
        // go out first — and the retry waves of errors go on after it.
        if (!run.completed) {
          await retryWaves(run, true);
          await complete(run);
        }
        await retryWaves(run);
        await bookkeeping.notifyRun(run.runId, 'waves');
      } else {
        await retryWaves(run);
        await complete(run);
      }
    }
    await listen(run);
    return run.progress();
  } catch (err) {
    return end(run, err);
  }
}

/** Proxies of the send queue's activities, per run (its channel's queue). */
function sendActivities(settings: WizardRunSettings) {
  return proxyActivities<WizardRunActivities>({
    taskQueue: settings.taskQueueSend,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: settings.heartbeatTimeoutMs ?? 120_000,
    // Let an in-flight batch record what it sent before the run ends.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '2s', maximumInterval: '2 minutes', backoffCoefficient: 2 },
  });
}

/** Everything the run knows: carried over continue-as-new as cursors and counters, never lists. */
class WizardRun {
  readonly runId: number;
  readonly settings: WizardRunSettings;
  readonly sender: ReturnType<typeof sendActivities>;
  /** False once sending is over: a resumed execution that only listens for reports. */
  readonly sending: boolean;
  status: RunStatusName;
  targets: number;
  excluded: number;
  startedAtMs: number;
  readonly counts: RunCounts;
  waves: number;
  nextWaveAtMs: number | null = null;
  /** Next target of the first pass. */
  nextSeq: number;
  reportsPending: boolean;
  /** Marked completed after the first pass (COMPLETE_BEFORE_WAVES). */
  completed: boolean;
  /** The cancelWaves signal arrived (or was carried over). */
  wavesCancelled: boolean;
  /** When the asynchronous-bounce window closes, once sending is over. */
  listenUntilMs: number | undefined;
  /** Batches (and applies) in this execution: the history grows with them. */
  batchesThisExecution = 0;
  /** Batches in flight, so a cancel can wait for every one of them to stop and record. */
  readonly inFlight = new Set<Promise<void>>();
  /**
   * The status search attribute is kept current when the starter set it (the
   * API always does); a server without our attributes registered (the
   * time-skipping test server) would reject an upsert.
   */
  private readonly tracksStatus: boolean;

  constructor(readonly input: WizardRunInput) {
    const resume = input.resume;
    this.runId = input.runId;
    this.settings = input.settings;
    this.sender = sendActivities(input.settings);
    this.sending = resume?.listenUntilMs === undefined;
    this.status = !resume ? 'reserved' : this.sending ? 'running' : 'completed';
    this.targets = resume?.targets ?? 0;
    this.excluded = resume?.excluded ?? 0;
    this.startedAtMs = resume?.startedAtMs ?? 0;
    this.counts = resume?.counts ?? { sent: 0, delivered: 0, errors: 0, preErrors: 0 };
    this.waves = resume?.waves ?? 0;
    this.nextSeq = resume?.nextSeq ?? 1;
    this.reportsPending = resume?.reportsPending ?? false;
    this.completed = resume?.completed ?? false;
    this.wavesCancelled = resume?.wavesCancelled ?? false;
    if (this.completed && this.sending) this.status = 'completed';
    this.listenUntilMs = resume?.listenUntilMs;
    this.tracksStatus = workflowInfo().typedSearchAttributes.get(WIZARD_STATUS) !== undefined;
  }

  done(): number {
    return this.counts.sent + this.counts.preErrors;
  }

  add(c: RunCounts): void {
    this.counts.sent += c.sent;
    this.counts.delivered += c.delivered;
    this.counts.errors += c.errors;
    this.counts.preErrors += c.preErrors;
  }

  setStatus(s: RunStatusName): void {
    this.status = s;
    this.publishStatus();
  }

  publishStatus(): void {
    if (this.tracksStatus) upsertSearchAttributes([{ key: WIZARD_STATUS, value: this.status }]);
  }

  /** Tracks an activity among the batches in flight; returns it unchanged. */
  track<T>(p: Promise<T>): Promise<T> {
    const settled: Promise<void> = p.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return p;
  }

  historyHeavy(): boolean {
    return (
      workflowInfo().continueAsNewSuggested ||
      this.batchesThisExecution >= this.settings.maxBatchesPerExecution
    );
  }

  /** Continue as new with cursors and counters (the history restarts empty). */
  carryOn(): Promise<never> {
    const { targets, excluded, nextSeq, counts, startedAtMs, waves, listenUntilMs, reportsPending } = this;
    // The new fields only when set: an execution that never completed early carries what it always did.
    const early = this.completed ? { completed: true, wavesCancelled: this.wavesCancelled } : {};
    return continueAsNew<typeof wizardRunWorkflow>({
      ...this.input,
      resume: {
        targets,
        excluded,
        nextSeq,
        counts,
        startedAtMs,
        waves,
        listenUntilMs,
        reportsPending,
        ...early,
      },
    });
  }

  /** The operators' view (the 'progress' query) and the workflow's result. */
  progress(): WizardRunProgress {
    const done = this.done();
    const eta =
      this.status === 'running'
        ? expectedCompletion({ startedAtMs: this.startedAtMs, nowMs: Date.now(), done, total: this.targets })
        : null;
    const nextWaveAt = this.nextWaveAtMs !== null ? new Date(this.nextWaveAtMs) : null;
    return {
      runId: this.runId,
      status: this.status,
      targets: this.targets,
      excluded: this.excluded,
      done,
      remaining: Math.max(0, this.targets - done),
      counts: { ...this.counts },
      expectedCompletionAt: eta ? new Date(eta.expectedAtMs).toISOString() : null,
      minutesLeft: eta?.minutesLeft ?? null,
      waves: this.waves,
      nextWaveAt: nextWaveAt?.toISOString() ?? null,
      summary: runSummary({
        status: this.status,
        done,
        targets: this.targets,
        minutesLeft: eta?.minutesLeft ?? null,
        scheduledAt: this.input.scheduledAt ? new Date(this.input.scheduledAt) : null,
        nextWave: nextWaveAt ? { number: this.waves + 1, at: nextWaveAt, waiting: this.counts.errors } : null,
      }),
    };
  }
}

/**
 * The durable reservation timer: cancelling the workflow here ends the run with
 * nothing sent. A run with a reminder first waits on the reminder's own timer
 * (its summary is the reminder's id), mails the reminder, then waits for the
 * rest; a cancel before the reminder is due cancels it with the run.
 */
async function waitForScheduledTime(run: WizardRun): Promise<void> {
  if (!run.input.scheduledAt) return;
  const remindAt = run.input.remindAt ? Date.parse(run.input.remindAt) : NaN;
  if (Number.isFinite(remindAt) && patched(REMIND_MAIL)) {
    const untilReminder = remindAt - Date.now();
    if (untilReminder > 0) await sleep(untilReminder, { summary: reminderId(run.runId) });
    await bookkeeping.sendReminder(run.runId);
  }
  const wait = Date.parse(run.input.scheduledAt) - Date.now();
  if (wait > 0) await sleep(wait);
}

/** `preparing`, then `running`. False: the run's row moved on without us (cancelled meanwhile). */
async function prepare(run: WizardRun): Promise<boolean> {
  if (!(await bookkeeping.markPreparing(run.runId))) return false;
  run.setStatus('preparing');
  const prepared = await bookkeeping.prepareRun(run.runId);
  run.targets = prepared.targets;
  run.excluded = prepared.excluded;
  if (!(await bookkeeping.markRunning(run.runId))) return false;
  run.setStatus('running');
  run.startedAtMs = Date.now();
  return true;
}

/** The first pass: every target once, several batches in flight, continuing as new when the history is heavy. */
async function sendEveryTarget(run: WizardRun): Promise<void> {
  const { settings, sender, inFlight } = run;
  if (!run.input.resume) await bookkeeping.notifyRun(run.runId, 'start');
  let batchFailure: unknown = null;
  while (run.nextSeq <= run.targets || inFlight.size > 0) {
    while (!run.historyHeavy() && inFlight.size < settings.batchesInFlight && run.nextSeq <= run.targets) {
      const fromSeq = run.nextSeq;
      const toSeq = Math.min(run.targets, fromSeq + settings.batchSize - 1);
      run.nextSeq = toSeq + 1;
      run.batchesThisExecution++;
      void run
        .track(
          sender.sendRunBatch({
            runId: run.runId,
            fromSeq,
            toSeq,
            clockMs: Date.now(),
            startedAtMs: run.startedAtMs,
            totalTargets: run.targets,
            doneBefore: run.done(),
          }),
        )
        .then(
          (c) => run.add(c),
          (err: unknown) => {
            batchFailure ??= err;
          },
        );
    }
    if (inFlight.size === 0) {
      // Drained: every batch before nextSeq is done, so the cursor is exact.
      if (run.nextSeq <= run.targets) await run.carryOn();
      break;
    }
    await Promise.race(inFlight);
    if (batchFailure) throw batchFailure;
  }
}

/**
 * Retry waves (SPEC 4): soft errors wait on durable timers for their reason's
 * schedule; a cancel during the wait ends the run here.
 */
async function retryWaves(run: WizardRun, whileHeld = false): Promise<void> {
  const { settings, sender } = run;
  for (;;) {
    if (run.wavesCancelled) {
      // A wave in flight when the cancel came may have planned more: drop them too.
      await bookkeeping.dropPendingRetries(run.runId);
      return;
    }
    const due = await bookkeeping.findNextRetry(run.runId);
    if (!due) return;
    // Before completion, waves run only while first attempts are held back.
    if (whileHeld && !due.held) return;
    run.nextWaveAtMs = due.dueAtMs;
    const wait = due.dueAtMs - Date.now();
    if (run.completed) {
      // Cancellable by the cancelWaves signal while the run stays open.
      if (wait > 0 && (await condition(() => run.wavesCancelled, wait))) {
        run.nextWaveAtMs = null;
        continue;
      }
    } else if (wait > 0) await sleep(wait);
    const dueByMs = Math.max(due.dueAtMs, Date.now());
    run.nextWaveAtMs = null;
    run.waves++;
    for (;;) {
      const waveBatches = Array.from({ length: settings.batchesInFlight }, () =>
        run.track(
          sender.sendRetryBatch({
            runId: run.runId,
            dueByMs,
            clockMs: Date.now(),
            limit: settings.batchSize,
          }),
        ),
      );
      run.batchesThisExecution += waveBatches.length;
      const results = await Promise.all(waveBatches);
      results.forEach((c) => run.add(c));
      if (results.every((r) => r.claimed < settings.batchSize)) break;
    }
    if (run.historyHeavy()) await run.carryOn();
  }
}

/** Sending is over: `completed`, and the run's end is announced. */
async function complete(run: WizardRun): Promise<void> {
  await bookkeeping.markCompleted(run.runId);
  run.completed = true;
  run.setStatus('completed');
  await bookkeeping.notifyRun(run.runId, 'end');
}

/**
 * The asynchronous-bounce window: reports that arrive later reach the run by
 * signal and are applied through an activity, keeping counters current.
 */
async function listen(run: WizardRun): Promise<void> {
  // The status attribute is published again as the window opens: a resumed
  // execution starts here, and every recorded history carries this upsert.
  run.publishStatus();
  run.listenUntilMs ??= Date.now() + run.settings.asyncBounceWindowMs;
  let swept = false;
  for (;;) {
    const remaining = run.listenUntilMs - Date.now();
    if (!run.reportsPending) {
      if (remaining <= 0) {
        // A report whose signal never arrived (the API could not reach Temporal)
        // is still pending in the database: one last apply as the window closes
        // picks it up. Histories recorded before this step replay without it.
        if (swept || run.settings.asyncBounceWindowMs <= 0 || !patched(FINAL_REPORT_SWEEP)) return;
        swept = true;
      } else {
        await condition(() => run.reportsPending, remaining);
        if (!run.reportsPending) continue;
      }
    }
    run.reportsPending = false;
    const applied = await bookkeeping.applyAsyncReports(run.runId);
    run.counts.delivered -= applied.bounced;
    run.counts.errors += applied.bounced;
    run.batchesThisExecution++;
    if (run.historyHeavy()) await run.carryOn();
  }
}

/**
 * A cancel ends the run `cancelled` once every batch in flight has stopped and
 * recorded; a failure the run cannot recover from ends it in `error`; anything
 * else fails the workflow (and is retried by Temporal).
 */
async function end(run: WizardRun, err: unknown): Promise<WizardRunProgress> {
  if (isCancellation(err)) {
    await CancellationScope.nonCancellable(async () => {
      // Each batch stops at its next heartbeat and records what it sent first.
      await Promise.allSettled([...run.inFlight]);
      if (await bookkeeping.markCancelled(run.runId)) await bookkeeping.notifyRun(run.runId, 'end');
    });
    run.setStatus('cancelled');
    throw err;
  }
  const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : null;
  const fatal =
    cause !== null &&
    ((cause.type !== undefined && cause.type !== null && LEGACY_SETUP_FAILURES.includes(cause.type)) ||
      (patched(RUN_FAILURES_END_IN_ERROR) && (isRunFailure(cause.type) || cause.nonRetryable)));
  if (cause && fatal) {
    // SPEC 2: the run cannot proceed (its template, target or transport is gone) → error (red).
    const message = isRunFailure(cause.type) ? cause.message : `the run stopped: ${cause.message}`;
    await bookkeeping.markError(run.runId, message || 'the run cannot proceed');
    run.setStatus('error');
    return run.progress();
  }
  throw err;
}
