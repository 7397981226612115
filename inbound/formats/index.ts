// The registry of bounce format recognisers and the one entry point,
// readBounce(). The order is part of the contract:
//
//  1. arf            a feedback-report part decides: it is a complaint.
//  2. rfc3464        a delivery-status part (anywhere, forwarded too) is the
//                    most trusted source; the text recognisers below then only
//                    fill what its fields leave out (diagnostic, stage, code).
//  3. text formats   (TEXT_RECOGNISERS, in this order) most specific signature
//                    first: SES's JSON and SendGrid's own line; Google Groups
//                    before Gmail (same sender); providers whose mail also
//                    matches a generic MTA wording before that MTA (mail.ru,
//                    GMX and Zoho before Exim; Zimbra, iCloud and Yandex
//                    before Postfix; Yahoo/AOL before qmail); the MTAs; then
//                    the gateways and appliances named by header or subject.
//                    The first that reads at least one recipient wins.
//  4. generic        what reads as a bounce in no known layout: a mail-system
//                    sender, or a bounce subject together with bounce wording.
//  5. auto-reply     content first: only what does not read as a bounce.
//  6. a message enclosed in a non-bounce (a bounce forwarded by a person) is
//     read the same way, once.
//  7. other.
import { bounceSignals, isAutoReplyMessage } from '../../domain/auto-reply';
import { amazonSes } from './amazon-ses';
import { arf } from './arf';
import { auKddi } from './au-kddi';
import { barracuda } from './barracuda';
import {
  buildInput,
  enhancedCodeIn,
  ownAddresses,
  reading,
  type BounceInput,
  type Recognised,
  type Recogniser,
} from './common';
import { courier } from './courier';
import { dma } from './dma';
import { domino } from './domino';
import { exim } from './exim';
import { generic } from './generic';
import { gmail } from './gmail';
import { gmx } from './gmx';
import { googleGroups } from './google-groups';
import { mdaemon } from './mdaemon';
import { messagingServer } from './messaging-server';
import { decodeWords, header, partText, parseMime, walk, type MimePart } from './mime';
import { opensmtpd } from './opensmtpd';
import { outlook } from './outlook';
import { postfix } from './postfix';
import { icloud, mailru, yandex, zimbra } from './providers';
import { qmail } from './qmail';
import { rfc3464 } from './rfc3464';
import { sendgrid } from './sendgrid';
import { sendmail } from './sendmail';
import { trendMicro } from './trend-micro';
import type { BounceReading, RecipientReading } from './types';
import { yahoo } from './yahoo';
import { zoho } from './zoho';
import { mimecast } from './mimecast';

export type { BounceReading, RecipientReading } from './types';

/** Human-readable formats, in the order they are tried. */
export const TEXT_RECOGNISERS: readonly Recogniser[] = [
  amazonSes,
  sendgrid,
  googleGroups,
  gmail,
  outlook,
  yahoo,
  mailru,
  yandex,
  gmx,
  zoho,
  mimecast,
  icloud,
  zimbra,
  dma,
  opensmtpd,
  courier,
  qmail,
  exim,
  postfix,
  sendmail,
  domino,
  messagingServer,
  auKddi,
  mdaemon,
  barracuda,
  trendMicro,
];

/** Every recogniser, in registry order (for listings and tests). */
export const RECOGNISERS: readonly Recogniser[] = [arf, rfc3464, ...TEXT_RECOGNISERS, generic];

const RETURNED_TYPES = new Set([
  'message/rfc822',
  'message/global',
  'text/rfc822-headers',
  'message/rfc822-headers',
  'message/global-headers',
]);

function returnedTexts(root: MimePart, input: BounceInput): string[] {
  const out = walk(root, false)
    .filter((p) => RETURNED_TYPES.has(p.contentType))
    .map((p) => partText(p));
  if (input.returnedInline !== null) out.push(input.returnedInline);
  if (out.length === 0) out.push(root.rawBody);
  return out;
}

function firstText(input: BounceInput): { name: string; result: Recognised } | null {
  // A text layout may name our own address (Exim's "A message sent by <sender>"):
  // it is never the failed recipient.
  const own = ownAddresses(input);
  for (const r of TEXT_RECOGNISERS) {
    const read = r.read(input);
    if (!read) continue;
    const recipients = read.recipients.filter((x) => !own.has(x.recipient?.toLowerCase() ?? ''));
    const dropped = read.recipients.length - recipients.length;
    const detail =
      dropped > 0 ? `${read.detail ?? r.name} (${dropped} naming our own address left out)` : read.detail;
    const result = { ...read, recipients, detail };
    if (result.recipients.length > 0 || result.kind === 'arf')
      return { name: result.format ?? r.name, result };
  }
  return null;
}

const UNINFORMATIVE = /^\s*(?:[a-z-]+;\s*)?(?:[245]\d\d[ -]?)?\s*(?:[245]\.\d{1,3}\.\d{1,3})?\s*[.:]?\s*$/i;

// Texts that say the queue has given up on the recipient: a final failure.
const GAVE_UP =
  /Envelope expired|retry timeout exceeded|Could not deliver for the last \d+ seconds|I'm not going to try again|Giving up/i;

/** Fills what a DSN recipient's fields leave out from the human-readable reading of the same recipient. */
function fillFromText(
  r: RecipientReading,
  t: RecipientReading | undefined,
  family: string,
): RecipientReading {
  if (!t) return r;
  const out = { ...r, evidence: [...r.evidence] };
  if ((out.diagnostic === null || UNINFORMATIVE.test(out.diagnostic)) && t.diagnostic !== null) {
    out.diagnostic = out.diagnostic === null ? t.diagnostic : `${out.diagnostic} | ${t.diagnostic}`;
    out.evidence.push(`diagnostic from the human-readable part (${family})`);
  }
  const textCode = enhancedCodeIn(t.diagnostic);
  if (
    textCode !== null &&
    (out.status === null ||
      (/\.0\.0$/.test(out.status) && textCode[0] === out.status[0] && textCode !== out.status))
  ) {
    out.evidence.push(
      out.status === null
        ? 'enhanced code in the text part'
        : `enhanced code in the text part over ${out.status}`,
    );
    out.status = textCode;
  }
  // OpenSMTPD 6.8 reports an expired envelope (the queue gave up) as Action: delayed.
  if (out.action === 'delayed' && t.diagnostic !== null && GAVE_UP.test(t.diagnostic)) {
    out.action = 'failed';
    out.evidence.push(`failed, not delayed: the text says "${GAVE_UP.exec(t.diagnostic)?.[0] ?? ''}"`);
  }
  if (out.replyCode === null && t.replyCode !== null) out.replyCode = t.replyCode;
  if (out.remoteMta === null && t.remoteMta !== null) out.remoteMta = t.remoteMta;
  if (out.smtpStage === null && t.smtpStage !== null) {
    out.smtpStage = t.smtpStage;
    out.evidence.push(`SMTP stage ${t.smtpStage} from the human-readable part`);
  }
  return out;
}

/** The line of a text that names an address and the non-blank lines after it (up to 3). */
function textAround(text: string, address: string | null): string | null {
  if (address === null) return null;
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.toLowerCase().includes(address.toLowerCase()));
  if (at < 0) return null;
  const out: string[] = [];
  for (let i = at; i < lines.length && out.length < 4; i++) {
    if (lines[i]!.trim() === '') break;
    out.push(lines[i]!.trim());
  }
  const joined = out.join(' ');
  // Only worth it when it says more than the address.
  return joined.replace(/<?[^\s<>]+@[^\s<>]+>?:?/g, '').trim().length >= 8 ? joined : null;
}

function sameAddress(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && a.toLowerCase() === b.toLowerCase();
}

function empty(kind: BounceReading['kind'], format: string, detail: string): BounceReading {
  return {
    kind,
    format,
    recipients: [],
    feedback: null,
    envelopeId: null,
    returnedTexts: [],
    truncated: false,
    detail,
  };
}

function readRoot(root: MimePart, depth: number): BounceReading {
  const input = buildInput(root);
  const base = {
    feedback: null,
    envelopeId: null,
    returnedTexts: returnedTexts(root, input),
    truncated: input.truncated,
  };
  const cut = input.truncated ? ' (returned original truncated)' : '';

  const complaint = arf.read(input);
  if (complaint)
    return {
      ...base,
      kind: 'arf',
      format: 'arf',
      recipients: [],
      feedback: complaint.feedback ?? null,
      detail: complaint.detail + cut,
    };

  const dsn = rfc3464.read(input);
  const text = firstText(input);
  if (dsn && dsn.recipients.length > 0) {
    const textReadings = text?.result.recipients ?? [];
    const recipients = dsn.recipients.map((r) => {
      const match =
        textReadings.find(
          (t) => sameAddress(t.recipient, r.recipient) || sameAddress(t.recipient, r.originalRecipient),
        ) ?? (dsn.recipients.length === 1 && textReadings.length === 1 ? textReadings[0] : undefined);
      if (match) return fillFromText(r, match, text?.name ?? 'text');
      // A text part in a layout we do not know: the lines that name the recipient.
      const around = textAround(input.reportText, r.recipient);
      if (around === null) return r;
      return fillFromText(
        r,
        reading({ recipient: r.recipient, diagnostic: around, evidence: [] }),
        'lines naming the recipient',
      );
    });
    return {
      ...base,
      kind: 'dsn',
      format: 'rfc3464',
      recipients,
      envelopeId: dsn.envelopeId ?? null,
      detail: `${dsn.detail}${text ? `; text part read as ${text.name}` : ''}${cut}`,
    };
  }
  if (text) {
    return {
      ...base,
      kind: text.result.kind ?? 'dsn',
      format: text.name,
      recipients: text.result.recipients,
      feedback: text.result.feedback ?? null,
      envelopeId: dsn?.envelopeId ?? null,
      detail: `${text.result.detail ?? text.name}${dsn ? ' (its delivery-status part was empty)' : ''}${cut}`,
    };
  }
  const fallback = generic.read(input);
  if (dsn || fallback) {
    return {
      ...base,
      kind: 'dsn',
      format: dsn ? 'rfc3464' : (fallback?.format ?? 'generic'),
      recipients: dsn && !fallback ? [] : (fallback?.recipients ?? []),
      envelopeId: dsn?.envelopeId ?? null,
      detail: `${dsn ? `${dsn.detail}; ` : ''}${fallback?.detail ?? ''}${cut}`.trim(),
    };
  }

  const headers: Record<string, string> = {};
  for (const [n, v] of root.headers) if (headers[n] === undefined) headers[n] = v;
  if (isAutoReplyMessage(headers, { from: input.from, subject: input.subject, body: input.text }))
    return {
      ...base,
      kind: 'auto-reply',
      format: 'auto-reply',
      recipients: [],
      detail: 'auto-reply: says nothing about the address',
    };

  if (depth === 0) {
    for (const p of walk(root, false)) {
      if (!p.message || p.message.headers.length === 0) continue;
      const inner = readRoot(p.message, depth + 1);
      if (inner.kind === 'dsn' || inner.kind === 'arf')
        return {
          ...inner,
          recipients: inner.recipients.map((r) => ({
            ...r,
            evidence: [...r.evidence, 'report forwarded inside another message'],
          })),
          detail: `forwarded: ${inner.detail}`,
        };
    }
  }
  return {
    ...base,
    kind: 'other',
    format: 'none',
    recipients: [],
    detail: 'neither a delivery report, a complaint nor an auto-reply',
  };
}

/** Reads one raw message. Never throws: what cannot be read is kind 'unparseable'. */
export async function readBounce(raw: Buffer): Promise<BounceReading> {
  try {
    if (!Buffer.isBuffer(raw) || raw.length === 0) return empty('unparseable', 'none', 'empty message');
    const root = parseMime(raw);
    if (root.headers.length === 0) return empty('unparseable', 'none', 'not a message: no header fields');
    const read = readRoot(root, 0);
    if (read.kind !== 'dsn') return read;
    // The sender is one more signal, weaker than the report's own words.
    const from = decodeWords(header(root, 'from'));
    if (!bounceSignals({ from }).sender) return read;
    const note = `sent by a mail system (${from.replace(/\s+/g, ' ').trim().slice(0, 80)})`;
    return { ...read, recipients: read.recipients.map((r) => ({ ...r, evidence: [...r.evidence, note] })) };
  } catch (err) {
    return empty('unparseable', 'none', `not readable: ${err instanceof Error ? err.message : String(err)}`);
  }
}
