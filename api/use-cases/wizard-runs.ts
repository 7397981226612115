// The wizard run, as the API offers it (SPEC: bulk sends):
//
// - reserve: check the template, the target and the options; store the run;
//   then start its workflow. A run never exists without its workflow for long:
//   a failed start marks the run `error` (it sends nothing), and a crash between
//   the commit and the start is repaired by the consistency sweep.
// - cancel: note the request, then cancel the workflow; repeating is harmless,
//   and a run that ended meanwhile says how it ended.
// - read: the run as stored, with its progress (the route renders it).
// - sends / unsent: who was sent to, and who was not and why.
//
// The SQL is in db/repositories; the Temporal side in lifecycle/wizard-run.
import { CHANNELS } from '../../domain/channels';
import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import type { PoolClient } from 'pg';
import type { AppConfig } from '../../config/config';
import type { RunRow } from '../../db/run-queries';
import type { SendRepository } from '../../db/repositories/sends';
import type { TemplateRepository } from '../../db/repositories/templates';
import type { WizardRunRepository } from '../../db/repositories/wizard-runs';
import { isCancellable } from '../../domain/run-lifecycle';
import { parseRetrySchedules } from '../../domain/retry-schedule';
import {
  cancelWizardRun,
  signalWavesCancelled,
  startWizardRun,
  wizardRunSettings,
} from '../../lifecycle/wizard-run';
import type { TemplateRow } from '../../db/template-queries';

/** The template as it is at reservation: what the run's detail shows went out. */
function templateSnapshot(t: TemplateRow): Record<string, unknown> {
  return {
    title: t.title,
    memo: t.memo,
    emailFormat: t.email_format,
    subject: t.subject,
    from: t.from_address,
    replyTo: t.reply_to,
    bodyText: t.body_text,
    bodyHtml: t.body_html,
    openTracking: t.open_tracking,
    clickTracking: t.click_tracking,
    smsBody: t.sms_body,
    lineMessages: t.line_messages,
  };
}
import { ApiError, badRequest, conflict, notFound } from '../errors';

/** Channels whose runs have a sender wired in the worker (activities/*-sender.ts). */
/** Every channel has runs: channels/registry.ts wires a sender for each in the worker. */
const RUN_CHANNELS: readonly string[] = CHANNELS;

const START_FAILED =
  'the workflow service was not reachable when the run was created, so it never started and sent nothing; create the run again';

/** A reservation as the API received it (validated by its schema). */
export interface RunRequest {
  templateId: number;
  segmentId?: number;
  leadIds?: number[];
  scheduledAt?: string | null;
  includeAlreadySent?: boolean;
  permissionFilter?: boolean;
  allowLongSms?: boolean;
  phoneField?: string;
  statusMail?: string;
  remindMail?: string;
  /** Minutes before scheduledAt the reminder goes out (default REMIND_MAIL_LEAD_MINUTES). */
  remindBeforeMinutes?: number;
  /** Accepted for compatibility and ignored: the run records the API key that acted. */
  updatedBy?: string;
  retrySchedules?: Record<string, unknown>;
}

export interface WizardRunDeps {
  runs: WizardRunRepository;
  templates: TemplateRepository;
  sends: SendRepository;
  temporal: Client;
  config: AppConfig;
}

export function wizardRunUseCases({ runs, templates, sends, temporal, config }: WizardRunDeps) {
  const existing = async (id: number): Promise<RunRow> => {
    const run = await runs.get(id);
    if (!run) throw notFound(`wizard run ${id}`);
    return run;
  };

  return {
    /**
     * Reserve a run (immediate when scheduledAt is empty) and start its
     * workflow. `inTransaction` runs before the run's row commits (the
     * idempotency record, test hooks).
     */
    async reserve(
      b: RunRequest,
      actor: string | null,
      log: FastifyBaseLogger,
      inTransaction: (client: PoolClient, runId: number) => Promise<void>,
    ): Promise<RunRow> {
      const template = await templates.get(b.templateId);
      if (!template || template.deleted_at)
        throw badRequest('body.templateId', `template ${b.templateId} does not exist`);
      if (!RUN_CHANNELS.includes(template.channel)) {
        throw badRequest(
          'body.templateId',
          `template ${b.templateId} is a ${template.channel} template; runs support ${RUN_CHANNELS.join(', ')}`,
        );
      }
      if ((b.segmentId === undefined) === (b.leadIds === undefined)) {
        throw badRequest('body.segmentId', 'give exactly one of segmentId or leadIds as the target');
      }
      let segmentName: string | null = null;
      if (b.segmentId !== undefined) {
        const segment = await runs.segment(b.segmentId);
        if (segment === null) throw badRequest('body.segmentId', `segment ${b.segmentId} does not exist`);
        const channel = segment.channel;
        segmentName = segment.name;
        if (channel !== template.channel) {
          throw badRequest(
            'body.segmentId',
            `segment ${b.segmentId} is for ${channel}, the template for ${template.channel}`,
          );
        }
      }
      if (b.retrySchedules !== undefined) {
        const parsed = parseRetrySchedules(b.retrySchedules);
        if (!parsed.ok) throw badRequest('body.retrySchedules', parsed.error);
      }
      let scheduledAt: Date | null = null;
      if (b.scheduledAt) {
        scheduledAt = new Date(b.scheduledAt);
        if (scheduledAt.getTime() <= Date.now()) {
          throw badRequest('body.scheduledAt', `${b.scheduledAt} is in the past; leave it empty to send now`);
        }
      }
      if (b.remindBeforeMinutes !== undefined && !b.remindMail)
        throw badRequest(
          'body.remindBeforeMinutes',
          'give remindMail too: the reminder goes to that address',
        );
      // The reminder (リマインドメール) is for scheduled runs: a lead time before the start, at the earliest now.
      const remindAt =
        scheduledAt && b.remindMail
          ? new Date(
              Math.max(
                Date.now(),
                scheduledAt.getTime() - (b.remindBeforeMinutes ?? config.remindMailLeadMinutes) * 60_000,
              ),
            )
          : null;

      // The row commits first, then its workflow starts (workflow id = the
      // run's, one execution ever): a workflow never runs ahead of its row.
      // Should the start fail, the row is marked error here; should this
      // process die between COMMIT and the start, the consistency sweep
      // (workflows/run-sweep.ts) starts the reserved run's workflow.
      const run = await runs.reserve(
        {
          channel: template.channel,
          template: { id: template.id, title: template.title, memo: template.memo },
          templateSnapshot: templateSnapshot(template),
          segmentId: b.segmentId ?? null,
          segmentName,
          // 送信予約 is for scheduled runs; an immediate one starts in 準備中.
          status: scheduledAt ? 'reserved' : 'preparing',
          remindAt,
          createdBy: actor,
          leadIds: b.leadIds ?? null,
          includeAlreadySent: b.includeAlreadySent ?? false,
          permissionFilter: b.permissionFilter ?? false,
          allowLongSms: b.allowLongSms ?? false,
          phoneField: b.phoneField ?? null,
          scheduledAt,
          statusMail: b.statusMail ?? null,
          remindMail: b.remindMail ?? null,
          retrySchedules: b.retrySchedules ?? null,
        },
        inTransaction,
      );
      try {
        await startWizardRun(
          temporal,
          config.taskQueueWizard,
          {
            runId: run.id,
            channel: run.channel,
            scheduledAt: scheduledAt ? scheduledAt.toISOString() : null,
            ...(remindAt ? { remindAt: remindAt.toISOString() } : {}),
            settings: wizardRunSettings(config, run.channel),
          },
          run.status,
        );
      } catch (err) {
        log.error({ err, runId: run.id }, 'could not start the run workflow');
        // Had the start reached the server after all, its workflow finds the run
        // in error and ends without sending.
        await runs
          .transition(run.id, ['reserved', 'preparing'], 'error', { errorMessage: START_FAILED })
          .catch((e: unknown) => log.error({ err: e, runId: run.id }, 'could not mark the unstarted run'));
        throw new ApiError(
          503,
          `the workflow service is not reachable; run ${run.id} was not started and will send nothing, retry shortly`,
        );
      }
      return run;
    },

    /** The run as stored now (its progress is rendered from its counters). */
    read: existing,

    /**
     * Cancel a reserved, preparing or running run; or a completed run's pending
     * retry waves (the run stays completed, the cancel is recorded with its
     * key). `accepted` is false when it was cancelled already (nothing new happened).
     */
    async cancel(id: number, actor: string | null = null): Promise<{ run: RunRow; accepted: boolean }> {
      const run = await existing(id);
      if (run.status === 'cancelled') return { run, accepted: false };
      if (run.status === 'completed') {
        if (run.waves_cancelled_at) return { run, accepted: false };
        const waves = (await runs.waves([run.id])).get(run.id);
        if (!waves || waves.pending.length + waves.held.count === 0)
          throw conflict(`wizard run ${run.id} is completed and has no pending retry waves to cancel`);
        await runs.cancelWaves(run.id, actor);
        await signalWavesCancelled(temporal, run.id);
        return { run: (await runs.get(run.id))!, accepted: true };
      }
      if (!isCancellable(run.status))
        throw conflict(`wizard run ${run.id} is ${run.status} and can no longer be cancelled`);
      await runs.markCancelRequested(run.id, actor);
      const outcome = await cancelWizardRun(temporal, run.id);
      if (outcome === 'already-closed') {
        // The workflow ended on its own meanwhile; the row says how.
        const now = await runs.get(run.id);
        if (now && !isCancellable(now.status) && now.status !== 'cancelled') {
          throw conflict(`wizard run ${run.id} is ${now.status} and can no longer be cancelled`);
        }
      }
      return { run: (await runs.get(run.id))!, accepted: true };
    },

    /** The run's sends by id, up to limit + 1 (the extra one says a next page exists). */
    async sends(id: number, page: { cursor?: string | number; limit: number }) {
      await existing(id);
      return sends.ofRun(id, page);
    },

    /** Leads excluded at preparation (with the reason) and those still pending. */
    /** A page of the unsent list and the run it belongs to (whose counters give the list's length). */
    async unsent(id: number, page: { limit: number; offset: number; afterLeadId: number | null }) {
      const run = await existing(id);
      return { run, rows: await runs.unsent(run, page) };
    },
  };
}

export type WizardRunUseCases = ReturnType<typeof wizardRunUseCases>;
