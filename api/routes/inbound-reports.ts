// GET /v1/inbound-reports and /v1/inbound-reports/{id} (issue 16): what reached
// the bounce mailbox, one entry per recipient of a report, with the reading, the
// decision and its evidence; the single view adds the raw message. Read scope.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { INBOUND_DECISIONS, type InboundReportRow } from '../../db/inbound-report-queries';
import { ApiError, notFound } from '../errors';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { BigIdParams, ErrorBody, iso, Nullable, PageQuery, Timestamp } from '../schemas';

const KINDS = ['dsn', 'arf', 'auto-reply', 'other', 'unparseable', 'truncated'] as const;
const STATUSES = ['pending', 'applied', 'ignored', 'unmatched'] as const;
const literals = (xs: readonly string[]) => Type.Union(xs.map((x) => Type.Literal(x)));

export const InboundReportItem = Type.Object(
  {
    id: Type.String(),
    messageReportId: Nullable(
      Type.String({ description: 'the entry holding the raw message, for the 2nd… recipient of a report' }),
    ),
    position: Type.Integer({ description: 'the recipient\u2019s place in its report, from 0' }),
    receivedAt: Timestamp,
    appliedAt: Nullable(Timestamp),
    kind: Type.String({ description: KINDS.join(' | ') }),
    format: Nullable(Type.String({ description: 'the recogniser that read it, e.g. rfc3464' })),
    status: Type.String({ description: STATUSES.join(' | ') }),
    action: Nullable(Type.String()),
    decision: Type.String({ description: INBOUND_DECISIONS.join(' | ') }),
    recipient: Nullable(Type.String()),
    sendId: Nullable(Type.String()),
    runId: Nullable(Type.Integer()),
    remoteText: Nullable(Type.String()),
    statusCode: Nullable(Type.String({ description: 'enhanced status code read (RFC 3463)' })),
    code: Nullable(Type.Integer({ description: 'qualification code the text means (SPEC 3)' })),
    errorType: Nullable(Type.String()),
    errorReason: Nullable(Type.String()),
    fault: Nullable(Type.String({ description: 'recipient | ours | rate | content' })),
    evidence: Type.Array(Type.String(), { description: 'why: the reading, the rule, the match' }),
    detail: Nullable(Type.String()),
  },
  { $id: 'InboundReportItem' },
);

const InboundReportDetail = Type.Object({
  ...InboundReportItem.properties,
  fingerprint: Type.String({ description: 'sha256 of the raw message' }),
  raw: Nullable(Type.String({ description: 'the message as received' })),
  reading: Type.Unknown({ description: 'the fields the format recogniser read for this recipient' }),
  otherRecipients: Type.Array(Type.Ref(InboundReportItem)),
});

const SearchQuery = Type.Object(
  {
    kind: Type.Optional(Type.Array(literals(KINDS), { maxItems: 6, description: 'any of' })),
    decision: Type.Optional(Type.Array(literals(INBOUND_DECISIONS), { maxItems: 6, description: 'any of' })),
    status: Type.Optional(Type.Array(literals(STATUSES), { maxItems: 4, description: 'any of' })),
    recipient: Type.Optional(Type.String({ minLength: 3, maxLength: 320, description: 'exact address' })),
    runId: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
    sendId: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,17}$' })),
    receivedFrom: Type.Optional(
      Type.String({ format: 'date-time', description: 'received from (inclusive)' }),
    ),
    receivedTo: Type.Optional(Type.String({ format: 'date-time', description: 'received to (inclusive)' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);

function itemJson(r: InboundReportRow): Static<typeof InboundReportItem> {
  return {
    id: String(r.id),
    messageReportId: r.message_report_id === null ? null : String(r.message_report_id),
    position: r.position,
    receivedAt: iso(r.received_at)!,
    appliedAt: iso(r.applied_at),
    kind: r.kind,
    format: r.format,
    status: r.status,
    action: r.action,
    decision: r.decision,
    recipient: r.recipient,
    sendId: r.send_id === null ? null : String(r.send_id),
    runId: r.run_id,
    remoteText: r.remote_text,
    statusCode: r.status_code,
    code: r.code,
    errorType: r.error_type,
    errorReason: r.error_reason,
    fault: r.fault,
    evidence: Array.isArray(r.evidence) ? r.evidence.map(String) : [],
    detail: r.detail,
  };
}

export const inboundReportRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'inbound-report-routes', dependencies: [repository('inboundReports')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { inboundReports } = app;
    app.addSchema(InboundReportItem);

    app.get(
      '/v1/inbound-reports',
      {
        schema: {
          tags: ['inbound'],
          summary:
            'What reached the bounce mailbox, one entry per recipient of a report, newest first; AND across fields, OR within lists; cursor-paged',
          querystring: SearchQuery,
          response: {
            200: Type.Object({
              items: Type.Array(Type.Ref(InboundReportItem)),
              nextCursor: Nullable(Type.String()),
            }),
            400: ErrorBody,
            503: ErrorBody,
          },
        },
      },
      async (req) => {
        const q = req.query;
        const time = (v: string | undefined, field: string) => {
          if (v === undefined) return undefined;
          const d = new Date(v);
          if (Number.isNaN(d.getTime())) throw new ApiError(400, `${field}: not a date-time`, field);
          return d;
        };
        const limit = q.limit ?? 100;
        const page = await inboundReports.search({
          kind: q.kind,
          decision: q.decision,
          status: q.status,
          recipient: q.recipient,
          runId: q.runId,
          sendId: q.sendId,
          receivedFrom: time(q.receivedFrom, 'receivedFrom'),
          receivedTo: time(q.receivedTo, 'receivedTo'),
          beforeId: q.cursor,
          limit,
        });
        const items = page.rows.map(itemJson);
        return { items, nextCursor: page.more ? (items[items.length - 1]?.id ?? null) : null };
      },
    );

    app.get(
      '/v1/inbound-reports/:id',
      {
        schema: {
          tags: ['inbound'],
          summary: 'One stored report entry: the raw message, the fields read, the decision and its evidence',
          params: BigIdParams,
          response: { 200: InboundReportDetail, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
        },
      },
      async (req) => {
        const r = await inboundReports.get(req.params.id);
        if (r === null) throw notFound(`inbound report ${req.params.id}`);
        return {
          ...itemJson(r),
          fingerprint: r.fingerprint,
          raw: r.raw,
          reading: r.reading ?? null,
          otherRecipients: r.siblings.map(itemJson),
        };
      },
    );
  },
);
