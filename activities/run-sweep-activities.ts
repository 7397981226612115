// The consistency sweep's side effects: compare every non-final run with its
// workflow and repair what disagrees (the rule: domain/run-lifecycle
// sweepRepair). Started by the 'wizard-run-consistency-sweep' Schedule.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config';
import { foldRunCounters, getRun, transitionRun, type RunRow } from '../db/run-queries';
import { expireIdempotencyKeys } from '../db/idempotency-queries';
import {
  FINAL_STATUSES,
  SWEEP_GRACE_SECONDS,
  sweepRepair,
  wizardRunWorkflowId,
  type RunWorkflowState,
} from '../domain/run-lifecycle';
import { recordSweepRepair } from '../observability/metrics';
import { waveRepair } from '../domain/wave-sweep';
import { clearOrphanWaves, orphanWaveCandidates } from '../db/wave-sweep-queries';
import { startWizardRun, wizardRunSettings } from '../lifecycle/wizard-run';

export interface RunSweepDeps {
  pool: Pool;
  temporal: Client;
  logger: Logger;
  config: AppConfig;
}

export interface SweepResult {
  checked: number;
  started: number;
  errored: number;
  cancelled: number;
  /** Final runs whose workflow was gone while sends waited for a retry wave: those sends were given up. */
  wavesCleared?: number;
}

/** Runs looked at per sweep; the next sweep continues with the rest. */
const SWEEP_LIMIT = 500;

export function createRunSweepActivities(deps: RunSweepDeps) {
  const { pool, temporal, logger, config } = deps;

  async function workflowState(workflowId: string): Promise<RunWorkflowState> {
    try {
      const d = await temporal.workflow.getHandle(workflowId).describe();
      return d.status.name === 'RUNNING' ? { kind: 'running' } : { kind: 'closed', status: d.status.name };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { kind: 'missing' };
      throw err;
    }
  }

  async function sweepRuns(): Promise<SweepResult> {
    const runs = await pool.query<RunRow>(
      `SELECT * FROM wizard_run
        WHERE status <> ALL($1::text[]) AND updated_at < now() - make_interval(secs => $2)
        ORDER BY updated_at LIMIT $3`,
      [FINAL_STATUSES, SWEEP_GRACE_SECONDS, SWEEP_LIMIT],
    );
    const result: SweepResult = { checked: runs.rows.length, started: 0, errored: 0, cancelled: 0 };
    for (const seen of runs.rows) {
      const workflowId = seen.workflow_id || wizardRunWorkflowId(seen.id);
      const workflow = await workflowState(workflowId);
      // The counts a batch that stopped mid-way left in its counter slot are the run's too.
      if (workflow.kind !== 'running') await foldRunCounters(pool, seen.id);
      const run = workflow.kind !== 'running' ? ((await getRun(pool, seen.id)) ?? seen) : seen;
      const repair = sweepRepair(
        {
          status: run.status,
          cancelRequested: run.cancel_requested_at !== null,
          done: run.sent_count + run.pre_error_count,
          targets: run.target_count,
          neverStarted: run.started_at === null && run.target_count + run.excluded_count === 0,
        },
        workflow,
      );
      if (repair.action === 'none') continue;
      // Each repair applies only to the status seen: a run that moved meanwhile is left as it now is.
      let repaired = false;
      if (repair.action === 'start') {
        await startWizardRun(
          temporal,
          config.taskQueueWizard,
          {
            runId: run.id,
            channel: run.channel,
            scheduledAt: run.scheduled_at ? run.scheduled_at.toISOString() : null,
            ...(run.remind_at && !run.reminded_at ? { remindAt: run.remind_at.toISOString() } : {}),
            settings: wizardRunSettings(config, run.channel),
          },
          run.status,
          workflowId,
        );
        repaired = true;
        result.started++;
      } else if (repair.action === 'cancelled') {
        repaired = await transitionRun(pool, run.id, [run.status], 'cancelled', { completedAt: true });
        if (repaired) result.cancelled++;
      } else {
        repaired = await transitionRun(pool, run.id, [run.status], 'error', { errorMessage: repair.message });
        if (repaired) result.errored++;
      }
      if (!repaired) continue;
      recordSweepRepair(repair.action);
      logger.warn(
        {
          runId: run.id,
          workflowId,
          status: run.status,
          workflow: workflow.kind === 'closed' ? workflow.status : workflow.kind,
          repair: repair.action,
          ...(repair.action === 'error' ? { reason: repair.message } : {}),
        },
        'run sweep: the run disagreed with its workflow and was repaired',
      );
    }
    result.wavesCleared = await sweepOrphanWaves();
    if (result.checked > 0 || result.wavesCleared > 0) logger.info({ ...result }, 'run sweep done');
    return result;
  }

  /**
   * Final runs with sends still waiting for a retry wave (issue 18): while the run's workflow lives it
   * makes those waves; once it is gone nothing will, and the sends are given up and recorded
   * (domain/wave-sweep.ts waveRepair), so no send keeps a next attempt that will never come.
   */
  async function sweepOrphanWaves(): Promise<number> {
    const runs = await orphanWaveCandidates(pool, FINAL_STATUSES, SWEEP_LIMIT);
    let cleared = 0;
    for (const run of runs) {
      const workflowId = run.workflow_id || wizardRunWorkflowId(run.id);
      const workflow = await workflowState(workflowId);
      const repair = waveRepair(run, workflow, run.pending);
      if (repair.action === 'none') continue;
      const sends = await clearOrphanWaves(pool, run.id, repair.note);
      if (sends === 0) continue;
      cleared++;
      recordSweepRepair('waves-cleared');
      logger.warn(
        {
          runId: run.id,
          workflowId,
          status: run.status,
          workflow: workflow.kind === 'closed' ? workflow.status : workflow.kind,
          sends,
        },
        "run sweep: sends waited for retry waves the run's workflow will never make; given up and recorded",
      );
    }
    return cleared;
  }

  /** Idempotency keys past their retention (api/idempotency.ts) go with the same sweep. */
  async function expireIdempotency(): Promise<number> {
    const expired = await expireIdempotencyKeys(pool);
    if (expired > 0) logger.info({ expired }, 'idempotency keys past their retention removed');
    return expired;
  }

  return { sweepRuns, expireIdempotency };
}

export type RunSweepActivities = ReturnType<typeof createRunSweepActivities>;
