// TEMPORARY (helper HE2): the minimal reading the pipeline had before issue 16, RFC 3464 and ARF
// parts only, but with every recipient. Helper HE1's registry of format recognisers replaces this
// file at merge, with the same signature.
import { simpleParser, type ParsedMail } from 'mailparser';
import { isAutoReply } from '../../domain/auto-reply';
import { parseDeliveryStatus, parseFeedbackReport } from '../../domain/report-fields';
import type { BounceReading, RecipientAction, RecipientReading } from './types';

const ACTIONS = new Set<string>(['failed', 'delayed', 'delivered', 'relayed', 'expanded']);

function empty(kind: BounceReading['kind'], detail: string, truncated = false): BounceReading {
  return {
    kind,
    format: 'none',
    recipients: [],
    feedback: null,
    envelopeId: null,
    returnedTexts: [],
    truncated,
    detail,
  };
}

function plainHeaders(mail: ParsedMail): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of mail.headerLines ?? []) {
    const colon = line.line.indexOf(':');
    if (colon > 0 && out[line.key] === undefined) out[line.key] = line.line.slice(colon + 1).trim();
  }
  return out;
}

function part(mail: ParsedMail, ...types: string[]): string | null {
  const a = mail.attachments.find((x) => types.includes(x.contentType.toLowerCase()));
  return a ? a.content.toString('utf8') : null;
}

function isTruncated(mail: ParsedMail, raw: string): boolean {
  const ct = mail.headers.get('content-type') as
    { value?: string; params?: Record<string, string> } | undefined;
  if (!ct || typeof ct !== 'object' || !ct.value?.toLowerCase().startsWith('multipart/')) return false;
  const boundary = ct.params?.boundary;
  return typeof boundary === 'string' && boundary !== '' && !raw.includes(`--${boundary}--`);
}

export async function readBounce(raw: Buffer): Promise<BounceReading> {
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, { keepDeliveryStatus: true } as Parameters<typeof simpleParser>[1]);
  } catch (err) {
    return empty(
      'unparseable',
      `not a parseable message: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const rawText = raw.toString('utf8');
  if (isTruncated(mail, rawText))
    return empty('unparseable', 'MIME message is truncated (no closing boundary)', true);
  if (isAutoReply(plainHeaders(mail), mail.subject ?? ''))
    return empty('auto-reply', 'auto-reply: says nothing about the address');
  const headerEnd = rawText.search(/\r?\n\r?\n/);
  const returnedTexts = [
    part(mail, 'message/rfc822', 'text/rfc822-headers', 'message/global', 'message/global-headers'),
    headerEnd < 0 ? null : rawText.slice(headerEnd),
  ].filter((t): t is string => t !== null);

  const dsnText = part(mail, 'message/delivery-status', 'message/global-delivery-status');
  if (dsnText !== null) {
    const dsn = parseDeliveryStatus(dsnText);
    const recipients: RecipientReading[] = [];
    dsn.recipients.forEach((r, i) => {
      if (r.action === null || !ACTIONS.has(r.action)) return;
      const reply = r.diagnosticCode === null ? null : /^\s*([245]\d\d)(?![\d.])/.exec(r.diagnosticCode);
      recipients.push({
        recipient: r.finalRecipient ?? r.originalRecipient,
        originalRecipient: r.originalRecipient,
        action: r.action as RecipientAction,
        status: r.status,
        diagnostic: r.diagnosticCode,
        replyCode: reply?.[1] === undefined ? null : Number(reply[1]),
        remoteMta: r.remoteMta,
        smtpStage: null,
        evidence: [`RFC 3464 delivery-status, recipient block ${i + 1}`],
      });
    });
    return {
      kind: 'dsn',
      format: 'rfc3464',
      recipients,
      feedback: null,
      envelopeId: dsn.originalEnvelopeId,
      returnedTexts,
      truncated: false,
      detail:
        recipients.length === 0
          ? 'delivery-status part without a recipient action'
          : `RFC 3464 report, ${recipients.length} recipient(s)`,
    };
  }
  const arfText = part(mail, 'message/feedback-report');
  if (arfText !== null) {
    const arf = parseFeedbackReport(arfText);
    return {
      kind: 'arf',
      format: 'arf',
      recipients: [],
      feedback: {
        feedbackType: arf.feedbackType,
        originalMailFrom: arf.originalMailFrom,
        originalRcptTo: arf.originalRcptTo,
      },
      envelopeId: null,
      returnedTexts,
      truncated: false,
      detail: 'ARF feedback report',
    };
  }
  return { ...empty('other', 'no delivery-status or feedback-report part'), returnedTexts };
}
