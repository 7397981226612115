// 複合検索: leads by their own fields and their individual send history
// (channel, run, template, result, code, sent time, clicked, opened,
// unsubscribed), in the segment filter language: the same filter saved with
// POST /v1/segments is a segment a run sends to, and selects the same leads
// (both compile with domain/segment-filter.ts).
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { ErrorBody, IntCursor, Nullable } from '../schemas';
import { Lead, leadJson } from './leads';
import { compileOrReject } from './segments';

const FILTER_DOC =
  'The segment filter language (domain/segment-filter.ts): `all` / `any` / `not` of conditions on lead fields ' +
  '(`{"field":"email_valid","op":"eq","value":false}`: leads whose email flag is invalid), attributes, and the send history: ' +
  '`{"sends":{"channel":"email","runId":12,"templateId":3,"result":["error"],"code":[42550],"sentFrom":"…","sentTo":"…",' +
  '"clicked":true,"opened":false,"unsubscribed":false,"exists":true}}` (every key optional; lists are OR; `exists:false` = no such send). ' +
  'Save it with POST /v1/segments to send to the same leads.';

export const leadSearchRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'lead-search-routes', dependencies: [repository('history')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { history } = app;

    app.post(
      '/v1/leads/search',
      {
        schema: {
          tags: ['leads'],
          summary: '複合検索: live leads by their fields and their send history (the filter a segment saves)',
          description: FILTER_DOC,
          body: Type.Object(
            {
              filter: Type.Record(Type.String(), Type.Unknown(), { description: FILTER_DOC }),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
              cursor: IntCursor,
              count: Type.Optional(
                Type.Boolean({
                  default: true,
                  description: 'also count every lead the filter selects (total)',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              items: Type.Array(Lead),
              nextCursor: Nullable(Type.Integer()),
              total: Nullable(
                Type.Integer({ description: 'leads the filter selects; null when count is false' }),
              ),
            }),
            400: ErrorBody,
            503: ErrorBody,
          },
        },
      },
      async (req) => {
        const compiled = compileOrReject(req.body.filter);
        const limit = req.body.limit ?? 100;
        const { rows, total } = await history.searchLeads(compiled, {
          afterId: req.body.cursor ?? null,
          limit,
          count: req.body.count ?? true,
        });
        const items = rows.slice(0, limit);
        const last = items[items.length - 1];
        return {
          items: items.map(leadJson),
          nextCursor: rows.length > limit && last ? last.id : null,
          total,
        };
      },
    );
  },
);
