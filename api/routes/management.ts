// Managing leads, templates and segments: lists, edits, soft delete, merge and
// CSV import. Sends keep the lead id they were made for; a deleted or merged
// lead still counts in run figures but leaves the lists (SPEC 1).
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { getLead, insertLead, type LeadRow } from '../../db/lead-queries';
import { inTransaction } from '../../db/pool';
import { getTemplate, type TemplateRow } from '../../db/template-queries';
import type { Channel } from '../../domain/channels';
import { escapeLike } from '../../domain/history-search';
import { readLeadCsv } from '../../domain/lead-csv';
import { ApiError, badRequest, conflict, notFound } from '../errors';
import { ErrorBody, FreeJsonObject, IdParams, IntCursor, IntId, Nullable } from '../schemas';
import { Lead, leadJson } from './leads';
import { checkTemplate, Template, TemplateBody, templateJson } from './templates';
import { compileOrReject, Segment, segmentJson, type SegmentRow } from './segments';

const IMPORT_MAX_BYTES = 2 * 1024 * 1024;
const IMPORT_MAX_ROWS = 10_000;
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 }));
const Text = (d: string) =>
  Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: `${d}; partial, case-sensitive` }));

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
  ids: Type.Array(Type.Integer()),
  errors: Type.Array(Type.Object({ row: Type.Integer(), field: Type.String(), message: Type.String() })),
});

const page = <T extends { id: number }>(rows: T[], limit: number) => {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? String(last.id) : null };
};

export const managementRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = app.deps;

  app.addContentTypeParser(
    'text/csv',
    { parseAs: 'string', bodyLimit: IMPORT_MAX_BYTES },
    (_req, body, done) => done(null, body),
  );

  // ---- leads
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
      const params: unknown[] = [];
      const add = (v: unknown) => (params.push(v), `$${params.length}`);
      const where = ['TRUE'];
      if (!q.includeRemoved) where.push('deleted_at IS NULL AND merged_into_id IS NULL');
      if (q.name !== undefined) where.push(`name LIKE ${add(`%${escapeLike(q.name)}%`)}`);
      if (q.email !== undefined) where.push(`email LIKE ${add(`%${escapeLike(q.email)}%`)}`);
      for (const b of q.blank ?? []) where.push(`coalesce(${b}, '') = ''`);
      if (q.cursor !== undefined) where.push(`id > ${add(q.cursor)}`);
      const limit = q.limit ?? 100;
      const res = await pool.query<LeadRow>(
        `SELECT * FROM lead WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${add(limit + 1)}`,
        params,
      );
      const p = page(res.rows, limit);
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
      const lead = await getLead(pool, req.params.id);
      if (!lead || lead.deleted_at) throw notFound(`lead ${req.params.id}`);
      if (lead.merged_into_id)
        throw conflict(`lead ${lead.id} was merged into lead ${lead.merged_into_id}; change that one`);
      const b = req.body;
      const res = await pool.query<LeadRow>(
        `UPDATE lead SET name = coalesce($2, name), email = CASE WHEN $3 THEN $4 ELSE email END,
                phones = coalesce($5::jsonb, phones), line_user_id = CASE WHEN $6 THEN $7 ELSE line_user_id END,
                sms_permission = coalesce($8, sms_permission), dm_permission = coalesce($9, dm_permission),
                attributes = coalesce($10::jsonb, attributes), updated_at = now()
          WHERE id = $1 RETURNING *`,
        [
          lead.id,
          b.name ?? null,
          b.email !== undefined,
          b.email ? b.email.trim() : null,
          b.phones ? JSON.stringify(b.phones) : null,
          b.lineUserId !== undefined,
          b.lineUserId ?? null,
          b.smsPermission ?? null,
          b.dmPermission ?? null,
          b.attributes ? JSON.stringify(b.attributes) : null,
        ],
      );
      return leadJson(res.rows[0]!);
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
      const res = await pool.query(
        'UPDATE lead SET deleted_at = coalesce(deleted_at, now()), updated_at = now() WHERE id = $1',
        [req.params.id],
      );
      if (res.rowCount === 0) throw notFound(`lead ${req.params.id}`);
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
      return inTransaction(pool, async (client) => {
        const rows = await client.query<LeadRow>(
          'SELECT * FROM lead WHERE id = ANY($1) ORDER BY id FOR UPDATE',
          [[id, intoId]],
        );
        const from = rows.rows.find((r) => r.id === id);
        const into = rows.rows.find((r) => r.id === intoId);
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
        await client.query('UPDATE lead SET merged_into_id = $2, updated_at = now() WHERE id = $1', [
          id,
          intoId,
        ]);
        return leadJson(into);
      });
    },
  );

  app.post(
    '/v1/leads/import',
    {
      schema: {
        tags: ['leads'],
        summary: `Import leads from CSV (text/csv, header row; at most ${IMPORT_MAX_ROWS} rows, 2 MiB): valid rows go in, invalid rows are reported`,
        consumes: ['text/csv'],
        body: Type.String({
          description: 'name,email,phone_mobile,line_user_id,sms_permission,dm_permission,<attribute>…',
        }),
        response: { 200: ImportResult, 400: ErrorBody, 413: ErrorBody, 415: ErrorBody },
      },
    },
    async (req) => {
      const { leads, errors, fileError } = readLeadCsv(req.body, IMPORT_MAX_ROWS);
      if (fileError) {
        const more = errors.length > 1 ? ` (and ${errors.length - 1} more header problems)` : '';
        throw badRequest(
          'body',
          `row ${fileError.row}, ${fileError.field}: ${fileError.message}${more}; nothing was imported`,
        );
      }
      const ids = await inTransaction(pool, async (client) => {
        const out: number[] = [];
        for (const l of leads) out.push((await insertLead(client, l)).id);
        return out;
      });
      return { inserted: ids.length, ids, errors };
    },
  );

  // ---- templates
  app.get(
    '/v1/templates',
    {
      schema: {
        tags: ['templates'],
        summary: 'Templates, by id (deleted ones only when asked)',
        querystring: Type.Object(
          {
            channel: Type.Optional(
              Type.Array(Type.Union([Type.Literal('email'), Type.Literal('sms'), Type.Literal('line')]), {
                maxItems: 3,
              }),
            ),
            title: Text('title'),
            includeDeleted: Type.Optional(Type.Boolean()),
            limit: Limit,
            cursor: IntCursor,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(Template), nextCursor: Nullable(Type.String()) }),
          400: ErrorBody,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const limit = q.limit ?? 100;
      const res = await pool.query<TemplateRow>(
        `SELECT * FROM template WHERE ($1::text[] IS NULL OR channel = ANY($1)) AND ($2::text IS NULL OR title LIKE $2)
            AND ($3 OR deleted_at IS NULL) AND ($4::int IS NULL OR id > $4) ORDER BY id LIMIT $5`,
        [
          q.channel ?? null,
          q.title !== undefined ? `%${escapeLike(q.title)}%` : null,
          q.includeDeleted ?? false,
          q.cursor ?? null,
          limit + 1,
        ],
      );
      const p = page(res.rows, limit);
      return { items: p.items.map(templateJson), nextCursor: p.nextCursor };
    },
  );

  app.patch(
    '/v1/templates/:id',
    {
      schema: {
        tags: ['templates'],
        summary:
          'Change a template (runs already reserved keep their title/memo snapshot); the channel cannot change',
        params: IdParams,
        body: Type.Partial(Type.Omit(TemplateBody, ['channel']), {
          additionalProperties: false,
          minProperties: 1,
        }),
        response: { 200: Template, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      const t = await getTemplate(pool, req.params.id);
      if (!t || t.deleted_at) throw notFound(`template ${req.params.id}`);
      const cur = templateJson(t);
      const merged = {
        channel: t.channel as Channel,
        title: cur.title,
        memo: cur.memo,
        format: (cur.format ?? undefined) as 'text' | 'html' | 'multipart' | undefined,
        subject: cur.subject ?? undefined,
        from: cur.from ?? undefined,
        replyTo: cur.replyTo ?? undefined,
        errorReplyTo: cur.errorReplyTo ?? undefined,
        bodyText: cur.bodyText ?? undefined,
        bodyHtml: cur.bodyHtml ?? undefined,
        clickTracking: cur.clickTracking,
        openTracking: cur.openTracking,
        smsBody: cur.smsBody ?? undefined,
        smsErrorAddress: cur.smsErrorAddress ?? undefined,
        lineAccountId: cur.lineAccountId ?? undefined,
        lineMessages: (cur.lineMessages ?? undefined) as Record<string, unknown>[] | undefined,
        ...req.body,
      };
      checkTemplate(merged);
      const res = await pool.query<TemplateRow>(
        `UPDATE template SET title = $2, memo = $3, email_format = $4, subject = $5, from_address = $6, reply_to = $7,
                error_reply_to = $8, body_text = $9, body_html = $10, click_tracking = $11, open_tracking = $12,
                sms_body = $13, sms_error_address = $14, line_account_id = $15, line_messages = $16, updated_at = now()
          WHERE id = $1 AND deleted_at IS NULL RETURNING *`,
        [
          t.id,
          merged.title,
          merged.memo ?? '',
          t.channel === 'email' ? (merged.format ?? 'text') : null,
          merged.subject ?? null,
          merged.from ?? null,
          merged.replyTo ?? null,
          merged.errorReplyTo ?? null,
          merged.bodyText ?? null,
          merged.bodyHtml ?? null,
          merged.clickTracking ?? false,
          merged.openTracking ?? false,
          merged.smsBody ?? null,
          merged.smsErrorAddress ?? null,
          merged.lineAccountId ?? null,
          merged.lineMessages ? JSON.stringify(merged.lineMessages) : null,
        ],
      );
      if (!res.rows[0]) throw conflict(`template ${t.id} was deleted meanwhile`);
      return templateJson(res.rows[0]);
    },
  );

  // ---- segments
  app.get(
    '/v1/segments',
    {
      schema: {
        tags: ['segments'],
        summary: 'Segments, by id',
        querystring: Type.Object(
          {
            channel: Type.Optional(
              Type.Array(Type.Union([Type.Literal('email'), Type.Literal('sms'), Type.Literal('line')]), {
                maxItems: 3,
              }),
            ),
            name: Text('name'),
            limit: Limit,
            cursor: IntCursor,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(Segment), nextCursor: Nullable(Type.String()) }),
          400: ErrorBody,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const limit = q.limit ?? 100;
      const res = await pool.query<SegmentRow>(
        `SELECT * FROM segment WHERE ($1::text[] IS NULL OR channel = ANY($1)) AND ($2::text IS NULL OR name LIKE $2)
            AND ($3::int IS NULL OR id > $3) ORDER BY id LIMIT $4`,
        [
          q.channel ?? null,
          q.name !== undefined ? `%${escapeLike(q.name)}%` : null,
          q.cursor ?? null,
          limit + 1,
        ],
      );
      const p = page(res.rows, limit);
      return { items: p.items.map(segmentJson), nextCursor: p.nextCursor };
    },
  );

  app.patch(
    '/v1/segments/:id',
    {
      schema: {
        tags: ['segments'],
        summary: 'Rename a segment or change its filter (runs already prepared keep their targets)',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            filter: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Segment, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      if (req.body.filter !== undefined) compileOrReject(req.body.filter);
      const res = await pool.query<SegmentRow>(
        'UPDATE segment SET name = coalesce($2, name), filter = coalesce($3::jsonb, filter), updated_at = now() WHERE id = $1 RETURNING *',
        [
          req.params.id,
          req.body.name ?? null,
          req.body.filter !== undefined ? JSON.stringify(req.body.filter) : null,
        ],
      );
      if (!res.rows[0]) throw notFound(`segment ${req.params.id}`);
      return segmentJson(res.rows[0]);
    },
  );

  app.delete(
    '/v1/segments/:id',
    {
      schema: {
        tags: ['segments'],
        summary: 'Delete a segment no waiting or running run targets',
        params: IdParams,
        response: { 204: Type.Null(), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      const busy = await pool.query<{ id: number }>(
        `SELECT id FROM wizard_run WHERE segment_id = $1 AND status IN ('reserved', 'preparing', 'running') ORDER BY id LIMIT 5`,
        [req.params.id],
      );
      if (busy.rows.length) {
        throw new ApiError(
          409,
          `segment ${req.params.id} is the target of run(s) ${busy.rows.map((r) => r.id).join(', ')} still to send; cancel them first`,
        );
      }
      const res = await pool.query('DELETE FROM segment WHERE id = $1', [req.params.id]);
      if (res.rowCount === 0) throw notFound(`segment ${req.params.id}`);
      return reply.status(204).send(null);
    },
  );
};
