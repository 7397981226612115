// One workflow per wizard run (SPEC 2). Deterministic orchestration only: it
// imports domain/ and activity types, nothing else (enforced by ESLint).
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { WizardRunActivities } from '../activities/wizard-run-activities';
import { expectedCompletion, type RunStatusName } from '../domain/run-lifecycle';
import { WIZARD_STATUS } from './search-attributes';

export interface WizardRunSettings {
  taskQueueEmail: string;
  batchSize: number;
  batchesInFlight: number;
  /** Continue-as-new after this many batches even if Temporal does not suggest it yet (tests use a tiny value). */
  maxBatchesPerExecution: number;
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
  resume?: { targets: number; excluded: number; nextSeq: number; counts: RunCounts; startedAtMs: number };
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
  summary: string;
}

export const progressQuery = defineQuery<WizardRunProgress>('progress');

const bookkeeping = proxyActivities<WizardRunActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

const SETUP_FAILURES = ['RunMissing', 'TemplateMissing', 'SegmentMissing'];

export async function wizardRunWorkflow(input: WizardRunInput): Promise<WizardRunProgress> {
  const { runId, settings } = input;
  const sender = proxyActivities<WizardRunActivities>({
    taskQueue: settings.taskQueueEmail,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '2 minutes',
    // Let an in-flight batch record what it sent before the run ends.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '2s', maximumInterval: '2 minutes', backoffCoefficient: 2 },
  });

  let status: RunStatusName = input.resume ? 'running' : 'reserved';
  let targets = input.resume?.targets ?? 0;
  let excluded = input.resume?.excluded ?? 0;
  let startedAtMs = input.resume?.startedAtMs ?? 0;
  const counts: RunCounts = input.resume?.counts ?? { sent: 0, delivered: 0, errors: 0, preErrors: 0 };
  const done = () => counts.sent + counts.preErrors;

  setHandler(progressQuery, () => {
    const eta = status === 'running' ? expectedCompletion({ startedAtMs, nowMs: Date.now(), done: done(), total: targets }) : null;
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
      summary:
        status === 'running'
          ? `${done()} of ${targets} sent${eta ? `, about ${eta.minutesLeft} minutes left` : ''}`
          : `${status}: ${done()} of ${targets} sent`,
    };
  });

  const setStatus = (s: RunStatusName) => {
    status = s;
    upsertSearchAttributes([{ key: WIZARD_STATUS, value: s }]);
  };

  try {
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

    let nextSeq = input.resume?.nextSeq ?? 1;
    let batchesThisExecution = 0;
    const inFlight = new Set<Promise<void>>();
    while (nextSeq <= targets || inFlight.size > 0) {
      const historyHeavy = workflowInfo().continueAsNewSuggested || batchesThisExecution >= settings.maxBatchesPerExecution;
      while (!historyHeavy && inFlight.size < settings.batchesInFlight && nextSeq <= targets) {
        const fromSeq = nextSeq;
        const toSeq = Math.min(targets, fromSeq + settings.batchSize - 1);
        nextSeq = toSeq + 1;
        batchesThisExecution++;
        const p: Promise<void> = sender
          .sendEmailBatch({ runId, fromSeq, toSeq, startedAtMs, totalTargets: targets, doneBefore: done() })
          .then((c) => {
            counts.sent += c.sent;
            counts.delivered += c.delivered;
            counts.errors += c.errors;
            counts.preErrors += c.preErrors;
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (inFlight.size === 0) {
        if (historyHeavy && nextSeq <= targets) {
          // Drained: every batch before nextSeq is done, so the cursor is exact.
          await continueAsNew<typeof wizardRunWorkflow>({
            ...input,
            resume: { targets, excluded, nextSeq, counts, startedAtMs },
          });
        }
        break;
      }
      await Promise.race(inFlight);
    }

    await bookkeeping.markCompleted(runId);
    setStatus('completed');
    return finalProgress();
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        await bookkeeping.markCancelled(runId);
      });
      setStatus('cancelled');
      throw err;
    }
    const failureType = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.type : null;
    if (failureType && SETUP_FAILURES.includes(failureType)) {
      // SPEC 2: the run cannot proceed (its template or target is gone) → error (red).
      await bookkeeping.markError(runId, (err as ActivityFailure).cause?.message ?? 'run cannot proceed');
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
      summary: `${status}: ${done()} of ${targets} sent`,
    };
  }
}
