// 利用状況: messages sent per channel per day or month, counted from the sends
// in the database (not process counters), days and months of the account's
// time zone (ACCOUNT_TIME_ZONE). An SMS counts its parts after splitting, as
// the manual's 送信通数 does; a send retried in waves counts once.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CHANNELS } from '../../domain/channels';
import { isoInZone } from '../../domain/i18n/time';
import { badRequest } from '../errors';
import { requestLabels } from '../i18n';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { ErrorBody } from '../schemas';

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;
const MAX_PERIODS = { day: 400, month: 120 } as const;

/** A local date 'YYYY-MM-DD' (or month 'YYYY-MM', its first day) that exists, else null. */
function localDate(v: string): { y: number; m: number; d: number } | null {
  const md = DAY.exec(v) ?? MONTH.exec(v);
  if (!md) return null;
  const y = Number(md[1]);
  const m = Number(md[2]);
  const d = md[3] === undefined ? 1 : Number(md[3]);
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || y > 9999 || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return { y, m, d };
}

const ChannelUsage = Type.Object({
  channel: Type.String(),
  label: Type.String({ description: 'the channel in the language of Accept-Language' }),
  messages: Type.Integer({ description: 'messages sent; an SMS counts its parts after splitting' }),
  sends: Type.Integer({ description: 'individual sends (leads) sent to' }),
});

const Period = Type.Object({
  period: Type.String({ description: 'YYYY-MM-DD or YYYY-MM in the account time zone' }),
  start: Type.String({ description: 'first instant of the period, ISO 8601 with the account zone offset' }),
  channels: Type.Array(ChannelUsage),
  messages: Type.Integer({ description: 'all channels' }),
});

export const usageRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'usage-routes', dependencies: [repository('history')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { history } = app;

    app.get(
      '/v1/usage',
      {
        schema: {
          tags: ['usage'],
          summary:
            '利用状況: messages sent per channel per day or month (SMS in parts), in the account time zone',
          description:
            'Counted from the sends by the time each was first sent (pre-errors are not sent; a send retried counts once). ' +
            'Every period from `from` to `to` is listed, every channel in each, zeros included.',
          querystring: Type.Object(
            {
              from: Type.String({
                pattern: '^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$',
                description: 'first day (YYYY-MM-DD) or month (YYYY-MM), account time zone',
              }),
              to: Type.String({
                pattern: '^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$',
                description: 'last day or month, inclusive',
              }),
              granularity: Type.Optional(
                Type.Union([Type.Literal('day'), Type.Literal('month')], { default: 'day' }),
              ),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              timeZone: Type.String(),
              granularity: Type.String(),
              periods: Type.Array(Period),
              totals: Type.Array(ChannelUsage),
            }),
            400: ErrorBody,
            503: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        const granularity = req.query.granularity ?? 'day';
        const from = localDate(req.query.from);
        const to = localDate(req.query.to);
        if (!from) throw badRequest('querystring.from', `"${req.query.from}" is not a date`);
        if (!to) throw badRequest('querystring.to', `"${req.query.to}" is not a date`);
        const months = (to.y - from.y) * 12 + (to.m - from.m);
        const days = (Date.UTC(to.y, to.m - 1, to.d) - Date.UTC(from.y, from.m - 1, from.d)) / 86_400_000;
        const periods = granularity === 'day' ? days : months;
        if (periods < 0) throw badRequest('querystring.to', '`to` is before `from`');
        if (periods + 1 > MAX_PERIODS[granularity])
          throw badRequest('querystring.to', `at most ${MAX_PERIODS[granularity]} ${granularity}s at once`);
        const t = requestLabels(req, reply);
        const zone = app.deps.config.accountTimeZone;
        const pad = (n: number) => String(n).padStart(2, '0');
        const rows = await history.usage({
          from: `${from.y}-${pad(from.m)}-${pad(from.d)}`,
          to: `${to.y}-${pad(to.m)}-${pad(to.d)}`,
          granularity,
          timeZone: zone,
        });
        const byPeriod = new Map<
          string,
          { start: Date; counts: Map<string, { messages: number; sends: number }> }
        >();
        for (const r of rows) {
          const p = byPeriod.get(r.period) ?? { start: r.period_start, counts: new Map() };
          if (r.channel) p.counts.set(r.channel, { messages: r.messages, sends: r.sends });
          byPeriod.set(r.period, p);
        }
        const totals = new Map<string, { messages: number; sends: number }>(
          CHANNELS.map((c) => [c, { messages: 0, sends: 0 }]),
        );
        const out = [...byPeriod.entries()].map(([period, p]) => {
          const channels = CHANNELS.map((c) => {
            const n = p.counts.get(c) ?? { messages: 0, sends: 0 };
            const total = totals.get(c)!;
            total.messages += n.messages;
            total.sends += n.sends;
            return { channel: c, label: t.channel(c) ?? c, ...n };
          });
          return {
            period,
            start: isoInZone(p.start, zone),
            channels,
            messages: channels.reduce((a, c) => a + c.messages, 0),
          };
        });
        return {
          timeZone: zone,
          granularity,
          periods: out,
          totals: CHANNELS.map((c) => ({ channel: c, label: t.channel(c) ?? c, ...totals.get(c)! })),
        };
      },
    );
  },
);
