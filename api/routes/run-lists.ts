// A run's lists beside those of wizard-runs.ts (sent, unsent) and
// run-figures.ts (openers, clickers): 未開封者 (delivered − openers), the
// leads who clicked one URL (the list behind a per-URL count), and every list
// as a CSV file streamed from a database cursor. Lists join live leads; a
// lead deleted or merged away still counts in `counted` and in `leftLeads`.
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { RUN_LISTS, type ListRow, type RunList } from '../../db/list-export-queries';
import { csvContentType, csvLine, encodeCsv, EXPORT_CHARSETS } from '../../domain/csv-export';
import type { Labels } from '../../domain/i18n';
import { badRequest, notFound } from '../errors';
import { requestLabels } from '../i18n';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { ErrorBody, IdParams, Nullable, PageQuery, Timestamp, iso } from '../schemas';
import { ListCountsQuery } from './run-figures';

const HumanOnly = Type.Optional(
  Type.Boolean({
    default: false,
    description:
      'without clicks and opens marked as machine ones: a lead whose every event is one leaves the openers and clickers, and a send whose every open is one counts as unopened',
  }),
);

const LeadCursorPage = {
  limit: PageQuery.limit,
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,10}$', description: 'lead id to continue after' })),
  counts: ListCountsQuery,
};

const ListCounts = {
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
};

const UnopenedEntry = Type.Object({
  leadId: Type.Integer(),
  name: Type.String(),
  address: Type.String({ description: 'the address the message went to' }),
  sendId: Type.String(),
  deliveredAt: Nullable(Timestamp),
});

const UrlClicker = Type.Object({
  leadId: Type.Integer(),
  name: Type.String(),
  address: Type.String(),
  sendId: Type.String(),
  firstAt: Timestamp,
  lastAt: Timestamp,
  count: Type.Integer({ description: 'clicks on this URL' }),
  humanCount: Type.Integer({ description: 'the same, without those marked as machine ones' }),
});

const Part = Type.String({
  minLength: 1,
  maxLength: 20,
  description: 'the body part of the URL, as `parts` and `urls` of /figures name it (text, html, sms, line)',
});
const Url = Type.String({
  minLength: 1,
  maxLength: 8000,
  description: 'the original URL, as `urls[].url` of /figures',
});

const afterLead = (cursor: string | undefined) => (cursor ? Math.min(Number(cursor), 2147483647) : null);

/** Header and cells of each exported list; labels in the reader's language beside the codes. */
const COLUMNS: Record<RunList, { header: string[]; cells: (r: ListRow, t: Labels) => string[] }> = {
  sent: {
    header: [
      'lead_id',
      'name',
      'address',
      'send_id',
      'result',
      'result_label',
      'code',
      'code_meaning',
      'detail',
      'detail_label',
      'error_type',
      'error_reason',
      'error_reason_label',
      'sent_at',
      'delivered_at',
      'opened_at',
      'click_count',
      'sms_parts',
      'lead_deleted',
    ],
    cells: (r, t) => [
      String(r.lead_id),
      r.name,
      r.address ?? '',
      r.send_id ?? '',
      r.result ?? '',
      t.result(r.result) ?? '',
      r.code === null || r.code === undefined ? '' : String(r.code),
      t.codeMeaning(r.code) ?? '',
      r.detail ?? '',
      t.detail(r.detail) ?? '',
      r.error_type ?? '',
      r.error_reason ?? '',
      t.errorReason(r.error_reason) ?? '',
      iso(r.sent_at) ?? '',
      iso(r.delivered_at) ?? '',
      iso(r.opened_at) ?? '',
      String(r.click_count ?? 0),
      r.sms_segments === null || r.sms_segments === undefined ? '' : String(r.sms_segments),
      String(r.lead_deleted ?? false),
    ],
  },
  unsent: {
    header: ['lead_id', 'name', 'address', 'reason', 'reason_label'],
    cells: (r, t) => [
      String(r.lead_id),
      r.name,
      r.address ?? '',
      r.reason ?? '',
      t.unsentReason(r.reason) ?? '',
    ],
  },
  unopened: {
    header: ['lead_id', 'name', 'address', 'send_id', 'delivered_at'],
    cells: (r) => [String(r.lead_id), r.name, r.address ?? '', r.send_id ?? '', iso(r.delivered_at) ?? ''],
  },
  openers: responderColumns(),
  clickers: responderColumns(),
  'url-clickers': responderColumns(),
};

function responderColumns() {
  return {
    header: ['lead_id', 'name', 'address', 'send_id', 'first_at', 'last_at', 'count', 'human_count'],
    cells: (r: ListRow) => [
      String(r.lead_id),
      r.name,
      r.address ?? '',
      r.send_id ?? '',
      iso(r.first_at) ?? '',
      iso(r.last_at) ?? '',
      String(r.events ?? 0),
      String(r.human_events ?? 0),
    ],
  };
}

export const runListRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'run-list-routes', dependencies: [repository('wizardRuns'), repository('history')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { wizardRuns, history } = app;

    async function mustExist(id: number) {
      if (!(await wizardRuns.get(id))) throw notFound(`wizard run ${id}`);
    }

    app.get(
      '/v1/wizard-runs/:id/unopened',
      {
        schema: {
          tags: ['wizard runs'],
          summary:
            '未開封者: leads the message reached who have not opened it (delivered − openers), live leads only',
          description:
            'The figures count the same sends: `counted` equals `figures.all.unopened` of /figures (with humanOnly, `figures.humanOnly.unopened`).',
          params: IdParams,
          querystring: Type.Object(
            { ...LeadCursorPage, humanOnly: HumanOnly },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ items: Type.Array(UnopenedEntry), ...ListCounts }),
            400: ErrorBody,
            404: ErrorBody,
            503: ErrorBody,
          },
        },
      },
      async (req) => {
        await mustExist(req.params.id);
        const page = await history.unopened(req.params.id, {
          humanOnly: req.query.humanOnly ?? false,
          afterLeadId: afterLead(req.query.cursor),
          limit: req.query.limit ?? 100,
          counts: req.query.counts ?? req.query.cursor === undefined,
        });
        return {
          items: page.items.map((r) => ({
            leadId: r.lead_id,
            name: r.name,
            address: r.address,
            sendId: String(r.send_id),
            deliveredAt: iso(r.delivered_at),
          })),
          nextCursor: page.nextCursor === null ? null : String(page.nextCursor),
          counted: page.counted,
          leftLeads: page.leftLeads,
        };
      },
    );

    app.get(
      '/v1/wizard-runs/:id/url-clickers',
      {
        schema: {
          tags: ['wizard runs'],
          summary:
            'The leads who clicked one tracked URL of one body part (the list behind a per-URL count of /figures)',
          params: IdParams,
          querystring: Type.Object(
            { url: Url, part: Part, ...LeadCursorPage, humanOnly: HumanOnly },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              url: Type.String(),
              part: Type.String(),
              items: Type.Array(UrlClicker),
              ...ListCounts,
            }),
            400: ErrorBody,
            404: ErrorBody,
            503: ErrorBody,
          },
        },
      },
      async (req) => {
        await mustExist(req.params.id);
        const { url, part } = req.query;
        const page = await history.urlClickers(
          req.params.id,
          { url, part },
          {
            humanOnly: req.query.humanOnly ?? false,
            afterLeadId: afterLead(req.query.cursor),
            limit: req.query.limit ?? 100,
            counts: req.query.counts ?? req.query.cursor === undefined,
          },
        );
        return {
          url,
          part,
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

    app.get(
      '/v1/wizard-runs/:id/lists/:list/export',
      {
        schema: {
          tags: ['wizard runs'],
          summary:
            'A list of the run as CSV, streamed from a database cursor (any length): sent, unsent, openers, clickers, unopened, or url-clickers (with url and part)',
          description:
            'UTF-8 with BOM (what Excel opens right) or CP932 by `charset`, the same encoder as /v1/leads/export. ' +
            'Label columns (result_label, code_meaning, detail_label, reason_label, error_reason_label) follow Accept-Language (ja or en; ' +
            'DEFAULT_LANGUAGE otherwise); codes stay as stored. Times are ISO 8601 in UTC. ' +
            'The tracking lists (openers, clickers, url-clickers, unopened) hold live leads only, as their JSON lists do.',
          params: Type.Object(
            {
              id: IdParams.properties.id,
              list: Type.Union(
                [
                  Type.Literal('sent'),
                  Type.Literal('unsent'),
                  Type.Literal('openers'),
                  Type.Literal('clickers'),
                  Type.Literal('unopened'),
                  Type.Literal('url-clickers'),
                ],
                { description: RUN_LISTS.join(' | ') },
              ),
            },
            { additionalProperties: false },
          ),
          querystring: Type.Object(
            {
              charset: Type.Optional(
                Type.Union([Type.Literal('utf-8'), Type.Literal('cp932')], {
                  default: 'utf-8',
                  description: EXPORT_CHARSETS.join(' (with BOM) or '),
                }),
              ),
              humanOnly: HumanOnly,
              url: Type.Optional(Url),
              part: Type.Optional(Part),
            },
            { additionalProperties: false },
          ),
          response: {
            200: {
              description: 'CSV bytes',
              content: { 'text/csv': { schema: Type.String({ description: 'CSV bytes' }) } },
            },
            400: ErrorBody,
            404: ErrorBody,
            503: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        const { id, list } = req.params;
        const { url, part } = req.query;
        if (list === 'url-clickers' && (url === undefined || part === undefined))
          throw badRequest(
            url === undefined ? 'querystring.url' : 'querystring.part',
            'url-clickers needs url and part',
          );
        if (list !== 'url-clickers' && (url !== undefined || part !== undefined))
          throw badRequest(
            url !== undefined ? 'querystring.url' : 'querystring.part',
            'only url-clickers takes url and part',
          );
        await mustExist(id);
        const labels = requestLabels(req, reply);
        const columns = COLUMNS[list];
        const batches = history.exportList(list, id, { humanOnly: req.query.humanOnly ?? false, url, part });
        async function* lines() {
          yield csvLine(columns.header);
          for await (const batch of batches)
            yield batch.map((r) => csvLine(columns.cells(r, labels))).join('');
        }
        const charset = req.query.charset ?? 'utf-8';
        const stream = Readable.from(encodeCsv(lines(), charset));
        // A client that goes away ends the generator, which closes the cursor and returns its connection.
        stream.on('close', () => void batches.return(undefined));
        return reply
          .type(csvContentType(charset))
          .header(
            'content-disposition',
            `attachment; filename="run-${id}-${list}${charset === 'cp932' ? '-sjis' : ''}.csv"`,
          )
          .send(stream as unknown as string);
      },
    );
  },
);
