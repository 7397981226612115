import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { compileSegmentFilter, FilterError } from '../../domain/segment-filter';
import type { SegmentRow } from '../../db/repositories/segments';
import { ApiError, badRequest, notFound } from '../errors';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { CHANNELS } from '../../domain/channels';
import { Channel, ErrorBody, IdParams, IntCursor, Nullable, Timestamp, iso } from '../schemas';
import { Limit, page, Text } from '../paging';

const SegmentBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    channel: Channel,
    filter: Type.Record(Type.String(), Type.Unknown(), {
      description: 'filter language (see domain/segment-filter.ts); {} selects every lead',
    }),
  },
  { additionalProperties: false },
);

export const Segment = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    channel: Type.String(),
    filter: Type.Record(Type.String(), Type.Unknown()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Segment' },
);

export const segmentJson = (s: SegmentRow): Static<typeof Segment> => ({
  id: s.id,
  name: s.name,
  channel: s.channel,
  filter: s.filter,
  createdAt: iso(s.created_at)!,
  updatedAt: iso(s.updated_at)!,
});

export function compileOrReject(filter: unknown) {
  try {
    return compileSegmentFilter(filter);
  } catch (err) {
    if (err instanceof FilterError) throw badRequest(`body.${err.path}`, err.message);
    throw err;
  }
}

export const segmentRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'segment-routes', dependencies: [repository('segments')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const segments = app.segments;

    app.post(
      '/v1/segments',
      {
        schema: {
          tags: ['segments'],
          summary: 'Save a segment (search condition)',
          body: SegmentBody,
          response: { 201: Segment, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        compileOrReject(req.body.filter);
        const row = await segments.insert(req.body.name, req.body.channel, req.body.filter);
        return reply.status(201).send(segmentJson(row));
      },
    );

    app.get(
      '/v1/segments/:id',
      {
        schema: {
          tags: ['segments'],
          summary: 'A segment',
          params: IdParams,
          response: { 200: Segment, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => {
        const row = await segments.get(req.params.id);
        if (!row) throw notFound(`segment ${req.params.id}`);
        return segmentJson(row);
      },
    );

    app.get(
      '/v1/segments/:id/preview',
      {
        schema: {
          tags: ['segments'],
          summary: 'How many live leads the segment selects now',
          params: IdParams,
          response: { 200: Type.Object({ count: Type.Integer() }), 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => {
        const seg = await segments.get(req.params.id);
        if (!seg) throw notFound(`segment ${req.params.id}`);
        return { count: await segments.countLiveLeads(compileSegmentFilter(seg.filter)) };
      },
    );
    app.get(
      '/v1/segments',
      {
        schema: {
          tags: ['segments'],
          summary: 'Segments, by id',
          querystring: Type.Object(
            {
              channel: Type.Optional(Type.Array(Channel, { maxItems: CHANNELS.length })),
              name: Text('name'),
              limit: Limit,
              cursor: IntCursor,
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ items: Type.Array(Segment), nextCursor: Nullable(Type.String()) }),
            400: ErrorBody,
          },
        },
      },
      async (req) => {
        const q = req.query;
        const limit = q.limit ?? 100;
        const rows = await segments.list({ channels: q.channel, name: q.name, cursor: q.cursor, limit });
        const p = page(rows, limit);
        return { items: p.items.map(segmentJson), nextCursor: p.nextCursor };
      },
    );

    app.patch(
      '/v1/segments/:id',
      {
        schema: {
          tags: ['segments'],
          summary: 'Rename a segment or change its filter (runs already prepared keep their targets)',
          params: IdParams,
          body: Type.Object(
            {
              name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
              filter: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
            },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: Segment, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => {
        if (req.body.filter !== undefined) compileOrReject(req.body.filter);
        const row = await segments.change(req.params.id, req.body);
        if (!row) throw notFound(`segment ${req.params.id}`);
        return segmentJson(row);
      },
    );

    app.delete(
      '/v1/segments/:id',
      {
        schema: {
          tags: ['segments'],
          summary: 'Delete a segment no waiting or running run targets',
          params: IdParams,
          response: { 204: Type.Null(), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const busy = await segments.runsStillToSend(req.params.id);
        if (busy.length) {
          throw new ApiError(
            409,
            `segment ${req.params.id} is the target of run(s) ${busy.join(', ')} still to send; cancel them first`,
          );
        }
        if (!(await segments.delete(req.params.id))) throw notFound(`segment ${req.params.id}`);
        return reply.status(204).send(null);
      },
    );
  },
);
