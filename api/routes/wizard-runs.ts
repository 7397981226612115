// The wizard-run resource over HTTP: its schemas, its JSON and its routes.
// What each route does is api/use-cases/wizard-runs.ts.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RunRow } from '../../db/run-queries';
import { CHANNEL_MODULES } from '../../channels/registry';
import { runSummary } from '../../domain/run-summary';
import { IdempotencyHeaders, idempotentRoute, recordCreated } from '../idempotency';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { wizardRunUseCases } from '../use-cases/wizard-runs';
import { PreflightSchema } from './sending-domains';
import { ErrorBody, IdParams, Nullable, NullableTimestamp, PageQuery, Timestamp, iso } from '../schemas';

const Email = Type.String({ format: 'email', maxLength: 254 });

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
        description:
          'why a running run waits, e.g. for our SMTP relay, or why all its sends are pre-errors (91002 / 91003); null otherwise',
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
    senderAuth: Nullable(
      Type.Object(
        {
          code: Type.Integer({
            description: '91002 (DKIM / DMARC check failed) | 91003 (domain not registered or verified)',
          }),
          detail: Type.String({ description: 'what failed and the DNS records to fix' }),
        },
        { description: 'every send of the run is this pre-error: its From domain may not send (issue 19)' },
      ),
    ),
    preflight: Nullable(PreflightSchema),
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
  const held = r.status === 'running' && !!r.hold_reason;
  const summary = runSummary({
    status: r.status,
    done,
    targets: r.target_count,
    minutesLeft,
    scheduledAt: r.scheduled_at,
    heldBy: held ? r.hold_reason : null,
  });
  const statusDetail = held
    ? `sends wait for our SMTP relay (${r.hold_reason}) since ${iso(r.held_since)}; next try at ${iso(r.held_until)}: ${r.hold_detail ?? ''}`
    : r.sender_auth_code !== null
      ? `every send is pre-error ${r.sender_auth_code}: ${r.sender_auth_detail ?? ''}`
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
    senderAuth:
      r.sender_auth_code !== null ? { code: r.sender_auth_code, detail: r.sender_auth_detail ?? '' } : null,
    preflight: r.preflight as Static<typeof PreflightSchema> | null,
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
      // Per channel (SMS: parts accepted by the SMSC, SPEC §6); progress stays per message.
      sent: CHANNEL_MODULES[r.channel].sentFigure?.(r) ?? r.sent_count,
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
      summary,
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

export const wizardRunRoutes: FastifyPluginAsync = routesPlugin(
  {
    name: 'wizard-run-routes',
    dependencies: ['database', repository('wizardRuns'), repository('templates'), repository('sends')],
  },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { temporal, config } = app.deps;
    const runs = wizardRunUseCases({
      runs: app.wizardRuns,
      templates: app.templates,
      sends: app.sends,
      temporal,
      config,
    });
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
        ...idempotentRoute(app.db.pool, 'POST /v1/wizard-runs'),
      },
      async (req, reply) => {
        const run = await runs.reserve(req.body, req.log, async (client, id) => {
          await recordCreated(req, client, `wizard run ${id}`);
          await app.deps.testHooks?.beforeRunCommit?.(id);
        });
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
      async (req) => runJson(await runs.read(req.params.id)),
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
        const { run, accepted } = await runs.cancel(req.params.id);
        return reply.status(accepted ? 202 : 200).send(runJson(run));
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
        const limit = req.query.limit ?? 100;
        const rows = await runs.sends(req.params.id, { cursor: req.query.cursor, limit });
        const items = rows.slice(0, limit).map((s) => ({
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
        return { items, nextCursor: rows.length > limit && last ? last.id : null };
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
        const { rows, total } = await runs.unsent(
          req.params.id,
          req.query.limit ?? 100,
          req.query.offset ?? 0,
        );
        return {
          items: rows.map((r) => ({ leadId: r.lead_id, address: r.address, reason: r.reason })),
          total,
        };
      },
    );
  },
);
