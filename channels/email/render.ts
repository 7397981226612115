// Renders the bulk mails of a claimed batch: merge fields, click-counting
// links, the open-tracking image, one-click unsubscribe headers (RFC 8058),
// the VERP return path and the Message-ID the product can find again.
import { escapeHtml, personalize } from '../../domain/personalize';
import {
  TRACKING_PATHS,
  appendBeforeBodyEnd,
  ownTrackingPrefixes,
  rewriteHtmlLinks,
  rewriteTextLinks,
  trackableLinks,
  type RewriteOptions,
} from '../../domain/link-rewrite';
import type { ClaimedSend } from '../../db/run-queries';
import type { TemplateRow } from '../../db/template-queries';
import { ensureTrackingTokens, tokenKey, type WantedToken } from '../../db/tracking-queries';
import type { Pool } from 'pg';
import type { EmailMessage } from './transport';

export interface RenderSettings {
  bounceDomain: string;
  /** Base of tracking, unsubscribe and short URLs seen by recipients. */
  publicBaseUrl: string;
}

// {{unsubscribe_url}} in a body becomes the send's own unsubscribe URL. The
// token is known only after the batch's tokens are stored, so the field is
// parked as a marker merge fields and link rewriting both leave alone.
const UNSUBSCRIBE_FIELD = /\{\{\s*unsubscribe_url\s*\}\}/g;
const UNSUBSCRIBE_MARK = '\u0000unsubscribe-url\u0000';

interface Personalized {
  target: ClaimedSend;
  subject: string;
  text?: string;
  html?: string;
}

/** A template's texts with the unsubscribe field parked: once per batch, not per message. */
interface PreparedTemplate {
  format: string;
  subject: string;
  text: string | null;
  html: string | null;
}

function prepareTemplate(template: TemplateRow): PreparedTemplate {
  const park = (source: string | null) =>
    source ? source.replace(UNSUBSCRIBE_FIELD, UNSUBSCRIBE_MARK) : null;
  return {
    format: template.email_format ?? 'text',
    subject: template.subject ?? '',
    text: park(template.body_text),
    html: park(template.body_html),
  };
}

function personalizeEmail(template: PreparedTemplate, target: ClaimedSend): Personalized {
  const lead = {
    id: target.lead_id,
    name: target.name,
    email: target.address,
    attributes: target.attributes ?? {},
  };
  const body = (source: string | null, escape?: (s: string) => string) =>
    source ? personalize(source, lead, escape) : undefined;
  return {
    target,
    subject: personalize(template.subject, lead),
    text: template.format !== 'html' ? body(template.text) : undefined,
    html: template.format !== 'text' ? body(template.html, escapeHtml) : undefined,
  };
}

/**
 * Render every claimed send of a batch. Batch-level so that the tokens each
 * message carries (one per counted link and part, the open image, the
 * unsubscribe URL) are stored in one statement before any of them is sent:
 * a recipient can never hold a token the database does not know.
 */
export async function renderEmailBatch(
  pool: Pool,
  template: TemplateRow,
  claimed: readonly ClaimedSend[],
  settings: RenderSettings,
): Promise<Map<string, EmailMessage>> {
  const base = settings.publicBaseUrl.replace(/\/+$/, '');
  const linkOptions: RewriteOptions = { keepPrefixes: ownTrackingPrefixes(base) };
  const prepared = prepareTemplate(template);
  const mails = claimed.map((c) => personalizeEmail(prepared, c));

  const wanted: WantedToken[] = [];
  for (const m of mails) {
    const sendId = m.target.send_id;
    wanted.push({ sendId, part: 'unsubscribe', url: '' });
    // Opens can be seen only through an image, so only in an HTML part.
    if (template.open_tracking && m.html !== undefined) wanted.push({ sendId, part: 'open', url: '' });
    if (template.click_tracking) {
      if (m.text !== undefined)
        for (const url of trackableLinks(m.text, 'text', linkOptions))
          wanted.push({ sendId, part: 'text', url });
      if (m.html !== undefined)
        for (const url of trackableLinks(m.html, 'html', linkOptions))
          wanted.push({ sendId, part: 'html', url });
    }
  }
  const tokens = await ensureTrackingTokens(pool, wanted);
  const tokenOf = (sendId: string, part: string, url = '') => {
    const token = tokens.get(tokenKey(sendId, part, url));
    if (!token) throw new Error(`no ${part} token stored for send ${sendId}`);
    return token;
  };

  const out = new Map<string, EmailMessage>();
  for (const m of mails) {
    const sendId = m.target.send_id;
    const unsubscribeUrl = `${base}${TRACKING_PATHS.unsubscribe}${tokenOf(sendId, 'unsubscribe')}`;
    const clickUrl = (part: 'text' | 'html') => (url: string) =>
      `${base}${TRACKING_PATHS.click}${tokenOf(sendId, part, url)}`;
    let text = m.text;
    let html = m.html;
    if (template.click_tracking) {
      if (text !== undefined) text = rewriteTextLinks(text, clickUrl('text'), linkOptions);
      if (html !== undefined) html = rewriteHtmlLinks(html, clickUrl('html'), linkOptions);
    }
    if (html !== undefined && template.open_tracking) {
      const src = `${base}${TRACKING_PATHS.open}${tokenOf(sendId, 'open')}`;
      html = appendBeforeBodyEnd(
        html,
        `<img src="${escapeHtml(src)}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />`,
      );
    }
    out.set(sendId, {
      from: template.from_address ?? `no-reply@${settings.bounceDomain}`,
      to: m.target.address,
      replyTo: template.reply_to ?? undefined,
      subject: m.subject,
      text: text?.split(UNSUBSCRIBE_MARK).join(unsubscribeUrl),
      html: html?.split(UNSUBSCRIBE_MARK).join(escapeHtml(unsubscribeUrl)),
      // VERP: the return path carries the send's token, so a bounce finds its send.
      envelopeFrom: `b+${m.target.token}@${settings.bounceDomain}`,
      messageId: `<${m.target.token}@${settings.bounceDomain}>`,
      headers: {
        'X-Send-Token': m.target.token,
        // RFC 8058 one-click unsubscribe. The token is not send.token, which
        // recipients see in the return path and Message-ID.
        'List-Unsubscribe': `<${unsubscribeUrl}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    });
  }
  return out;
}
