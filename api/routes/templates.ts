import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { getTemplate, type TemplateRow } from '../../db/template-queries';
import { liveOfficialAccount } from '../../db/line-queries';
import { validateLineMessages } from '../../domain/line-messages';
import { badRequest, notFound } from '../errors';
import { Channel, ErrorBody, IdParams, IntId, Nullable } from '../schemas';

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

/** Channel-specific completeness, with the field at fault named. */
export function checkTemplate(b: Body) {
  if (b.channel === 'email') {
    const format = b.format ?? 'text';
    if (!b.subject) throw badRequest('body.subject', 'an email template needs a subject');
    if (!b.from) throw badRequest('body.from', 'an email template needs a from address');
    if (format !== 'html' && !b.bodyText)
      throw badRequest('body.bodyText', `a ${format} template needs a text body`);
    if (format !== 'text' && !b.bodyHtml)
      throw badRequest('body.bodyHtml', `a ${format} template needs an HTML body`);
    for (const f of ['smsBody', 'lineAccountId', 'lineMessages'] as const) {
      if (b[f] !== undefined) throw badRequest(`body.${f}`, 'not a field of an email template');
    }
  } else if (b.channel === 'sms') {
    if (!b.smsBody) throw badRequest('body.smsBody', 'an SMS template needs a body');
  } else {
    if (!b.lineAccountId)
      throw badRequest('body.lineAccountId', 'a LINE template names its official account');
    if (!b.lineMessages)
      throw badRequest('body.lineMessages', 'a LINE template needs 1 to 5 message objects');
    const check = validateLineMessages(b.lineMessages, 'body.lineMessages');
    if (!check.ok) {
      const [first, ...rest] = check.errors;
      throw badRequest(
        first!.path,
        [first!.message, ...rest.map((e) => `${e.path}: ${e.message}`)].join('; '),
      );
    }
  }
}

export const templateRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = app.deps;

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
      if (b.lineAccountId !== undefined && !(await liveOfficialAccount(pool, b.lineAccountId))) {
        throw badRequest('body.lineAccountId', `official account ${b.lineAccountId} does not exist`);
      }
      const res = await pool.query<TemplateRow>(
        `INSERT INTO template (channel, title, memo, email_format, subject, from_address, reply_to, error_reply_to,
                               body_text, body_html, click_tracking, open_tracking, sms_body, sms_error_address,
                               line_account_id, line_messages)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING *`,
        [
          b.channel,
          b.title,
          b.memo ?? '',
          b.channel === 'email' ? (b.format ?? 'text') : null,
          b.subject ?? null,
          b.from ?? null,
          b.replyTo ?? null,
          b.errorReplyTo ?? null,
          b.bodyText ?? null,
          b.bodyHtml ?? null,
          b.clickTracking ?? false,
          b.openTracking ?? false,
          b.smsBody ?? null,
          b.smsErrorAddress ?? null,
          b.lineAccountId ?? null,
          b.lineMessages ? JSON.stringify(b.lineMessages) : null,
        ],
      );
      return reply.status(201).send(templateJson(res.rows[0]!));
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
      const t = await getTemplate(pool, req.params.id);
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
      const res = await pool.query(
        'UPDATE template SET deleted_at = coalesce(deleted_at, now()) WHERE id = $1',
        [req.params.id],
      );
      if (res.rowCount === 0) throw notFound(`template ${req.params.id}`);
      return reply.status(204).send(null);
    },
  );
};
