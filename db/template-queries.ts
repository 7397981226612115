import type { Queryable } from './pool';

export interface TemplateRow {
  id: number;
  channel: string;
  title: string;
  memo: string;
  email_format: string | null;
  subject: string | null;
  from_address: string | null;
  reply_to: string | null;
  error_reply_to: string | null;
  body_text: string | null;
  body_html: string | null;
  click_tracking: boolean;
  open_tracking: boolean;
  sms_body: string | null;
  sms_error_address: string | null;
  line_account_id: number | null;
  line_messages: unknown[] | null;
  deleted_at: Date | null;
}

export async function getTemplate(db: Queryable, id: number): Promise<TemplateRow | null> {
  const res = await db.query<TemplateRow>('SELECT * FROM template WHERE id = $1', [id]);
  return res.rows[0] ?? null;
}
