// Templates as the API stores and edits them.
import type { Pool } from 'pg';
import { escapeLike } from '../../domain/history-search';
import { liveOfficialAccount } from '../line-queries';
import { getTemplate, type TemplateRow } from '../template-queries';

/** Every stored field of a template, as the API has checked it. */
export interface TemplateFields {
  title: string;
  memo?: string;
  format?: string;
  subject?: string;
  from?: string;
  replyTo?: string;
  errorReplyTo?: string;
  bodyText?: string;
  bodyHtml?: string;
  clickTracking?: boolean;
  openTracking?: boolean;
  smsBody?: string;
  smsErrorAddress?: string;
  lineAccountId?: number;
  lineMessages?: unknown[];
}

export interface TemplateListQuery {
  channels?: string[];
  title?: string;
  includeDeleted?: boolean;
  cursor?: number;
  limit: number;
}

/** The column values of a template on `channel` (the format is an email's only). */
const columns = (channel: string, t: TemplateFields) => [
  t.title,
  t.memo ?? '',
  channel === 'email' ? (t.format ?? 'text') : null,
  t.subject ?? null,
  t.from ?? null,
  t.replyTo ?? null,
  t.errorReplyTo ?? null,
  t.bodyText ?? null,
  t.bodyHtml ?? null,
  t.clickTracking ?? false,
  t.openTracking ?? false,
  t.smsBody ?? null,
  t.smsErrorAddress ?? null,
  t.lineAccountId ?? null,
  t.lineMessages ? JSON.stringify(t.lineMessages) : null,
];

export function templateRepository(pool: Pool) {
  return {
    get: (id: number) => getTemplate(pool, id),
    officialAccountIsLive: async (id: number) => !!(await liveOfficialAccount(pool, id)),

    async insert(channel: string, t: TemplateFields): Promise<TemplateRow> {
      const res = await pool.query<TemplateRow>(
        `INSERT INTO template (channel, title, memo, email_format, subject, from_address, reply_to, error_reply_to,
                               body_text, body_html, click_tracking, open_tracking, sms_body, sms_error_address,
                               line_account_id, line_messages)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING *`,
        [channel, ...columns(channel, t)],
      );
      return res.rows[0]!;
    },

    /** Null when the template was deleted meanwhile. */
    async update(existing: TemplateRow, t: TemplateFields): Promise<TemplateRow | null> {
      const res = await pool.query<TemplateRow>(
        `UPDATE template SET title = $2, memo = $3, email_format = $4, subject = $5, from_address = $6, reply_to = $7,
                error_reply_to = $8, body_text = $9, body_html = $10, click_tracking = $11, open_tracking = $12,
                sms_body = $13, sms_error_address = $14, line_account_id = $15, line_messages = $16, updated_at = now()
          WHERE id = $1 AND deleted_at IS NULL RETURNING *`,
        [existing.id, ...columns(existing.channel, t)],
      );
      return res.rows[0] ?? null;
    },

    /** Up to limit + 1 templates by id. */
    async list(q: TemplateListQuery): Promise<TemplateRow[]> {
      const res = await pool.query<TemplateRow>(
        `SELECT * FROM template WHERE ($1::text[] IS NULL OR channel = ANY($1)) AND ($2::text IS NULL OR title LIKE $2)
            AND ($3 OR deleted_at IS NULL) AND ($4::int IS NULL OR id > $4) ORDER BY id LIMIT $5`,
        [
          q.channels ?? null,
          q.title !== undefined ? `%${escapeLike(q.title)}%` : null,
          q.includeDeleted ?? false,
          q.cursor ?? null,
          q.limit + 1,
        ],
      );
      return res.rows;
    },

    /** Soft delete; false when there is no such template. */
    async softDelete(id: number): Promise<boolean> {
      const res = await pool.query(
        'UPDATE template SET deleted_at = coalesce(deleted_at, now()) WHERE id = $1',
        [id],
      );
      return (res.rowCount ?? 0) > 0;
    },
  };
}

export type TemplateRepository = ReturnType<typeof templateRepository>;
