// GET /v1/sends: search individual sends (SPEC 9) by address, lead, template
// title, result, code, times and run; sorted and cursor-paged.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { SearchFields } from '../../domain/history-search';
import { Cursor, Limit, Order, rangeParams, SearchText, searchHistory } from '../history-query';
import { Channel, ErrorBody, Nullable } from '../schemas';
import { SendDetail, sendJson } from './sends';

const SEND_FIELDS: SearchFields = {
  channel: { kind: 'choice', column: 's.channel' },
  address: { kind: 'text', columns: ['s.address'] },
  title: { kind: 'text', columns: ['s.template_title'] },
  leadId: { kind: 'eq', column: 's.lead_id', cast: 'int' },
  runId: { kind: 'eq', column: 's.run_id', cast: 'int' },
  result: { kind: 'choice', column: 's.result' },
  code: { kind: 'choice', column: 's.code', cast: 'int' },
  created: { kind: 'range', column: 's.created_at' },
  sent: { kind: 'range', column: 's.sent_at' },
  delivered: { kind: 'range', column: 's.delivered_at' },
};

const SEND_SORTS = {
  createdAt: 's.created_at',
  sentAt: 's.sent_at',
  deliveredAt: 's.delivered_at',
  id: null,
} as const;

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
        Object.keys(SEND_SORTS).map((k) => Type.Literal(k)),
        { default: 'id' },
      ),
    ),
    order: Order,
    limit: Limit,
    cursor: Cursor,
  },
  { additionalProperties: false },
);

export const sendSearchRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = app.deps;

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
    async (req) => {
      const q = req.query;
      const sortName = (q.sort ?? 'id') as keyof typeof SEND_SORTS;
      const page = await searchHistory(pool, {
        from: 'send s',
        select: 's.*',
        fields: SEND_FIELDS,
        query: q,
        sort: { name: sortName, column: SEND_SORTS[sortName], idColumn: 's.id', order: q.order ?? 'desc' },
        cursor: q.cursor,
        limit: q.limit ?? 100,
      });
      return { items: page.rows.map(sendJson), nextCursor: page.nextCursor };
    },
  );
};
