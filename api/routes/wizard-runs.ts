// The wizard-run resource over HTTP: its schemas, its JSON and its routes.
// What each route does is api/use-cases/wizard-runs.ts.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RunRow, RunWaves } from '../../db/run-queries';
import { figuresOfRun } from '../../channels/run-figures';
import { compileSegmentFilter } from '../../domain/segment-filter';
import { runSummary } from '../../domain/run-summary';
import { reminderId } from '../../workflows/wizard-run';
import { notFound } from '../errors';
import { Lead, leadJson } from './leads';
import { IdempotencyHeaders, idempotentRoute, recordCreated } from '../idempotency';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { actorOf } from '../plugins/auth';
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
    remindMail: Type.Optional(
      Type.String({
        format: 'email',
        maxLength: 254,
        description:
          'where the reminder mail (リマインドメール) goes before a scheduled start; immediate runs send none',
      }),
    ),
    remindBeforeMinutes: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10080,
        description:
          'how long before scheduledAt the reminder goes out; default REMIND_MAIL_LEAD_MINUTES (60)',
      }),
    ),
    updatedBy: Type.Optional(
      Type.String({
        maxLength: 200,
        deprecated: true,
        description:
          'ignored (accepted for compatibility): the run records the name of the API key or console user that created, changed or cancelled it',
      }),
    ),
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
  openers: Nullable(
    Type.Integer({ description: 'null when opens are not measurable (text mail, SMS, LINE)' }),
  ),
  clickers: Type.Integer(),
  totalClicks: Type.Integer(),
  unsubscribes: Type.Integer(),
});

const Rate = Nullable(
  Type.Number({
    description: 'percent, rounded half-up to 2 decimals; null when not measurable or nothing to divide by',
  }),
);

/** A run's figures: the one computation (domain/figures runFigures) every endpoint shows. */
export const RunFigureValues = Type.Object({
  sent: Type.Integer({ description: 'in sentUnit: SMS parts after splitting, otherwise messages' }),
  sentUnit: Type.Union([Type.Literal('messages'), Type.Literal('parts')]),
  sentMessages: Type.Integer({ description: 'messages sent, whatever the unit of sent' }),
  delivered: Type.Integer(),
  errors: Type.Integer(),
  deliveryMeasurable: Type.Boolean({ description: 'false where the channel never confirms delivery (LINE)' }),
  deliveryRate: Rate,
  opensMeasurable: Type.Boolean(),
  opensNotMeasurableReason: Nullable(Type.String()),
  openers: Nullable(Type.Integer({ description: 'null when opens are not measurable' })),
  unopened: Nullable(Type.Integer()),
  openRate: Rate,
  clickers: Type.Integer(),
  totalClicks: Type.Integer(),
  clickRate: Rate,
  unsubscribes: Type.Integer(),
  unsubscribeRate: Rate,
});

const TemplateSnapshot = Type.Object(
  {
    title: Type.String(),
    memo: Nullable(Type.String()),
    emailFormat: Nullable(Type.String()),
    subject: Nullable(Type.String()),
    from: Nullable(Type.String()),
    replyTo: Nullable(Type.String()),
    bodyText: Nullable(Type.String()),
    bodyHtml: Nullable(Type.String()),
    openTracking: Nullable(Type.Boolean()),
    clickTracking: Nullable(Type.Boolean()),
    smsBody: Nullable(Type.String()),
    lineMessages: Nullable(Type.Array(Type.Unknown())),
  },
  {
    description:
      'the template as it was at reservation: what went out, whatever became of the template since',
  },
);

const Waves = Type.Object(
  {
    pending: Type.Object({
      count: Type.Integer({ description: 'sends waiting for a retry wave' }),
      nextAt: NullableTimestamp,
      byReason: Type.Array(Type.Object({ reason: Type.String(), count: Type.Integer(), nextAt: Timestamp }), {
        description: 'per error reason, the earliest first',
      }),
    }),
    held: Type.Object(
      { count: Type.Integer(), until: NullableTimestamp },
      { description: 'sends held back before their first attempt (a domain allowance or breaker)' },
    ),
    retried: Type.Integer({ description: 'sends attempted more than once' }),
    givenUp: Type.Integer({ description: 'sends retried and still in error with no next attempt' }),
    finishedAt: Type.Union([Timestamp, Type.Null()], {
      description:
        'when no retry wave was left (the last one ended, or none was needed); null while waves may come',
    }),
    cancelledAt: NullableTimestamp,
    cancelledBy: Nullable(
      Type.String({ description: 'API key or console user that cancelled the pending waves' }),
    ),
  },
  {
    description:
      'retry waves: they go on after the run is completed (完了: the system finished its first pass); DELETE on a completed run cancels the pending ones',
  },
);

const Reminder = Type.Object(
  {
    id: Type.String({ description: "the reminder's id: its durable timer's summary in the run's workflow" }),
    to: Type.String(),
    at: Timestamp,
    status: Type.Union([
      Type.Literal('scheduled'),
      Type.Literal('sent'),
      Type.Literal('cancelled'),
      Type.Literal('skipped'),
    ]),
    sentAt: NullableTimestamp,
  },
  { description: 'the reminder mail (リマインドメール) before a scheduled start' },
);

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
    template: Type.Object({
      id: Type.Integer(),
      title: Type.String(),
      memo: Type.String(),
      snapshot: Nullable(TemplateSnapshot),
    }),
    target: Type.Object({
      method: Type.String({ description: 'segment | list' }),
      segmentId: Nullable(Type.Integer()),
      segmentName: Nullable(Type.String({ description: "the segment's name as it was at reservation" })),
      leadsUrl: Nullable(
        Type.String({ description: 'a page of the leads the segment selects now (GET, cursor-paged)' }),
      ),
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
    figures: RunFigureValues,
    waves: Waves,
    reminder: Nullable(Reminder),
    progress: Type.Object({
      done: Type.Integer(),
      remaining: Type.Integer(),
      expectedCompletionAt: Type.Union([Timestamp, Type.Null()], {
        description:
          '送信完了予定日時: from the moment the targets are known (their count over the measured or configured throughput, later than any hold); null once the run is no longer running',
      }),
      minutesLeft: Nullable(Type.Integer()),
      summary: Type.String(),
    }),
    cancelRequestedAt: NullableTimestamp,
    createdAt: Timestamp,
    updatedAt: Timestamp,
    startedAt: NullableTimestamp,
    completedAt: Type.Union([Timestamp, Type.Null()], {
      description: 'when the first pass was sent (完了); retry waves may go on after it',
    }),
    createdBy: Nullable(
      Type.String({ description: 'name of the API key or console user that created the run' }),
    ),
    updatedBy: Nullable(
      Type.String({
        description:
          '最終更新ユーザー: name of the API key or console user that last changed the run (created, cancelled)',
      }),
    ),
    cancelledBy: Nullable(
      Type.String({ description: 'name of the API key or console user that cancelled the run' }),
    ),
  },
  { $id: 'WizardRun' },
);

const NO_WAVES: RunWaves = { pending: [], retried: 0, givenUp: 0, held: { count: 0, until: null } };

function reminderJson(r: RunRow): Static<typeof Reminder> | null {
  if (!r.remind_mail || !r.remind_at) return null;
  const status = r.reminded_at
    ? 'sent'
    : r.status === 'reserved'
      ? 'scheduled'
      : r.status === 'cancelled'
        ? 'cancelled'
        : 'skipped';
  return {
    id: reminderId(r.id),
    to: r.remind_mail,
    at: iso(r.remind_at)!,
    status,
    sentAt: iso(r.reminded_at),
  };
}

export function runJson(r: RunRow, waves: RunWaves = NO_WAVES, now = Date.now()): Static<typeof WizardRun> {
  const done = r.sent_count + r.pre_error_count;
  const remaining = Math.max(0, r.target_count - done);
  const running = r.status === 'running';
  // Sends held back push the completion to the end of their hold at the earliest.
  const heldUntil = running && waves.held.count > 0 && waves.held.until ? waves.held.until.getTime() : null;
  const measured = running && r.expected_completion_at ? r.expected_completion_at.getTime() : null;
  const eta = measured !== null || heldUntil !== null ? Math.max(measured ?? 0, heldUntil ?? 0) : null;
  const minutesLeft = eta !== null && remaining > 0 ? Math.max(1, Math.ceil((eta - now) / 60_000)) : null;
  const held = running && !!r.hold_reason;
  const pendingCount = waves.pending.reduce((n, p) => n + p.count, 0);
  const nextWaveAt = waves.pending[0]?.nextAt ?? null;
  const summary = runSummary({
    status: r.status,
    done,
    targets: r.target_count,
    minutesLeft,
    scheduledAt: r.scheduled_at,
    heldBy: held ? r.hold_reason : null,
    held:
      waves.held.count > 0 && waves.held.until ? { count: waves.held.count, until: waves.held.until } : null,
    nextWave: nextWaveAt ? { at: nextWaveAt, waiting: pendingCount } : null,
  });
  const figures = figuresOfRun(r);
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
    template: {
      id: r.template_id,
      title: r.template_title,
      memo: r.template_memo,
      snapshot: r.template_snapshot ? snapshotJson(r.template_snapshot, r) : null,
    },
    target: {
      method: r.target_kind,
      segmentId: r.segment_id,
      segmentName: r.segment_name,
      leadsUrl: r.segment_id !== null ? `/v1/wizard-runs/${r.id}/segment-leads` : null,
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
      // Per channel (SMS: parts accepted by the SMSC, SPEC §6; figures.sentUnit says which); progress stays per message.
      sent: figures.sent,
      delivered: r.delivered_count,
      preErrors: r.pre_error_count,
      errors: r.error_count,
      openers: figures.openers,
      clickers: r.clicker_count,
      totalClicks: r.click_count,
      unsubscribes: r.unsubscribe_count,
    },
    figures,
    waves: {
      pending: {
        count: pendingCount,
        nextAt: iso(nextWaveAt),
        byReason: waves.pending.map((p) => ({ reason: p.reason, count: p.count, nextAt: iso(p.nextAt)! })),
      },
      held: { count: waves.held.count, until: iso(waves.held.until) },
      retried: waves.retried,
      givenUp: waves.givenUp,
      finishedAt: iso(r.waves_notified_at),
      cancelledAt: iso(r.waves_cancelled_at),
      cancelledBy: r.waves_cancelled_by,
    },
    reminder: reminderJson(r),
    progress: {
      done,
      remaining,
      expectedCompletionAt: eta !== null ? new Date(eta).toISOString() : null,
      minutesLeft,
      summary,
    },
    cancelRequestedAt: iso(r.cancel_requested_at),
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    startedAt: iso(r.started_at),
    completedAt: iso(r.completed_at),
    createdBy: r.created_by,
    updatedBy: r.updated_by,
    cancelledBy: r.cancelled_by,
  };
}

function snapshotJson(s: Record<string, unknown>, r: RunRow): Static<typeof TemplateSnapshot> {
  const text = (k: string) => (typeof s[k] === 'string' ? (s[k] as string) : null);
  const bool = (k: string) => (typeof s[k] === 'boolean' ? (s[k] as boolean) : null);
  return {
    title: text('title') ?? r.template_title,
    memo: text('memo'),
    emailFormat: text('emailFormat'),
    subject: text('subject'),
    from: text('from'),
    replyTo: text('replyTo'),
    bodyText: text('bodyText'),
    bodyHtml: text('bodyHtml'),
    openTracking: bool('openTracking'),
    clickTracking: bool('clickTracking'),
    smsBody: text('smsBody'),
    lineMessages: Array.isArray(s.lineMessages) ? (s.lineMessages as unknown[]) : null,
  };
}

/** A run as the API shows it, with its waves read from its sends. */
export async function runWithWaves(
  runs: { waves(ids: readonly number[]): Promise<Map<number, RunWaves>> },
  r: RunRow,
): Promise<Static<typeof WizardRun>> {
  return runJson(r, (await runs.waves([r.id])).get(r.id));
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
        const run = await runs.reserve(req.body, actorOf(req), req.log, async (client, id) => {
          await recordCreated(req, client, `wizard run ${id}`);
          await app.deps.testHooks?.beforeRunCommit?.(id);
        });
        return reply.status(201).send(await runWithWaves(app.wizardRuns, run));
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
      async (req) => runWithWaves(app.wizardRuns, await runs.read(req.params.id)),
    );

    app.delete(
      '/v1/wizard-runs/:id',
      {
        schema: {
          tags: ['wizard runs'],
          summary:
            "Cancel a reserved, preparing or running run, or a completed run's pending retry waves (repeating it is harmless)",
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
        const { run, accepted } = await runs.cancel(req.params.id, actorOf(req));
        return reply.status(accepted ? 202 : 200).send(await runWithWaves(app.wizardRuns, run));
      },
    );

    app.get(
      '/v1/wizard-runs/:id/segment-leads',
      {
        schema: {
          tags: ['wizard runs'],
          summary: "A page of the live leads the run's segment selects now (its target.leadsUrl)",
          params: IdParams,
          querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
          response: {
            200: Type.Object({
              segmentId: Type.Integer(),
              segmentName: Nullable(
                Type.String({ description: "the segment's name now; null once deleted" }),
              ),
              items: Type.Array(Lead),
              nextCursor: Nullable(Type.String()),
            }),
            400: ErrorBody,
            404: ErrorBody,
          },
        },
      },
      async (req) => {
        const run = await runs.read(req.params.id);
        if (run.segment_id === null)
          throw notFound(`wizard run ${run.id} targets a list of leads, not a segment`);
        const segment = await app.wizardRuns.segment(run.segment_id);
        if (!segment) throw notFound(`segment ${run.segment_id} of wizard run ${run.id} no longer exists`);
        const limit = req.query.limit ?? 100;
        const after = req.query.cursor !== undefined ? Math.min(Number(req.query.cursor), 2147483647) : null;
        const rows = await app.wizardRuns.segmentLeads(
          compileSegmentFilter(segment.filter),
          Number.isFinite(after) ? after : null,
          limit,
        );
        const items = rows.slice(0, limit).map(leadJson);
        const last = items[items.length - 1];
        return {
          segmentId: segment.id,
          segmentName: segment.name,
          items,
          nextCursor: rows.length > limit && last ? String(last.id) : null,
        };
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
