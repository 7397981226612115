// Individual sends: one delivery to one lead, with every attempt.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max';
import { normalizeAddress } from '../../domain/address-status';
import { notFound } from '../errors';
import { requestLabels, sendLabels, SendLabels } from '../i18n';
import type { Labels } from '../../domain/i18n';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
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
  resendReason: Nullable(
    Type.String({
      description:
        'set when this attempt repeated a message that may have gone out before its batch was interrupted (README: what can be sent twice)',
    }),
  ),
  originalMessageId: Nullable(Type.String({ description: 'the Message-ID this resend repeated' })),
});

/**
 * Reason 25 (ignored error, 無視されたエラー): the send went to an allowlisted
 * address that its error state would otherwise have held back.
 */
export const IgnoredError = Nullable(
  Type.Object(
    {
      reason: Type.Literal('ignored_error'),
      technicalValue: Type.Literal(25),
      errorType: Type.Literal('ignored'),
    },
    {
      description:
        "set when the address is allowlisted and was sent to despite its error state (the lead's validity flag off, or errors that would quarantine it): reason 25, ignored error; null otherwise",
    },
  ),
);

/** A send's reason-25 mark as the API shows it. */
export function ignoredErrorJson(ignored: unknown) {
  return ignored === true
    ? { reason: 'ignored_error' as const, technicalValue: 25 as const, errorType: 'ignored' as const }
    : null;
}

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
    ignoredError: IgnoredError,
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
    labels: Type.Optional(SendLabels),
  },
  { $id: 'SendDetail' },
);

/** A send as the API shows it; with `t`, its codes' labels in that language too. */
export function sendJson(s: any, t?: Labels) {
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
    ignoredError: ignoredErrorJson(s.ignored_error),
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
    ...(t ? { labels: sendLabels(s, t) } : {}),
  };
}

export const sendRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'send-routes', dependencies: [repository('sends'), repository('leads')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { sends, leads } = app;

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
      async (req, reply) => {
        const send = await sends.get(req.params.id);
        if (!send) throw notFound(`send ${req.params.id}`);
        const attempts = await sends.attempts(req.params.id);
        return {
          ...sendJson(send, requestLabels(req, reply)),
          attemptHistory: attempts.map((a) => ({
            attempt: a.attempt,
            at: iso(a.at)!,
            result: a.result,
            code: a.code,
            detail: a.detail,
            errorType: a.error_type,
            errorReason: a.error_reason,
            messageId: a.message_id,
            resendReason: a.resend_reason,
            originalMessageId: a.original_message_id,
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
      async (req, reply) => {
        if (!(await leads.exists(req.params.id))) throw notFound(`lead ${req.params.id}`);
        const t = requestLabels(req, reply);
        const limit = req.query.limit ?? 100;
        const rows = await sends.ofLead(req.params.id, {
          channel: req.query.channel,
          cursor: req.query.cursor,
          limit,
        });
        const items = rows.slice(0, limit).map((r) => sendJson(r, t));
        const last = items[items.length - 1];
        return { items, nextCursor: rows.length > limit && last ? last.id : null };
      },
    );

    app.get(
      '/v1/address-statuses',
      {
        schema: {
          tags: ['sends'],
          summary:
            'Status of an address (valid, erroneous, quarantined, blocklisted, allowlisted); a phone number in any spelling',
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
        // A phone number is stored as its international digits: "090-1234-5678" finds 819012345678.
        const n =
          req.query.channel === 'sms'
            ? normalizeAddress(
                'sms',
                req.query.address,
                getCountryCallingCode(app.deps.config.smsDefaultRegion as CountryCode),
              )
            : null;
        const address = n && 'address' in n ? n.address : req.query.address;
        const a = await sends.addressStatus(req.query.channel, address);
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
  },
);
