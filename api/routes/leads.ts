// Leads: create, read, list, change, delete (soft), merge, CSV import and the
// email validity reset. Sends keep the lead id they were made for; a deleted
// or merged lead still counts in run figures but leaves the lists (SPEC 1).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { LeadRow } from '../../db/lead-queries';
import { CSV_CHARSETS, csvEncodingOf, decodeCsv } from '../../domain/csv-charset';
import { csvContentType, encodeCsv } from '../../domain/csv-export';
import { Readable } from 'node:stream';
import { duplicatesInFile, LEAD_EXPORT_COLUMNS, leadCsvLine, readLeadCsv } from '../../domain/lead-csv';
import { ApiError, badRequest, conflict, notFound } from '../errors';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import {
  ErrorBody,
  FreeJsonObject,
  IdParams,
  IntCursor,
  IntId,
  NullableTimestamp,
  Nullable,
  Timestamp,
  iso,
} from '../schemas';
import { Limit, page, Text } from '../paging';

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

const IMPORT_MAX_BYTES = 2 * 1024 * 1024;
const IMPORT_MAX_ROWS = 10_000;

const LeadPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200 })),
    email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
    phones: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$' }), Type.String({ maxLength: 32 }), {
        additionalProperties: false,
      }),
    ),
    lineUserId: Type.Optional(Nullable(Type.String({ pattern: '^U[0-9a-f]{32}$' }))),
    smsPermission: Type.Optional(Type.Boolean()),
    dmPermission: Type.Optional(Type.Boolean()),
    attributes: Type.Optional(FreeJsonObject('free attributes, e.g. for segments')),
  },
  { additionalProperties: false, minProperties: 1 },
);

const ImportResult = Type.Object({
  inserted: Type.Integer(),
  ids: Type.Array(Type.Integer(), { description: 'the inserted leads, in file order' }),
  updated: Type.Array(Type.Integer(), { description: 'leads changed by onDuplicate=update' }),
  skipped: Type.Array(Type.Object({ row: Type.Integer(), leadId: Type.Integer() }), {
    description: 'rows left out by onDuplicate=skip, with the lead that has their email',
  }),
  duplicatesInFile: Type.Array(
    Type.Object({ row: Type.Integer(), firstRow: Type.Integer(), email: Type.String() }),
    { description: 'rows whose email an earlier valid row of the file has' },
  ),
  errors: Type.Array(Type.Object({ row: Type.Integer(), field: Type.String(), message: Type.String() })),
});

export const Lead = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    email: Nullable(Type.String()),
    phones: Type.Record(Type.String(), Type.String()),
    lineUserId: Nullable(Type.String()),
    lineFriendStatus: Type.String(),
    externalId: Nullable(Type.String({ description: "the client's own id (unique), from an import" })),
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
    externalId: l.external_id,
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

export const leadRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'lead-routes', dependencies: [repository('leads')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const leads = app.leads;

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
        const row = await leads.insert({
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
      '/v1/leads/export',
      {
        schema: {
          tags: ['leads'],
          summary:
            'Live leads as CSV, streamed: UTF-8 with BOM (what Excel opens right) or CP932 (Shift_JIS)',
          description:
            'Columns: ' +
            LEAD_EXPORT_COLUMNS.join(',') +
            '; phones and attributes as JSON objects. In CP932, characters it cannot hold (e.g. emoji) become "?".',
          querystring: Type.Object(
            {
              charset: Type.Optional(
                Type.Union([Type.Literal('utf-8'), Type.Literal('cp932')], {
                  default: 'utf-8',
                  description: 'utf-8 (with BOM) or cp932',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          // Only the 200 is CSV; errors (400, and 401/403/429 from the plugins) are JSON.
          response: {
            200: {
              description: 'CSV bytes',
              content: { 'text/csv': { schema: Type.String({ description: 'CSV bytes' }) } },
            },
            400: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        const cp932 = req.query.charset === 'cp932';
        async function* lines() {
          yield LEAD_EXPORT_COLUMNS.join(',') + '\r\n';
          for await (const batch of leads.liveInBatches()) yield batch.map(leadCsvLine).join('');
        }
        const charset = cp932 ? 'cp932' : 'utf-8';
        return reply
          .type(csvContentType(charset))
          .header('content-disposition', `attachment; filename="leads${cp932 ? '-sjis' : ''}.csv"`)
          .send(Readable.from(encodeCsv(lines(), charset)) as unknown as string);
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
        const row = await leads.get(req.params.id);
        if (!row) throw notFound(`lead ${req.params.id}`);
        return leadJson(row);
      },
    );

    app.post(
      '/v1/leads/:id/email-validity',
      {
        schema: {
          tags: ['leads'],
          summary:
            'Set the email validity flag back to valid (the consecutive-error counter restarts from 0)',
          params: IdParams,
          body: Type.Object({ valid: Type.Literal(true) }, { additionalProperties: false }),
          response: { 200: Lead, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req) => {
        const lead = await leads.get(req.params.id);
        if (!lead || lead.deleted_at) throw notFound(`lead ${req.params.id}`);
        if (lead.email_valid)
          throw new ApiError(409, `lead ${lead.id}'s email is already valid; nothing to reset`);
        return leadJson((await leads.resetEmailValidity(lead.id))!);
      },
    );
    app.get(
      '/v1/leads',
      {
        schema: {
          tags: ['leads'],
          summary: 'Live leads (not deleted, not merged away), by id; blank fields can be searched here',
          querystring: Type.Object(
            {
              name: Text('name'),
              email: Text('email'),
              blank: Type.Optional(
                Type.Array(
                  Type.Union([Type.Literal('name'), Type.Literal('email'), Type.Literal('line_user_id')]),
                  { maxItems: 3, description: 'fields that must be blank' },
                ),
              ),
              includeRemoved: Type.Optional(
                Type.Boolean({ description: 'include deleted and merged-away leads' }),
              ),
              limit: Limit,
              cursor: IntCursor,
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ items: Type.Array(Lead), nextCursor: Nullable(Type.String()) }),
            400: ErrorBody,
          },
        },
      },
      async (req) => {
        const q = req.query;
        const limit = q.limit ?? 100;
        const p = page(await leads.list({ ...q, limit }), limit);
        return { items: p.items.map(leadJson), nextCursor: p.nextCursor };
      },
    );

    app.patch(
      '/v1/leads/:id',
      {
        schema: {
          tags: ['leads'],
          summary: 'Change a live lead',
          params: IdParams,
          body: LeadPatch,
          response: { 200: Lead, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req) => {
        const lead = await leads.get(req.params.id);
        if (!lead || lead.deleted_at) throw notFound(`lead ${req.params.id}`);
        if (lead.merged_into_id)
          throw conflict(`lead ${lead.id} was merged into lead ${lead.merged_into_id}; change that one`);
        return leadJson((await leads.change(lead.id, req.body))!);
      },
    );

    app.delete(
      '/v1/leads/:id',
      {
        schema: {
          tags: ['leads'],
          summary:
            'Delete a lead (soft: its sends and the figures keep it, lists leave it); repeating is harmless',
          params: IdParams,
          response: { 204: Type.Null(), 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await leads.softDelete(req.params.id))) throw notFound(`lead ${req.params.id}`);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/v1/leads/:id/merge',
      {
        schema: {
          tags: ['leads'],
          summary:
            'Merge this lead into another: it leaves the lists, its sends stay under its id and keep counting',
          params: IdParams,
          body: Type.Object({ intoId: IntId() }, { additionalProperties: false }),
          response: { 200: Lead, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req) => {
        const { id } = req.params;
        const { intoId } = req.body;
        if (id === intoId) throw badRequest('body.intoId', 'a lead cannot be merged into itself');
        const into = await leads.merge(id, intoId, (from, into) => {
          if (!from || from.deleted_at) throw notFound(`lead ${id}`);
          // The lead in the path is the resource (404); the one in the body is a reference (400, as templateId is).
          if (!into || into.deleted_at)
            throw badRequest('body.intoId', `lead ${intoId} does not exist or was deleted`);
          if (from.merged_into_id)
            throw conflict(`lead ${id} was already merged into lead ${from.merged_into_id}`);
          if (into.merged_into_id)
            throw conflict(
              `lead ${intoId} was itself merged into lead ${into.merged_into_id}; merge into that one`,
            );
        });
        return leadJson(into);
      },
    );

    // The CSV import in a context of its own: only it accepts text/csv.
    await app.register(async (csv) => {
      const app = csv.withTypeProvider<TypeBoxTypeProvider>();
      app.addContentTypeParser(
        'text/csv',
        // Bytes, not text: the encoding is decided by the import (charset, else detection).
        { parseAs: 'buffer', bodyLimit: IMPORT_MAX_BYTES },
        (_req, body, done) => done(null, body),
      );

      app.post(
        '/v1/leads/import',
        {
          schema: {
            tags: ['leads'],
            summary: `Import leads from CSV (text/csv, header row; at most ${IMPORT_MAX_ROWS} rows, 2 MiB): valid rows go in, invalid rows are reported`,
            description:
              'The encoding is the charset of the content type (' +
              CSV_CHARSETS.join(', ') +
              '; Shift_JIS labels are read as CP932, as Excel writes it), else detected: a BOM (UTF-8, UTF-16), ' +
              'else UTF-8 when the bytes are valid UTF-8, else CP932. Bytes that do not decode are a 400 naming ' +
              'the row and column, and nothing is imported.',
            consumes: ['text/csv'],
            querystring: Type.Object(
              {
                onDuplicate: Type.Optional(
                  Type.Union([Type.Literal('insert'), Type.Literal('update'), Type.Literal('skip')], {
                    default: 'insert',
                    description:
                      'a row whose email a live lead already has (case aside): insert a new lead anyway (the default, ' +
                      'as before), update that lead with the columns the file has, or skip the row',
                  }),
                ),
              },
              { additionalProperties: false },
            ),
            // The body arrives as bytes (a Buffer), so the schema only describes it.
            body: Type.Unsafe<Buffer>({
              description:
                'CSV bytes: name,email,phone_mobile,line_user_id,external_id,sms_permission,dm_permission,<attribute>…',
            }),
            response: { 200: ImportResult, 400: ErrorBody, 409: ErrorBody, 413: ErrorBody, 415: ErrorBody },
          },
        },
        async (req) => {
          const label = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(req.headers['content-type'] ?? '')?.[1];
          const given = label === undefined ? null : csvEncodingOf(label);
          if (label !== undefined && given === null)
            throw new ApiError(
              415,
              `charset "${label}" is not one the import reads (${CSV_CHARSETS.join(', ')})`,
            );
          if (!Buffer.isBuffer(req.body) || req.body.length === 0)
            throw new ApiError(400, 'body: a CSV file is required (text/csv), and none was sent');
          const decoded = decodeCsv(req.body, given);
          const {
            leads: parsed,
            errors,
            fileError,
            columns,
          } = await readLeadCsv(decoded.text, IMPORT_MAX_ROWS, decoded.lossy ? decoded.encoding : undefined);
          if (fileError) {
            const more = errors.length > 1 ? ` (and ${errors.length - 1} more header problems)` : '';
            throw badRequest(
              'body',
              `row ${fileError.row}, ${fileError.field}: ${fileError.message}${more}; nothing was imported`,
            );
          }
          const done = await leads
            .importRows(parsed, req.query.onDuplicate ?? 'insert', columns ?? [])
            .catch((e: unknown) => {
              if ((e as { constraint?: string }).constraint === 'lead_external_id_unique')
                throw conflict(
                  'a row has an external_id a lead already has; nothing was imported (onDuplicate=update or skip matches by it)',
                );
              throw e;
            });
          return {
            inserted: done.inserted.length,
            ids: done.inserted,
            updated: done.updated,
            skipped: done.skipped,
            duplicatesInFile: duplicatesInFile(parsed),
            errors,
          };
        },
      );
    });
  },
);
