import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { getRun, transitionRun, type RunRow } from '../../db/run-queries';
import { getTemplate } from '../../db/template-queries';
import { inTransaction } from '../../db/pool';
import { isCancellable, wizardRunWorkflowId } from '../../domain/run-lifecycle';
import { parseRetrySchedules } from '../../domain/retry-schedule';
import { cancelWizardRun, startWizardRun, wizardRunSettings } from '../../workflows/wizard-run-client';
import { ApiError, badRequest, conflict, notFound } from '../errors';
import { IdempotencyHeaders, idempotentRoute, recordCreated } from '../idempotency';
import { CHANNELS } from '../../domain/channels';
import { ErrorBody, IdParams, Nullable, NullableTimestamp, PageQuery, Timestamp, iso } from '../schemas';

const Email = Type.String({ format: 'email', maxLength: 254 });

/** Every channel has runs: channels/registry.ts wires a sender for each in the worker. */
const RUN_CHANNELS: readonly string[] = CHANNELS;

const START_FAILED =
  'the workflow service was not reachable when the run was created, so it never started and sent nothing; create the run again';

const CreateRunBody = Type.Object(
  {
    templateId: Type.Integer({ minimum: 1, maximum: 2147483647 }),
    segmentId: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
    leadIds: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 2147483647 }), {
        minItems: 1,
        maxItems: 10_000,
        uniqueItems: true,
      }),
    ),
    scheduledAt: Type.Optional(
      Nullable(Type.String({ format: 'date-time', description: 'empty = immediate' })),
    ),
    includeAlreadySent: Type.Optional(Type.Boolean()),
    permissionFilter: Type.Optional(
      Type.Boolean({ description: 'only leads with DM (email) / SMS permission' }),
    ),
    allowLongSms: Type.Optional(Type.Boolean()),
    phoneField: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$' })),
    statusMail: Type.Optional(Email),
    remindMail: Type.Optional(Email),
    updatedBy: Type.Optional(Type.String({ maxLength: 200 })),
    retrySchedules: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description:
          'retry schedule per error reason (or "*"), e.g. {"mailbox_full": {"delaysMs": [3600000, 86400000]}}; defaults: 5 retries hourly then 4 daily',
      }),
    ),
  },
  { additionalProperties: false },
);

const Counters = Type.Object({
  targets: Type.Integer(),
  excluded: Type.Integer(),
  sent: Type.Integer(),
  delivered: Type.Integer(),
  preErrors: Type.Integer(),
  errors: Type.Integer(),
  openers: Type.Integer(),
  clickers: Type.Integer(),
  totalClicks: Type.Integer(),
  unsubscribes: Type.Integer(),
});

export const WizardRun = Type.Object(
  {
    id: Type.Integer(),
    taskId: Type.String({ description: 'Temporal workflow id' }),
    channel: Type.String(),
    status: Type.String(),
    errorMessage: Nullable(Type.String()),
    statusDetail: Nullable(
      Type.String({
        description: 'why a running run waits, e.g. for our SMTP relay; null while it does not',
      }),
    ),
    hold: Nullable(
      Type.Object(
        {
          reason: Type.String({
            description:
              'relay_unreachable | relay_dns | relay_tls | relay_auth | relay_refused | relay_sender_refused | relay_unavailable',
          }),
          detail: Type.String(),
          since: NullableTimestamp,
          nextTryAt: NullableTimestamp,
        },
        { description: "sends held by a fault of our relay: no lead's validity changes while they wait" },
      ),
    ),
    template: Type.Object({ id: Type.Integer(), title: Type.String(), memo: Type.String() }),
    target: Type.Object({
      method: Type.String({ description: 'segment | list' }),
      segmentId: Nullable(Type.Integer()),
      leadCount: Nullable(Type.Integer()),
    }),
    options: Type.Object({
      includeAlreadySent: Type.Boolean(),
      permissionFilter: Type.Boolean(),
      allowLongSms: Type.Boolean(),
      phoneField: Nullable(Type.String()),
    }),
    scheduledAt: NullableTimestamp,
    statusMail: Nullable(Type.String()),
    remindMail: Nullable(Type.String()),
    counters: Counters,
    progress: Type.Object({
      done: Type.Integer(),
      remaining: Type.Integer(),
      expectedCompletionAt: NullableTimestamp,
      minutesLeft: Nullable(Type.Integer()),
      summary: Type.String(),
    }),
    cancelRequestedAt: NullableTimestamp,
    createdAt: Timestamp,
    updatedAt: Timestamp,
    startedAt: NullableTimestamp,
    completedAt: NullableTimestamp,
    updatedBy: Nullable(Type.String()),
  },
  { $id: 'WizardRun' },
);

export function runJson(r: RunRow, now = Date.now()): Static<typeof WizardRun> {
  const done = r.sent_count + r.pre_error_count;
  const remaining = Math.max(0, r.target_count - done);
  const eta = r.status === 'running' && r.expected_completion_at ? r.expected_completion_at.getTime() : null;
  const minutesLeft = eta !== null ? Math.max(0, Math.ceil((eta - now) / 60_000)) : null;
  const summary =
    r.status === 'running'
      ? `${done} of ${r.target_count} sent${minutesLeft !== null ? `, about ${minutesLeft} minutes left` : ''}`
      : r.status === 'reserved'
        ? r.scheduled_at
          ? `reserved for ${r.scheduled_at.toISOString()}`
          : 'starting'
        : `${r.status}: ${done} of ${r.target_count} sent`;
  const held = r.status === 'running' && !!r.hold_reason;
  const statusDetail = held
    ? `sends wait for our SMTP relay (${r.hold_reason}) since ${iso(r.held_since)}; next try at ${iso(r.held_until)}: ${r.hold_detail ?? ''}`
    : null;
  return {
    id: r.id,
    taskId: r.workflow_id,
    channel: r.channel,
    status: r.status,
    errorMessage: r.error_message,
    statusDetail,
    hold: held
      ? {
          reason: r.hold_reason!,
          detail: r.hold_detail ?? '',
          since: iso(r.held_since),
          nextTryAt: iso(r.held_until),
        }
      : null,
    template: { id: r.template_id, title: r.template_title, memo: r.template_memo },
    target: {
      method: r.target_kind,
      segmentId: r.segment_id,
      leadCount: r.lead_ids ? r.lead_ids.length : null,
    },
    options: {
      includeAlreadySent: r.include_already_sent,
      permissionFilter: r.permission_filter,
      allowLongSms: r.allow_long_sms,
      phoneField: r.phone_field,
    },
    scheduledAt: iso(r.scheduled_at),
    statusMail: r.status_mail,
    remindMail: r.remind_mail,
    counters: {
      targets: r.target_count,
      excluded: r.excluded_count,
      // SMS: parts accepted by the SMSC (SPEC §6 "sent = messages after splitting"); progress stays per message.
      sent: r.channel === 'sms' ? r.sms_parts_count : r.sent_count,
      delivered: r.delivered_count,
      preErrors: r.pre_error_count,
      errors: r.error_count,
      openers: r.opener_count,
      clickers: r.clicker_count,
      totalClicks: r.click_count,
      unsubscribes: r.unsubscribe_count,
    },
    progress: {
      done,
      remaining,
      expectedCompletionAt: iso(r.expected_completion_at),
      minutesLeft,
      summary: held ? `${summary}; waiting for our SMTP relay (${r.hold_reason})` : summary,
    },
    cancelRequestedAt: iso(r.cancel_requested_at),
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    startedAt: iso(r.started_at),
    completedAt: iso(r.completed_at),
    updatedBy: r.updated_by,
  };
}

const SendSummary = Type.Object({
  id: Type.String(),
  leadId: Type.Integer(),
  address: Type.String(),
  result: Type.String(),
  code: Nullable(Type.Integer()),
  detail: Nullable(Type.String()),
  errorType: Nullable(Type.String()),
  errorReason: Nullable(Type.String()),
  messageId: Nullable(Type.String()),
  attempts: Type.Integer(),
  sentAt: NullableTimestamp,
  deliveredAt: NullableTimestamp,
  leadDeleted: Type.Boolean(),
});

const UnsentEntry = Type.Object({
  leadId: Type.Integer(),
  address: Nullable(Type.String()),
  reason: Type.String({
    description: 'why the lead was excluded, or "pending" while the run is in progress',
  }),
});

export const wizardRunRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { pool, temporal, config } = app.deps;

  app.post(
    '/v1/wizard-runs',
    {
      schema: {
        tags: ['wizard runs'],
        summary: 'Reserve a bulk send (immediate when scheduledAt is empty)',
        headers: IdempotencyHeaders,
        body: CreateRunBody,
        response: { 201: WizardRun, 400: ErrorBody, 409: ErrorBody, 422: ErrorBody, 503: ErrorBody },
      },
      ...idempotentRoute(pool, 'POST /v1/wizard-runs'),
    },
    async (req, reply) => {
      const b = req.body;
      const template = await getTemplate(pool, b.templateId);
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
      if (b.segmentId !== undefined) {
        const seg = await pool.query<{ channel: string }>('SELECT channel FROM segment WHERE id = $1', [
          b.segmentId,
        ]);
        if (!seg.rows[0]) throw badRequest('body.segmentId', `segment ${b.segmentId} does not exist`);
        if (seg.rows[0].channel !== template.channel) {
          throw badRequest(
            'body.segmentId',
            `segment ${b.segmentId} is for ${seg.rows[0].channel}, the template for ${template.channel}`,
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

      // The row commits first, then its workflow starts (workflow id = the
      // run's, one execution ever): a workflow never runs ahead of its row.
      // Should the start fail, the row is marked error here; should this
      // process die between COMMIT and the start, the consistency sweep
      // (workflows/run-sweep.ts) starts the reserved run's workflow.
      const run = await inTransaction(pool, async (client) => {
        const ins = await client.query<{ id: number }>(
          `INSERT INTO wizard_run (channel, template_id, template_title, template_memo, target_kind, segment_id, lead_ids,
                                   include_already_sent, permission_filter, allow_long_sms, phone_field, scheduled_at,
                                   status_mail, remind_mail, status, workflow_id, updated_by, retry_schedules)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'reserved', '', $15, $16) RETURNING id`,
          [
            template.channel,
            template.id,
            template.title,
            template.memo,
            b.segmentId !== undefined ? 'segment' : 'list',
            b.segmentId ?? null,
            b.leadIds ?? null,
            b.includeAlreadySent ?? false,
            b.permissionFilter ?? false,
            b.allowLongSms ?? false,
            b.phoneField ?? null,
            scheduledAt,
            b.statusMail ?? null,
            b.remindMail ?? null,
            b.updatedBy ?? null,
            b.retrySchedules ? JSON.stringify(b.retrySchedules) : null,
          ],
        );
        const id = ins.rows[0]!.id;
        const upd = await client.query<RunRow>(
          'UPDATE wizard_run SET workflow_id = $2 WHERE id = $1 RETURNING *',
          [id, wizardRunWorkflowId(id)],
        );
        await recordCreated(req, client, `wizard run ${id}`);
        await app.deps.testHooks?.beforeRunCommit?.(id);
        return upd.rows[0]!;
      });
      try {
        await startWizardRun(
          temporal,
          config.taskQueueWizard,
          {
            runId: run.id,
            channel: run.channel,
            scheduledAt: scheduledAt ? scheduledAt.toISOString() : null,
            settings: wizardRunSettings(config, run.channel),
          },
          'reserved',
        );
      } catch (err) {
        req.log.error({ err, runId: run.id }, 'could not start the run workflow');
        // Had the start reached the server after all, its workflow finds the run
        // in error and ends without sending.
        await transitionRun(pool, run.id, ['reserved'], 'error', { errorMessage: START_FAILED }).catch(
          (e: unknown) => req.log.error({ err: e, runId: run.id }, 'could not mark the unstarted run'),
        );
        throw new ApiError(
          503,
          `the workflow service is not reachable; run ${run.id} was not started and will send nothing, retry shortly`,
        );
      }
      return reply.status(201).send(runJson(run));
    },
  );

  // GET /v1/wizard-runs (search) lives in run-search.ts.

  app.get(
    '/v1/wizard-runs/:id',
    {
      schema: {
        tags: ['wizard runs'],
        summary: 'A run: status, counters, times and progress',
        params: IdParams,
        response: { 200: WizardRun, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const run = await getRun(pool, req.params.id);
      if (!run) throw notFound(`wizard run ${req.params.id}`);
      return runJson(run);
    },
  );

  app.delete(
    '/v1/wizard-runs/:id',
    {
      schema: {
        tags: ['wizard runs'],
        summary: 'Cancel a reserved, preparing or running run (repeating it is harmless)',
        params: IdParams,
        response: {
          202: WizardRun,
          200: WizardRun,
          400: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const run = await getRun(pool, req.params.id);
      if (!run) throw notFound(`wizard run ${req.params.id}`);
      if (run.status === 'cancelled') return reply.status(200).send(runJson(run));
      if (!isCancellable(run.status))
        throw conflict(`wizard run ${run.id} is ${run.status} and can no longer be cancelled`);
      await pool.query(
        'UPDATE wizard_run SET cancel_requested_at = coalesce(cancel_requested_at, now()) WHERE id = $1',
        [run.id],
      );
      const outcome = await cancelWizardRun(temporal, run.id);
      if (outcome === 'already-closed') {
        // The workflow ended on its own meanwhile; the row says how.
        const now = await getRun(pool, run.id);
        if (now && !isCancellable(now.status) && now.status !== 'cancelled') {
          throw conflict(`wizard run ${run.id} is ${now.status} and can no longer be cancelled`);
        }
      }
      return reply.status(202).send(runJson((await getRun(pool, run.id))!));
    },
  );

  app.get(
    '/v1/wizard-runs/:id/sends',
    {
      schema: {
        tags: ['wizard runs'],
        summary: "The run's individual sends (sent list)",
        params: IdParams,
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: {
          200: Type.Object({ items: Type.Array(SendSummary), nextCursor: Nullable(Type.String()) }),
          400: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (req) => {
      if (!(await getRun(pool, req.params.id))) throw notFound(`wizard run ${req.params.id}`);
      const limit = req.query.limit ?? 100;
      const res = await pool.query(
        `SELECT s.*, (l.id IS NULL OR l.deleted_at IS NOT NULL OR l.merged_into_id IS NOT NULL) AS lead_deleted
           FROM send s LEFT JOIN lead l ON l.id = s.lead_id
          WHERE s.run_id = $1 AND ($2::bigint IS NULL OR s.id > $2) ORDER BY s.id LIMIT $3`,
        [req.params.id, req.query.cursor ?? null, limit + 1],
      );
      const items = res.rows.slice(0, limit).map((s) => ({
        id: String(s.id),
        leadId: s.lead_id,
        address: s.address,
        result: s.result,
        code: s.code,
        detail: s.detail,
        errorType: s.error_type,
        errorReason: s.error_reason,
        messageId: s.message_id,
        attempts: s.attempts,
        sentAt: iso(s.sent_at),
        deliveredAt: iso(s.delivered_at),
        leadDeleted: s.lead_deleted,
      }));
      const last = items[items.length - 1];
      return { items, nextCursor: res.rows.length > limit && last ? last.id : null };
    },
  );

  app.get(
    '/v1/wizard-runs/:id/unsent',
    {
      schema: {
        tags: ['wizard runs'],
        summary:
          'Leads not sent to: excluded at preparation with the reason, and those still pending while the run is in progress',
        params: IdParams,
        querystring: Type.Object(
          {
            limit: PageQuery.limit,
            offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(UnsentEntry), total: Type.Integer() }),
          400: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (req) => {
      const run = await getRun(pool, req.params.id);
      if (!run) throw notFound(`wizard run ${req.params.id}`);
      const limit = req.query.limit ?? 100;
      const res = await pool.query<{
        lead_id: number;
        address: string | null;
        reason: string;
        total: number;
      }>(
        `WITH u AS (
           SELECT e.lead_id, e.address, e.reason FROM run_exclusion e WHERE e.run_id = $1
           UNION ALL
           SELECT t.lead_id, t.address, 'pending' FROM run_target t
             LEFT JOIN send s ON s.run_id = t.run_id AND s.lead_id = t.lead_id
            WHERE t.run_id = $1 AND (s.id IS NULL OR s.result = 'pending')
         )
         SELECT u.*, count(*) OVER ()::int AS total FROM u ORDER BY u.lead_id LIMIT $2 OFFSET $3`,
        [run.id, limit, req.query.offset ?? 0],
      );
      return {
        items: res.rows.map((r) => ({ leadId: r.lead_id, address: r.address, reason: r.reason })),
        total: res.rows[0]?.total ?? 0,
      };
    },
  );
};
