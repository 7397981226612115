// Amazon SES. Two shapes reach a bounce mailbox: SES's own bounce mail (from
// MAILER-DAEMON@amazonses.com, "An error occurred while trying to deliver the
// mail to the following recipients:" then the addresses; a DSN part usually
// comes with it and is read first), and an SES notification forwarded by mail
// (the JSON of an SNS "notificationType": "Bounce" or "Complaint").
import {
  addressOf,
  answer,
  fromDomain,
  reading,
  type BounceInput,
  type Recognised,
  type Recogniser,
} from './common';
import type { RecipientReading } from './types';

interface SesRecipient {
  emailAddress?: string;
  action?: string;
  status?: string;
  diagnosticCode?: string;
}

interface SesNotification {
  notificationType?: string;
  eventType?: string;
  bounce?: {
    bounceType?: string;
    bounceSubType?: string;
    bouncedRecipients?: SesRecipient[];
    remoteMtaIp?: string;
  };
  complaint?: { complainedRecipients?: SesRecipient[]; complaintFeedbackType?: string };
  mail?: { source?: string; messageId?: string };
}

function jsonIn(text: string): SesNotification | null {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start || !/"(?:notificationType|eventType)"/.test(text)) return null;
  try {
    let parsed: unknown = JSON.parse(text.slice(start, end + 1));
    // An SNS envelope carries the notification as a string in "Message".
    if (parsed && typeof parsed === 'object' && typeof (parsed as { Message?: unknown }).Message === 'string')
      parsed = JSON.parse((parsed as { Message: string }).Message);
    return parsed && typeof parsed === 'object' ? (parsed as SesNotification) : null;
  } catch {
    return null;
  }
}

function fromJson(n: SesNotification): Recognised | null {
  const type = (n.notificationType ?? n.eventType ?? '').toLowerCase();
  if (type === 'complaint') {
    const rcpts = (n.complaint?.complainedRecipients ?? [])
      .map((r) => addressOf(r.emailAddress))
      .filter((a): a is string => a !== null);
    return {
      kind: 'arf',
      format: 'amazon-ses',
      recipients: [],
      feedback: {
        feedbackType: n.complaint?.complaintFeedbackType?.toLowerCase() ?? 'abuse',
        originalMailFrom: addressOf(n.mail?.source),
        originalRcptTo: rcpts,
      },
      detail: 'Amazon SES complaint notification',
    };
  }
  if (type !== 'bounce') return null;
  const transient = (n.bounce?.bounceType ?? '').toLowerCase() === 'transient';
  const readings: RecipientReading[] = (n.bounce?.bouncedRecipients ?? []).map((r, i) =>
    reading({
      recipient: addressOf(r.emailAddress),
      action: transient ? 'delayed' : 'failed',
      status: r.status && /^[245]\.\d+\.\d+$/.test(r.status) ? r.status : null,
      diagnostic: r.diagnosticCode ?? `${n.bounce?.bounceType ?? ''} ${n.bounce?.bounceSubType ?? ''}`,
      evidence: [
        `amazon-ses notification JSON, bouncedRecipients[${i}]`,
        `bounceType ${n.bounce?.bounceType ?? '?'}`,
      ],
    }),
  );
  return answer('amazon-ses', readings);
}

export const amazonSes: Recogniser = {
  name: 'amazon-ses',
  read(input: BounceInput) {
    const json = jsonIn(input.text);
    if (json) return fromJson(json);
    if (!/amazonses\.com$/.test(fromDomain(input))) return null;
    const lines = input.reportText.split('\n');
    const at = lines.findIndex((l) =>
      /An error occurred while trying to deliver the mail to the following recipients/i.test(l),
    );
    const addrs: string[] = [];
    for (let i = at + 1; at >= 0 && i < lines.length; i++) {
      const a = /^\s*<?([^\s<>]+@[^\s<>]+?)>?\s*$/.test(lines[i]!) ? addressOf(lines[i]) : null;
      if (a === null) {
        if (addrs.length > 0) break;
        continue;
      }
      addrs.push(a);
    }
    return answer(
      'amazon-ses',
      addrs.map((a) =>
        reading({ recipient: a, diagnostic: null, evidence: ['amazon-ses format, recipient list'] }),
      ),
    );
  },
};
