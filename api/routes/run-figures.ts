// A run's figures (SPEC §8) and the lists behind them. Figures come from the
// one computation every endpoint uses (channels/run-figures → domain/figures
// runFigures), twice: from the run's counters with every click and open, and
// with the opens and clicks counted from the records without those marked as
// machine ones.
// Lists join live leads; a lead deleted or merged away after the send still
// counts but leaves the list, and `leftLeads` says how many did.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ratePercent, urlStars } from '../../domain/figures';
import type { LinkClickCounts } from '../../db/tracking-queries';
import { figuresOfRun } from '../../channels/run-figures';
import { RunFigureValues } from './wizard-runs';
import { notFound } from '../errors';
import { Complaints, NO_COMPLAINTS, complaintsJson } from './sending-domains';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { ErrorBody, IdParams, Nullable, PageQuery, Timestamp, iso } from '../schemas';

const Rate = Nullable(
  Type.Number({
    description: 'percent, rounded half-up to 2 decimals; null when there is nothing to divide by',
  }),
);

const Figures = RunFigureValues;

const LinkFigures = Type.Object({
  clickers: Type.Integer(),
  clicks: Type.Integer(),
  clickRate: Rate,
  stars: Type.Integer({
    minimum: 0,
    maximum: 5,
    description: '5 at ≥5% click rate, 4 at ≥3%, 3 at ≥1%, 2 at ≥0.5%, 1 at ≥0.1%',
  }),
});

const HUMAN_ONLY = 'without clicks and opens marked as machine ones (scanners, bots)';

const RunFiguresBody = Type.Object(
  {
    runId: Type.Integer(),
    status: Type.String(),
    opens: Type.Object({
      measurable: Type.Boolean(),
      reason: Nullable(Type.String({ description: 'why opens are not measurable' })),
    }),
    figures: Type.Object({
      all: Figures,
      humanOnly: Type.Object(Figures.properties, { description: HUMAN_ONLY }),
    }),
    suspectedMachineClicks: Type.Integer(),
    complaints: Nullable(
      Type.Object(Complaints.properties, {
        description:
          "the run's complaints (ARF) as a share of its delivered messages over the last 7 and 30 days; null for SMS and LINE",
      }),
    ),
    resent: Type.Integer({
      description:
        'messages sent again because their batch was interrupted before their outcome was recorded (possible duplicates, same Message-ID; README: what can be sent twice)',
    }),
    parts: Type.Array(
      Type.Object({
        part: Type.String({ description: 'text | html' }),
        all: LinkFigures,
        humanOnly: LinkFigures,
      }),
      { description: 'clicks per body part' },
    ),
    urls: Type.Array(
      Type.Object({ url: Type.String(), part: Type.String(), all: LinkFigures, humanOnly: LinkFigures }),
      { description: 'clicks per URL and body part, in order of appearance' },
    ),
    moreUrls: Type.Boolean({ description: 'true when more URLs were tracked than listed' }),
  },
  { $id: 'RunFigures' },
);

const Responder = Type.Object({
  leadId: Type.Integer(),
  name: Type.String(),
  address: Type.String({ description: 'the address the message went to' }),
  sendId: Type.String(),
  firstAt: Timestamp,
  lastAt: Timestamp,
  count: Type.Integer({ description: 'opens or clicks recorded' }),
  humanCount: Type.Integer({ description: 'the same, without those marked as machine ones' }),
});

const ResponderList = Type.Object({
  items: Type.Array(Responder),
  nextCursor: Nullable(Type.String()),
  counted: Nullable(
    Type.Integer({ description: 'leads the figures count; null unless counted (see `counts`)' }),
  ),
  leftLeads: Nullable(
    Type.Integer({
      description:
        'counted leads no longer listed: deleted or merged into another lead; null unless counted (see `counts`)',
    }),
  ),
});

/** Issue 18: a page costs what it holds; counting the whole list is a separate pass, on the first page or on request. */
export const ListCountsQuery = Type.Optional(
  Type.Boolean({
    description:
      'count the whole list (`counted`, `leftLeads`): a pass over all of it. Default: true on the first page (no cursor), ' +
      'false on the pages after it, which answer null and cost only the page',
  }),
);

const ResponderQuery = Type.Object(
  {
    ...PageQuery,
    humanOnly: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'leave out leads whose every event is marked as a machine one',
      }),
    ),
    counts: ListCountsQuery,
  },
  { additionalProperties: false },
);

const MAX_URLS = 1000;

function linkFigures(clickers: number, clicks: number, delivered: number): Static<typeof LinkFigures> {
  const clickRate = ratePercent(clickers, delivered);
  return { clickers, clicks, clickRate, stars: urlStars(clickRate) };
}

function withAndWithout(c: LinkClickCounts, delivered: number) {
  return {
    all: linkFigures(c.clickers, c.clicks, delivered),
    humanOnly: linkFigures(c.humanClickers, c.humanClicks, delivered),
  };
}

export const runFigureRoutes: FastifyPluginAsync = routesPlugin(
  {
    name: 'run-figure-routes',
    dependencies: [
      repository('wizardRuns'),
      repository('templates'),
      repository('tracking'),
      repository('sends'),
      repository('sendingDomains'),
    ],
  },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { wizardRuns, templates, tracking, sends, sendingDomains } = app;

    app.get(
      '/v1/wizard-runs/:id/figures',
      {
        schema: {
          tags: ['wizard runs'],
          summary:
            'Delivery, open, click and unsubscribe figures, with and without machine clicks; per body part and per URL',
          params: IdParams,
          response: { 200: RunFiguresBody, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
        },
      },
      async (req) => {
        const run = await wizardRuns.get(req.params.id);
        if (!run) throw notFound(`wizard run ${req.params.id}`);
        // The template now only judges runs stored without a snapshot of it.
        const template = run.template_snapshot ? null : await templates.get(run.template_id);
        const [c, links, resent, complaints] = await Promise.all([
          tracking.runCounts(run.id),
          tracking.runLinkClicks(run.id, MAX_URLS),
          sends.resentCount(run.id),
          run.channel === 'email' ? sendingDomains.complaints('run', [run.id]) : null,
        ]);
        const all = figuresOfRun(run, {}, template);
        const humanOnly = figuresOfRun(
          run,
          { openers: c.humanOpeners, clickers: c.humanClickers, totalClicks: c.humanClicks },
          template,
        );
        const measurable = all.opensMeasurable;
        const reason = all.opensNotMeasurableReason;
        // Per-URL rates are over the base the run's click rate uses.
        const rateBase = all.deliveryMeasurable ? all.delivered : all.sentMessages;
        return {
          runId: run.id,
          status: run.status,
          opens: { measurable, reason },
          figures: { all, humanOnly },
          suspectedMachineClicks: c.suspectedClicks,
          complaints: complaints && complaintsJson(complaints.get(String(run.id)) ?? NO_COMPLAINTS),
          resent,
          parts: links.parts.map((p) => ({ part: p.part, ...withAndWithout(p, rateBase) })),
          urls: links.urls.map((u) => ({
            url: u.url ?? '',
            part: u.part,
            ...withAndWithout(u, rateBase),
          })),
          moreUrls: links.moreUrls,
        };
      },
    );

    for (const [path, kind, what] of [
      ['openers', 'open', 'Leads who opened the mail'],
      ['clickers', 'click', 'Leads who clicked a counted link'],
    ] as const) {
      app.get(
        `/v1/wizard-runs/:id/${path}`,
        {
          schema: {
            tags: ['wizard runs'],
            summary: `${what}: live leads only, with how many counted leads have left the list`,
            params: IdParams,
            querystring: ResponderQuery,
            response: { 200: ResponderList, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
          },
        },
        async (req) => {
          if (!(await wizardRuns.get(req.params.id))) throw notFound(`wizard run ${req.params.id}`);
          const limit = req.query.limit ?? 100;
          const page = await tracking.runResponders(req.params.id, kind, {
            humanOnly: req.query.humanOnly ?? false,
            afterLeadId: req.query.cursor ? Math.min(Number(req.query.cursor), 2147483647) : null,
            limit,
            counts: req.query.counts ?? req.query.cursor === undefined,
          });
          return {
            items: page.items.map((r) => ({
              leadId: r.lead_id,
              name: r.name,
              address: r.address,
              sendId: String(r.send_id),
              firstAt: iso(r.first_at)!,
              lastAt: iso(r.last_at)!,
              count: r.events,
              humanCount: r.human_events,
            })),
            nextCursor: page.nextCursor === null ? null : String(page.nextCursor),
            counted: page.counted,
            leftLeads: page.leftLeads,
          };
        },
      );
    }
  },
);
