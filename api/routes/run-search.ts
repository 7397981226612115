// GET /v1/wizard-runs: simple and detailed search over runs (SPEC 9), sorted,
// cursor-paged, every item with its counters and figures.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RunRow } from '../../db/run-queries';
import { computeRunFigures } from '../../domain/figures';
import type { SearchFields } from '../../domain/history-search';
import { Cursor, Limit, Order, rangeParams, SearchText, searchHistory } from '../history-query';
import { Channel, ErrorBody, Nullable } from '../schemas';
import { runJson, WizardRun } from './wizard-runs';

const RUN_FIELDS: SearchFields = {
  q: { kind: 'text', columns: ['r.template_title', 'r.template_memo'] },
  title: { kind: 'text', columns: ['r.template_title'] },
  memo: { kind: 'text', columns: ['r.template_memo'] },
  status: { kind: 'choice', column: 'r.status' },
  channel: { kind: 'choice', column: 'r.channel' },
  created: { kind: 'range', column: 'r.created_at' },
  scheduled: { kind: 'range', column: 'r.scheduled_at' },
  started: { kind: 'range', column: 'r.started_at' },
  completed: { kind: 'range', column: 'r.completed_at' },
  includeAlreadySent: { kind: 'eq', column: 'r.include_already_sent', cast: 'boolean' },
  permissionFilter: { kind: 'eq', column: 'r.permission_filter', cast: 'boolean' },
};

const RUN_SORTS = {
  createdAt: 'r.created_at',
  scheduledAt: 'r.scheduled_at',
  startedAt: 'r.started_at',
  completedAt: 'r.completed_at',
  id: null,
} as const;

export const RunSearchQuery = Type.Object(
  {
    q: SearchText('simple search over template title and memo'),
    title: SearchText('template title'),
    memo: SearchText('template memo'),
    status: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 20 }), { maxItems: 10, description: 'any of' }),
    ),
    channel: Type.Optional(Type.Array(Channel, { maxItems: 3, description: 'any of' })),
    ...rangeParams('created', 'created'),
    ...rangeParams('scheduled', 'scheduled'),
    ...rangeParams('started', 'started'),
    ...rangeParams('completed', 'completed'),
    includeAlreadySent: Type.Optional(Type.Boolean()),
    permissionFilter: Type.Optional(Type.Boolean()),
    sort: Type.Optional(
      Type.Union(
        Object.keys(RUN_SORTS).map((k) => Type.Literal(k)),
        { default: 'createdAt', description: 'rows without the time come last' },
      ),
    ),
    order: Order,
    limit: Limit,
    cursor: Cursor,
  },
  { additionalProperties: false },
);

const RunFigures = Type.Object({
  deliveryRate: Nullable(Type.Number()),
  openRate: Nullable(Type.Number()),
  unopened: Nullable(Type.Integer()),
  clickRate: Nullable(Type.Number()),
  unsubscribeRate: Nullable(Type.Number()),
});

const RunListItem = Type.Composite([Type.Omit(WizardRun, []), Type.Object({ figures: RunFigures })]);

export const runSearchRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = app.deps;

  app.get(
    '/v1/wizard-runs',
    {
      schema: {
        tags: ['wizard runs'],
        summary: 'Search runs: AND across fields, OR within status and channel; sorted and cursor-paged',
        querystring: RunSearchQuery,
        response: {
          200: Type.Object({ items: Type.Array(RunListItem), nextCursor: Nullable(Type.String()) }),
          400: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const sortName = (q.sort ?? 'createdAt') as keyof typeof RUN_SORTS;
      const page = await searchHistory<RunRow & Record<string, unknown>>(pool, {
        from: 'wizard_run r',
        select: 'r.*',
        fields: RUN_FIELDS,
        query: q,
        sort: { name: sortName, column: RUN_SORTS[sortName], idColumn: 'r.id', order: q.order ?? 'desc' },
        cursor: q.cursor,
        limit: q.limit ?? 100,
      });
      return {
        items: page.rows.map((r) => {
          const run = runJson(r);
          // From the counters shown, so an item's figures always agree with them.
          const c = run.counters;
          const f = computeRunFigures({
            sent: c.sent,
            delivered: c.delivered,
            errors: c.errors,
            openers: c.openers,
            clickers: c.clickers,
            totalClicks: c.totalClicks,
            unsubscribes: c.unsubscribes,
          });
          return {
            ...run,
            figures: {
              deliveryRate: f.deliveryRate,
              openRate: f.openRate,
              unopened: f.unopened,
              clickRate: f.clickRate,
              unsubscribeRate: f.unsubscribeRate,
            },
          };
        }),
        nextCursor: page.nextCursor,
      };
    },
  );
};
