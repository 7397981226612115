// GET /v1/sends: search individual sends (SPEC 9) by address, lead, template
// title, result, code, times and run; sorted and cursor-paged.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SEND_SORT_NAMES, type SendSort } from '../../db/repositories/history';
import { Cursor, Limit, Order, rangeParams, SearchText, searchOrReject } from '../history-query';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { Channel, ErrorBody, Nullable } from '../schemas';
import { SendDetail, sendJson } from './sends';
import { requestLabels } from '../i18n';

const Result = Type.Union(['delivered', 'sent', 'error', 'pre_error', 'pending'].map((r) => Type.Literal(r)));
const IntId = Type.Integer({ minimum: 1, maximum: 2147483647 });

export const SendSearchQuery = Type.Object(
  {
    channel: Type.Optional(Type.Array(Channel, { maxItems: 3, description: 'any of' })),
    address: SearchText('address used (email, phone, LINE user id)'),
    title: SearchText('template title'),
    leadId: Type.Optional(IntId),
    runId: Type.Optional(IntId),
    result: Type.Optional(Type.Array(Result, { maxItems: 5, description: 'any of' })),
    code: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, maximum: 99999 }), { maxItems: 50, description: 'any of' }),
    ),
    ...rangeParams('created', 'created'),
    ...rangeParams('sent', 'sent'),
    ...rangeParams('delivered', 'delivered'),
    sort: Type.Optional(
      Type.Union(
        SEND_SORT_NAMES.map((k) => Type.Literal(k)),
        { default: 'id' },
      ),
    ),
    order: Order,
    limit: Limit,
    cursor: Cursor,
  },
  { additionalProperties: false },
);

export const sendSearchRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'send-search-routes', dependencies: [repository('history')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/v1/sends',
      {
        schema: {
          tags: ['sends'],
          summary:
            'Search individual sends: AND across fields, OR within channel, result and code; cursor-paged',
          querystring: SendSearchQuery,
          response: {
            200: Type.Object({ items: Type.Array(SendDetail), nextCursor: Nullable(Type.String()) }),
            400: ErrorBody,
            503: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        const q = req.query;
        const t = requestLabels(req, reply);
        const page = await searchOrReject(() =>
          app.history.sends({
            query: q,
            sort: (q.sort ?? 'id') as SendSort,
            order: q.order ?? 'desc',
            cursor: q.cursor,
            limit: q.limit ?? 100,
          }),
        );
        return { items: page.rows.map((r) => sendJson(r, t)), nextCursor: page.nextCursor };
      },
    );
  },
);
