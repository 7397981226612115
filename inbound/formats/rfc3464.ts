// RFC 3464 delivery status notifications (message/delivery-status) and their
// RFC 6533 UTF-8 form (message/global-delivery-status), read leniently: every
// recipient block, non-standard Action values, a missing Action inferred from
// the Status class, an empty part (recipients then come from the text), a
// report nested in a forwarded message, and DSN fields pasted into a text body.
import { parseDeliveryStatus, type DsnRecipient } from '../../domain/report-fields';
import { enhancedCodeIn, reading, type BounceInput, type Recognised, type Recogniser } from './common';
import { partText, walk, type MimePart } from './mime';
import type { RecipientAction, RecipientReading } from './types';

const DSN_TYPES = new Set([
  'message/delivery-status',
  'message/global-delivery-status',
  'text/delivery-status',
  'message/x-delivery-status',
]);

function dsnParts(root: MimePart, intoMessages: boolean): MimePart[] {
  return walk(root, intoMessages).filter((p) => DSN_TYPES.has(p.contentType));
}

function actionOf(r: DsnRecipient, evidence: string[]): RecipientAction {
  if (r.action !== null) {
    evidence.push('Action field');
    return r.action;
  }
  const cls = r.status?.[0];
  if (cls !== undefined) evidence.push('action from the Status class (no readable Action)');
  if (cls === '4') return 'delayed';
  if (cls === '2') return 'delivered';
  return 'failed';
}

function recipientReading(r: DsnRecipient, where: string): RecipientReading {
  const evidence = [where];
  const action = actionOf(r, evidence);
  let status = r.status;
  if (status !== null) evidence.push('Status field');
  // A catch-all Status (5.0.0) says less than the code in the remote's reply.
  const inText = enhancedCodeIn(r.diagnosticCode);
  if (inText !== null && (status === null || (/\.0\.0$/.test(status) && inText[0] === status[0]))) {
    if (status !== inText) {
      evidence.push(
        status === null
          ? 'enhanced code in Diagnostic-Code'
          : `enhanced code in Diagnostic-Code over Status ${status}`,
      );
      status = inText;
    }
  }
  return reading({
    recipient: r.finalRecipient ?? r.originalRecipient,
    originalRecipient: r.originalRecipient,
    action,
    status,
    diagnostic: r.diagnosticCode,
    remoteMta: r.remoteMta,
    evidence,
  });
}

/** DSN fields written into a text body (a DSN forwarded as text, or a report without its part). */
function fieldsInText(text: string): string | null {
  if (!/^Final-Recipient[ \t]*:/im.test(text)) return null;
  if (!/^(?:Action|Status)[ \t]*:/im.test(text)) return null;
  const start = text.search(/^(?:Reporting-MTA|Original-Envelope-Id|Final-Recipient)[ \t]*:/im);
  return text.slice(start);
}

/** The field groups of a cut delivery-status body that a blank line closed. */
function completeGroups(text: string): string {
  const closed = text.replace(/\r\n/g, '\n').search(/\n[ \t]*\n(?![\s\S]*\n[ \t]*\n)/);
  if (/\n[ \t]*\n\s*$/.test(text.replace(/\r\n/g, '\n'))) return text;
  return closed < 0 ? '' : text.replace(/\r\n/g, '\n').slice(0, closed);
}

export const rfc3464: Recogniser = {
  name: 'rfc3464',
  read(input: BounceInput): Recognised | null {
    let parts = dsnParts(input.root, false);
    let where = 'delivery-status part';
    if (parts.length === 0) {
      parts = dsnParts(input.root, true);
      where = 'delivery-status part nested in an enclosed message';
    }
    // A delivery-status part the message ended in: its last field group may be cut short (a recipient
    // without its Status or Diagnostic-Code) and is read only when a blank line closed it.
    let bodies = parts.map((p) => (p.cut === true ? completeGroups(partText(p)) : partText(p)));
    if (bodies.length === 0) {
      const inText = fieldsInText(input.text);
      if (inText === null) return null;
      bodies = [inText];
      where = 'DSN fields in the text';
    }
    const recipients: RecipientReading[] = [];
    let envelopeId: string | null = null;
    for (const body of bodies) {
      const ds = parseDeliveryStatus(body);
      envelopeId ??= ds.originalEnvelopeId;
      for (const r of ds.recipients) {
        if (
          r.finalRecipient === null &&
          r.originalRecipient === null &&
          r.status === null &&
          r.action === null
        )
          continue;
        recipients.push(recipientReading(r, where));
      }
    }
    return {
      kind: 'dsn',
      recipients,
      envelopeId,
      detail:
        recipients.length === 0
          ? `RFC 3464 report with an empty ${where}`
          : `RFC 3464 report: ${recipients.length} recipient(s) in the ${where}`,
    };
  },
};
