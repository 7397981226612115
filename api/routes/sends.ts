// Individual sends: one delivery to one lead, with every attempt.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { notFound } from '../errors';
import {
  BigIdParams,
  Channel,
  ErrorBody,
  IdParams,
  Nullable,
  NullableTimestamp,
  PageQuery,
  Timestamp,
  iso,
} from '../schemas';

const Attempt = Type.Object({
  attempt: Type.Integer(),
  at: Timestamp,
  result: Type.String(),
  code: Nullable(Type.Integer()),
  detail: Nullable(Type.String()),
  errorType: Nullable(Type.String()),
  errorReason: Nullable(Type.String()),
  messageId: Nullable(Type.String()),
});

export const SendDetail = Type.Object(
  {
    id: Type.String(),
    runId: Nullable(Type.Integer()),
    channel: Type.String(),
    leadId: Type.Integer(),
    address: Type.String(),
    templateId: Nullable(Type.Integer()),
    templateTitle: Type.String(),
    body: Nullable(Type.String()),
    messageId: Nullable(Type.String()),
    result: Type.String(),
    code: Nullable(Type.Integer()),
    detail: Nullable(Type.String()),
    errorType: Nullable(Type.String()),
    errorReason: Nullable(Type.String()),
    attempts: Type.Integer(),
    nextAttemptAt: NullableTimestamp,
    smsSegments: Nullable(Type.Integer()),
    clickCount: Type.Integer(),
    openedAt: NullableTimestamp,
    lineAccountName: Nullable(Type.String()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    sentAt: NullableTimestamp,
    deliveredAt: NullableTimestamp,
    attemptHistory: Type.Optional(Type.Array(Attempt)),
  },
  { $id: 'SendDetail' },
);

export function sendJson(s: any) {
  return {
    id: String(s.id),
    runId: s.run_id,
    channel: s.channel,
    leadId: s.lead_id,
    address: s.address,
    templateId: s.template_id,
    templateTitle: s.template_title,
    body: s.body,
    messageId: s.message_id,
    result: s.result,
    code: s.code,
    detail: s.detail,
    errorType: s.error_type,
    errorReason: s.error_reason,
    attempts: s.attempts,
    nextAttemptAt: iso(s.next_attempt_at),
    smsSegments: s.sms_segments,
    clickCount: s.click_count,
    openedAt: iso(s.opened_at),
    lineAccountName: s.line_account_name,
    createdAt: iso(s.created_at)!,
    updatedAt: iso(s.updated_at)!,
    sentAt: iso(s.sent_at),
    deliveredAt: iso(s.delivered_at),
  };
}

export const sendRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = app.deps;

  app.get(
    '/v1/sends/:id',
    {
      schema: {
        tags: ['sends'],
        summary: 'One individual send with every attempt',
        params: BigIdParams,
        response: { 200: SendDetail, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const res = await pool.query('SELECT * FROM send WHERE id = $1', [req.params.id]);
      if (!res.rows[0]) throw notFound(`send ${req.params.id}`);
      const attempts = await pool.query('SELECT * FROM send_attempt WHERE send_id = $1 ORDER BY attempt', [
        req.params.id,
      ]);
      return {
        ...sendJson(res.rows[0]),
        attemptHistory: attempts.rows.map((a) => ({
          attempt: a.attempt,
          at: iso(a.at)!,
          result: a.result,
          code: a.code,
          detail: a.detail,
          errorType: a.error_type,
          errorReason: a.error_reason,
          messageId: a.message_id,
        })),
      };
    },
  );

  app.get(
    '/v1/leads/:id/sends',
    {
      schema: {
        tags: ['sends'],
        summary: "A lead's whole send history across channels, newest first",
        params: IdParams,
        querystring: Type.Object(
          { channel: Type.Optional(Channel), ...PageQuery },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(SendDetail), nextCursor: Nullable(Type.String()) }),
          400: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (req) => {
      const lead = await pool.query('SELECT 1 FROM lead WHERE id = $1', [req.params.id]);
      if (lead.rowCount === 0) throw notFound(`lead ${req.params.id}`);
      const limit = req.query.limit ?? 100;
      const res = await pool.query(
        `SELECT * FROM send WHERE lead_id = $1 AND ($2::text IS NULL OR channel = $2) AND ($3::bigint IS NULL OR id < $3)
          ORDER BY id DESC LIMIT $4`,
        [req.params.id, req.query.channel ?? null, req.query.cursor ?? null, limit + 1],
      );
      const items = res.rows.slice(0, limit).map(sendJson);
      const last = items[items.length - 1];
      return { items, nextCursor: res.rows.length > limit && last ? last.id : null };
    },
  );

  app.get(
    '/v1/address-statuses',
    {
      schema: {
        tags: ['sends'],
        summary: 'Status of an address (valid, erroneous, quarantined, blocklisted, allowlisted)',
        querystring: Type.Object(
          { channel: Channel, address: Type.String({ minLength: 1, maxLength: 254 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            channel: Type.String(),
            address: Type.String(),
            status: Type.String(),
            errorType: Nullable(Type.String()),
            reason: Nullable(Type.String()),
            errorCount: Type.Integer(),
            firstErrorAt: NullableTimestamp,
            lastErrorAt: NullableTimestamp,
            source: Type.String(),
          }),
          400: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (req) => {
      const res = await pool.query(
        'SELECT * FROM address_status WHERE channel = $1 AND address = lower($2)',
        [req.query.channel, req.query.address],
      );
      const a = res.rows[0];
      if (!a) throw notFound(`no status recorded for ${req.query.channel} address ${req.query.address}`);
      return {
        channel: a.channel,
        address: a.address,
        status: a.status,
        errorType: a.error_type,
        reason: a.reason,
        errorCount: a.error_count,
        firstErrorAt: iso(a.first_error_at),
        lastErrorAt: iso(a.last_error_at),
        source: a.source,
      };
    },
  );
};
