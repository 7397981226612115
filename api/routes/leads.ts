import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { getLead, insertLead, resetEmailValidity, type LeadRow } from '../../db/lead-queries';
import { ApiError, notFound } from '../errors';
import { ErrorBody, FreeJsonObject, IdParams, NullableTimestamp, Nullable, Timestamp, iso } from '../schemas';

const LeadBody = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200, default: '' })),
    email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
    phones: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$' }), Type.String({ maxLength: 32 }), {
        additionalProperties: false,
        description: 'named phone fields, e.g. {"mobile": "090-1234-5678"}',
      }),
    ),
    lineUserId: Type.Optional(Nullable(Type.String({ pattern: '^U[0-9a-f]{32}$' }))),
    smsPermission: Type.Optional(Type.Boolean({ default: true })),
    dmPermission: Type.Optional(Type.Boolean({ default: true })),
    attributes: Type.Optional(FreeJsonObject('free attributes, e.g. for segments')),
  },
  { additionalProperties: false },
);

export const Lead = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    email: Nullable(Type.String()),
    phones: Type.Record(Type.String(), Type.String()),
    lineUserId: Nullable(Type.String()),
    lineFriendStatus: Type.String(),
    emailValid: Type.Boolean(),
    emailErrorCount: Type.Integer(),
    smsPermission: Type.Boolean(),
    dmPermission: Type.Boolean(),
    unsubscribed: Type.Object({ email: NullableTimestamp, sms: NullableTimestamp, line: NullableTimestamp }),
    attributes: Type.Record(Type.String(), Type.Unknown()),
    deletedAt: NullableTimestamp,
    mergedIntoId: Nullable(Type.Integer()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Lead' },
);

export function leadJson(l: LeadRow): Static<typeof Lead> {
  return {
    id: l.id,
    name: l.name,
    email: l.email,
    phones: l.phones ?? {},
    lineUserId: l.line_user_id,
    lineFriendStatus: l.line_friend_status,
    emailValid: l.email_valid,
    emailErrorCount: l.email_error_count,
    smsPermission: l.sms_permission,
    dmPermission: l.dm_permission,
    unsubscribed: {
      email: iso(l.unsubscribed_email_at),
      sms: iso(l.unsubscribed_sms_at),
      line: iso(l.unsubscribed_line_at),
    },
    attributes: l.attributes ?? {},
    deletedAt: iso(l.deleted_at),
    mergedIntoId: l.merged_into_id,
    createdAt: iso(l.created_at)!,
    updatedAt: iso(l.updated_at)!,
  };
}

export const leadRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = app.deps;

  app.post(
    '/v1/leads',
    {
      schema: {
        tags: ['leads'],
        summary: 'Create a lead',
        body: LeadBody,
        response: { 201: Lead, 400: ErrorBody },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const row = await insertLead(pool, {
        name: b.name ?? '',
        email: b.email ? b.email.trim() : null,
        phones: b.phones ?? {},
        lineUserId: b.lineUserId ?? null,
        smsPermission: b.smsPermission ?? true,
        dmPermission: b.dmPermission ?? true,
        attributes: b.attributes ?? {},
      });
      return reply.status(201).send(leadJson(row));
    },
  );

  app.get(
    '/v1/leads/:id',
    {
      schema: {
        tags: ['leads'],
        summary: 'A lead',
        params: IdParams,
        response: { 200: Lead, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const row = await getLead(pool, req.params.id);
      if (!row) throw notFound(`lead ${req.params.id}`);
      return leadJson(row);
    },
  );

  app.post(
    '/v1/leads/:id/email-validity',
    {
      schema: {
        tags: ['leads'],
        summary: 'Set the email validity flag back to valid (the consecutive-error counter restarts from 0)',
        params: IdParams,
        body: Type.Object({ valid: Type.Literal(true) }, { additionalProperties: false }),
        response: { 200: Lead, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      const lead = await getLead(pool, req.params.id);
      if (!lead || lead.deleted_at) throw notFound(`lead ${req.params.id}`);
      if (lead.email_valid)
        throw new ApiError(409, `lead ${lead.id}'s email is already valid; nothing to reset`);
      return leadJson((await resetEmailValidity(pool, lead.id))!);
    },
  );
};
