// GET /v1/wizard-runs: simple and detailed search over runs (SPEC 9), sorted,
// cursor-paged, every item with its counters and figures.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { RUN_SORT_NAMES, type RunSort } from '../../db/repositories/history';
import { computeRunFigures } from '../../domain/figures';
import { Cursor, Limit, Order, rangeParams, SearchText, searchOrReject } from '../history-query';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { Channel, ErrorBody, Nullable } from '../schemas';
import { runJson, WizardRun } from './wizard-runs';

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
        RUN_SORT_NAMES.map((k) => Type.Literal(k)),
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

export const runSearchRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'run-search-routes', dependencies: [repository('history')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

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
        const page = await searchOrReject(() =>
          app.history.runs({
            query: q,
            sort: (q.sort ?? 'createdAt') as RunSort,
            order: q.order ?? 'desc',
            cursor: q.cursor,
            limit: q.limit ?? 100,
          }),
        );
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
  },
);
