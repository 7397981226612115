import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { compileSegmentFilter, FilterError } from '../../domain/segment-filter';
import { badRequest, notFound } from '../errors';
import { Channel, ErrorBody, IdParams, Timestamp, iso } from '../schemas';

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

export interface SegmentRow {
  id: number;
  name: string;
  channel: string;
  filter: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

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

export const segmentRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = app.deps;

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
      const res = await pool.query<SegmentRow>(
        'INSERT INTO segment (name, channel, filter) VALUES ($1, $2, $3) RETURNING *',
        [req.body.name, req.body.channel, JSON.stringify(req.body.filter)],
      );
      return reply.status(201).send(segmentJson(res.rows[0]!));
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
      const res = await pool.query<SegmentRow>('SELECT * FROM segment WHERE id = $1', [req.params.id]);
      if (!res.rows[0]) throw notFound(`segment ${req.params.id}`);
      return segmentJson(res.rows[0]);
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
      const seg = await pool.query<SegmentRow>('SELECT * FROM segment WHERE id = $1', [req.params.id]);
      if (!seg.rows[0]) throw notFound(`segment ${req.params.id}`);
      const compiled = compileSegmentFilter(seg.rows[0].filter);
      const res = await pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM lead l WHERE l.deleted_at IS NULL AND l.merged_into_id IS NULL AND (${compiled.sql})`,
        compiled.params,
      );
      return { count: res.rows[0]?.count ?? 0 };
    },
  );
};
