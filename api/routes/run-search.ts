// GET /v1/wizard-runs: simple and detailed search over runs (SPEC 9), sorted,
// cursor-paged, every item with its counters and figures.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { RUN_SORT_NAMES, type RunSort } from '../../db/repositories/history';
import { runWaves } from '../../db/run-queries';
import { RUN_STATUSES } from '../../domain/run-lifecycle';
import { Cursor, Limit, Order, rangeParams, SearchText, searchOrReject } from '../history-query';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { Channel, ErrorBody, Nullable } from '../schemas';
import { runJson, WizardRun } from './wizard-runs';
import { requestLabels } from '../i18n';

export const RunSearchQuery = Type.Object(
  {
    q: SearchText('simple search over template title and memo'),
    title: SearchText('template title'),
    memo: SearchText('template memo'),
    status: Type.Optional(
      Type.Array(Type.Union(RUN_STATUSES.map((s) => Type.Literal(s))), {
        maxItems: 10,
        description: 'any of; a value that is no status is a 400',
      }),
    ),
    channel: Type.Optional(Type.Array(Channel, { maxItems: 3, description: 'any of' })),
    segmentId: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 2147483647 }), {
        maxItems: 50,
        description: 'runs that target any of these segments',
      }),
    ),
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

// Each item is the run as GET /v1/wizard-runs/:id shows it, figures included (one computation).
const RunListItem = WizardRun;

export const runSearchRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'run-search-routes', dependencies: ['database', repository('history')] },
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
      async (req, reply) => {
        const q = req.query;
        const t = requestLabels(req, reply);
        const page = await searchOrReject(() =>
          app.history.runs({
            query: q,
            sort: (q.sort ?? 'createdAt') as RunSort,
            order: q.order ?? 'desc',
            cursor: q.cursor,
            limit: q.limit ?? 100,
          }),
        );
        const waves = await runWaves(
          app.db.pool,
          page.rows.map((r) => r.id),
        );
        return {
          items: page.rows.map((r) => runJson(r, waves.get(r.id), t)),
          nextCursor: page.nextCursor,
        };
      },
    );
  },
);
