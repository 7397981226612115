import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { TemplateRow } from '../../db/template-queries';
import { CHANNEL_MODULES } from '../../channels/registry';
import { badRequest, conflict, notFound } from '../errors';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { CHANNELS } from '../../domain/channels';
import { Channel, ErrorBody, IdParams, IntCursor, IntId, Nullable } from '../schemas';
import { Limit, page, Text } from '../paging';

const Email = Type.String({ format: 'email', maxLength: 254 });

export const TemplateBody = Type.Object(
  {
    channel: Channel,
    title: Type.String({ minLength: 1, maxLength: 200 }),
    memo: Type.Optional(Type.String({ maxLength: 2000 })),
    format: Type.Optional(
      Type.Union([Type.Literal('text'), Type.Literal('html'), Type.Literal('multipart')]),
    ),
    subject: Type.Optional(Type.String({ maxLength: 500 })),
    from: Type.Optional(Email),
    replyTo: Type.Optional(Email),
    errorReplyTo: Type.Optional(Email),
    bodyText: Type.Optional(Type.String({ maxLength: 1_000_000 })),
    bodyHtml: Type.Optional(Type.String({ maxLength: 1_000_000 })),
    clickTracking: Type.Optional(Type.Boolean()),
    openTracking: Type.Optional(Type.Boolean()),
    smsBody: Type.Optional(Type.String({ maxLength: 2000 })),
    smsErrorAddress: Type.Optional(Email),
    lineAccountId: Type.Optional(IntId()),
    lineMessages: Type.Optional(
      Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1, maxItems: 5 }),
    ),
  },
  { additionalProperties: false },
);

export const Template = Type.Object(
  {
    id: Type.Integer(),
    channel: Type.String(),
    title: Type.String(),
    memo: Type.String(),
    format: Nullable(Type.String()),
    subject: Nullable(Type.String()),
    from: Nullable(Type.String()),
    replyTo: Nullable(Type.String()),
    errorReplyTo: Nullable(Type.String()),
    bodyText: Nullable(Type.String()),
    bodyHtml: Nullable(Type.String()),
    clickTracking: Type.Boolean(),
    openTracking: Type.Boolean(),
    smsBody: Nullable(Type.String()),
    smsErrorAddress: Nullable(Type.String()),
    lineAccountId: Nullable(Type.Integer()),
    lineMessages: Nullable(Type.Array(Type.Unknown())),
    deleted: Type.Boolean(),
  },
  { $id: 'Template' },
);

export function templateJson(t: TemplateRow): Static<typeof Template> {
  return {
    id: t.id,
    channel: t.channel,
    title: t.title,
    memo: t.memo,
    format: t.email_format,
    subject: t.subject,
    from: t.from_address,
    replyTo: t.reply_to,
    errorReplyTo: t.error_reply_to,
    bodyText: t.body_text,
    bodyHtml: t.body_html,
    clickTracking: t.click_tracking,
    openTracking: t.open_tracking,
    smsBody: t.sms_body,
    smsErrorAddress: t.sms_error_address,
    lineAccountId: t.line_account_id,
    lineMessages: t.line_messages,
    deleted: t.deleted_at !== null,
  };
}

type Body = Static<typeof TemplateBody>;

/** Channel-specific completeness (each channel's rule, channels/registry.ts), with the field at fault named. */
export function checkTemplate(b: Body) {
  const problem = CHANNEL_MODULES[b.channel].checkTemplate(b);
  if (problem) throw badRequest(problem.field, problem.message);
}

export const templateRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'template-routes', dependencies: [repository('templates')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const templates = app.templates;

    app.post(
      '/v1/templates',
      {
        schema: {
          tags: ['templates'],
          summary: 'Create a template',
          body: TemplateBody,
          response: { 201: Template, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const b = req.body;
        checkTemplate(b);
        if (b.lineAccountId !== undefined && !(await templates.officialAccountIsLive(b.lineAccountId))) {
          throw badRequest('body.lineAccountId', `official account ${b.lineAccountId} does not exist`);
        }
        const { channel, ...fields } = b;
        return reply.status(201).send(templateJson(await templates.insert(channel, fields)));
      },
    );

    app.get(
      '/v1/templates/:id',
      {
        schema: {
          tags: ['templates'],
          summary: 'A template',
          params: IdParams,
          response: { 200: Template, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => {
        const t = await templates.get(req.params.id);
        if (!t) throw notFound(`template ${req.params.id}`);
        return templateJson(t);
      },
    );

    app.delete(
      '/v1/templates/:id',
      {
        schema: {
          tags: ['templates'],
          summary: 'Delete a template (runs that start later go to error)',
          params: IdParams,
          response: { 204: Type.Null(), 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await templates.softDelete(req.params.id))) throw notFound(`template ${req.params.id}`);
        return reply.status(204).send(null);
      },
    );
    app.get(
      '/v1/templates',
      {
        schema: {
          tags: ['templates'],
          summary: 'Templates, by id (deleted ones only when asked)',
          querystring: Type.Object(
            {
              channel: Type.Optional(Type.Array(Channel, { maxItems: CHANNELS.length })),
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
        const rows = await templates.list({
          channels: q.channel,
          title: q.title,
          includeDeleted: q.includeDeleted,
          cursor: q.cursor,
          limit,
        });
        const p = page(rows, limit);
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
        const t = await templates.get(req.params.id);
        if (!t || t.deleted_at) throw notFound(`template ${req.params.id}`);
        const cur = templateJson(t);
        const merged = {
          channel: t.channel,
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
        const updated = await templates.update(t, merged);
        if (!updated) throw conflict(`template ${t.id} was deleted meanwhile`);
        return templateJson(updated);
      },
    );
  },
);
