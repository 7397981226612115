// A lead's access log (ユーザアクセスログ): every click, open and unsubscribe of
// the lead's sends with its time, URL, body part, IP, user agent and the
// machine-click mark with its reasons (domain/bot-clicks), newest first.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { isoInZone } from '../../domain/i18n/time';
import { notFound } from '../errors';
import { requestLabels } from '../i18n';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { ErrorBody, IdParams, Nullable, PageQuery, Timestamp, iso } from '../schemas';

const KINDS = ['click', 'open', 'unsubscribe'] as const;
const Kind = Type.Union([Type.Literal('click'), Type.Literal('open'), Type.Literal('unsubscribe')]);

const AccessLogEntry = Type.Object({
  id: Type.String(),
  kind: Kind,
  at: Timestamp,
  atLocal: Type.String({ description: 'the same instant, ISO 8601 with the offset of ACCOUNT_TIME_ZONE' }),
  sendId: Type.String(),
  runId: Nullable(Type.Integer({ description: 'null for a single send' })),
  channel: Type.String(),
  templateTitle: Type.String(),
  url: Nullable(Type.String({ description: 'the clicked URL; null for opens and unsubscribes' })),
  part: Nullable(Type.String({ description: 'body part of the clicked URL: text, html, sms, line' })),
  partLabel: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  machine: Type.Boolean({ description: 'marked as a machine click or open (scanner, bot)' }),
  machineReasons: Type.Array(
    Type.Object({
      reason: Type.String({
        description:
          'scanner_user_agent | too_soon_after_delivery | same_url_repeated | burst_of_urls (2 or more distinct URLs within one second) | nearly_all_urls',
      }),
      label: Type.String({ description: 'the reason in the language of Accept-Language' }),
    }),
  ),
});

export const accessLogRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'access-log-routes', dependencies: [repository('leads'), repository('history')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { leads, history } = app;

    app.get(
      '/v1/leads/:id/access-log',
      {
        schema: {
          tags: ['leads'],
          summary:
            "A lead's access log: every click and open (and unsubscribe) with time, URL, part, IP, user agent and machine-click mark",
          params: IdParams,
          querystring: Type.Object(
            {
              kind: Type.Optional(
                Type.Array(Kind, { maxItems: 3, description: 'repeat for several; default click and open' }),
              ),
              runId: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
              ...PageQuery,
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ items: Type.Array(AccessLogEntry), nextCursor: Nullable(Type.String()) }),
            400: ErrorBody,
            404: ErrorBody,
            503: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        if (!(await leads.get(req.params.id))) throw notFound(`lead ${req.params.id}`);
        const t = requestLabels(req, reply);
        const zone = app.deps.config.accountTimeZone;
        const kinds = req.query.kind ?? KINDS.filter((k) => k !== 'unsubscribe');
        const page = await history.accessLog(req.params.id, {
          kinds,
          runId: req.query.runId ?? null,
          beforeId: req.query.cursor ?? null,
          limit: req.query.limit ?? 100,
        });
        return {
          items: page.items.map((e) => ({
            id: String(e.id),
            kind: e.kind as (typeof KINDS)[number],
            at: iso(e.at)!,
            atLocal: isoInZone(e.at, zone),
            sendId: String(e.send_id),
            runId: e.run_id,
            channel: e.channel,
            templateTitle: e.template_title,
            url: e.url,
            part: e.part,
            partLabel: t.part(e.part),
            ip: e.ip,
            userAgent: e.user_agent,
            machine: e.suspected_bot,
            machineReasons: (e.bot_reasons ?? []).map((reason) => ({ reason, label: t.botReason(reason) })),
          })),
          nextCursor: page.nextCursor,
        };
      },
    );
  },
);
