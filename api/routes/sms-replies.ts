// GET /v1/sms-replies (issue 21 §7): what handsets answered to our SMS, newest first,
// for operators. kind=opt_out are the replies that unsubscribed the number's leads from
// SMS runs (keywords: SMS_OPT_OUT_KEYWORDS); kind=reply are the others, kept to be read.
// Recorded by inbound/sms-replies.ts. Read scope.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { listSmsReplies, type SmsReplyRecord } from '../../db/sms-reply-queries';
import { ErrorBody, Nullable, PageQuery, Timestamp } from '../schemas';

export const SmsReplyItem = Type.Object(
  {
    id: Type.String(),
    handset: Type.String({ description: 'the replying number, international digits' }),
    recipient: Type.String({ description: 'our number or sender id it answered' }),
    text: Type.String(),
    dataCoding: Type.Integer({ description: '0 GSM 03.38, 8 UCS-2' }),
    kind: Type.String({ description: 'opt_out | reply' }),
    keyword: Type.String({ description: 'the opt-out keyword that matched; empty for a reply' }),
    leadIds: Type.Array(Type.Integer(), {
      description: 'leads with this number when it arrived (an opt-out unsubscribed them from SMS)',
    }),
    receivedAt: Timestamp,
  },
  { $id: 'SmsReply', additionalProperties: false },
);

const Query = Type.Object(
  {
    kind: Type.Optional(Type.Union([Type.Literal('opt_out'), Type.Literal('reply')])),
    leadId: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
    handset: Type.Optional(Type.String({ pattern: '^[0-9]{1,20}$' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);

const itemJson = (r: SmsReplyRecord) => ({
  id: r.id,
  handset: r.handset,
  recipient: r.recipient,
  text: r.text,
  dataCoding: r.dataCoding,
  kind: r.kind,
  keyword: r.keyword,
  leadIds: r.leadIds,
  receivedAt: r.receivedAt.toISOString(),
});

export const smsReplyRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = app.deps;
  app.addSchema(SmsReplyItem);

  app.get(
    '/v1/sms-replies',
    {
      schema: {
        tags: ['inbound'],
        summary: 'Replies to SMS, newest first: opt-outs by keyword and the other replies; cursor-paged',
        querystring: Query,
        response: {
          200: Type.Object({
            items: Type.Array(Type.Ref(SmsReplyItem)),
            nextCursor: Nullable(Type.String()),
          }),
          400: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const limit = q.limit ?? 100;
      const rows = await listSmsReplies(pool, {
        kind: q.kind,
        leadId: q.leadId,
        handset: q.handset,
        beforeId: q.cursor,
        limit: limit + 1,
      });
      const items = rows.slice(0, limit).map(itemJson);
      return { items, nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null };
    },
  );
};
