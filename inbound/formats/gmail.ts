// Gmail and Google Workspace ("Mail Delivery Subsystem
// <mailer-daemon@googlemail.com>"). Current wording: "** Address not found **
// … Your message wasn't delivered to X because …" and "The response from the
// remote server was:"; older wording: "Delivery to the following recipient
// failed permanently:" with the address indented below and "The error that
// the other server returned was:". Delays: "has been delayed", "** Message not
// delivered yet **", "There was a temporary problem delivering your message".
import { addressOf, answer, failedRecipientsHeader, reading, type Recogniser } from './common';
import type { RecipientReading } from './types';

const SIGNATURE =
  /\*\* (?:Address not found|Message not delivered|Message blocked|Domain not found|Message not delivered yet|Mailbox full|Message rejected)[^*\n]*\*\*|Your message wasn't delivered to|Delivery to the following recipients? (?:failed permanently|has been delayed|failed temporarily)|Google tried to deliver your message|There was a temporary problem delivering your message to/i;

function serverResponse(text: string): string | null {
  const m =
    /(?:The response (?:from the remote server )?was|The error that the other server returned was):?\s*\n+([\s\S]*?)(?:\n\s*\n|\n-{3,}|$)/i.exec(
      text,
    );
  return m?.[1]?.trim() || null;
}

export const gmail: Recogniser = {
  name: 'gmail',
  read(input) {
    const text = input.reportText;
    if (!SIGNATURE.test(text)) return null;
    const delayed =
      /has been delayed|Message not delivered yet|temporary problem delivering|will (?:retry|keep trying)|Delivery incomplete/i.test(
        text,
      );
    const addresses: Array<[string, string]> = [];
    const push = (a: string | null, how: string): void => {
      if (a !== null && !addresses.some(([x]) => x === a)) addresses.push([a, how]);
    };
    for (const m of text.matchAll(
      /(?:wasn't delivered to|temporary problem delivering your message to|couldn't be delivered to)\s+(\S+@\S+?)[.,]?\s/gi,
    ))
      push(addressOf(m[1]), 'recipient in the headline sentence');
    const lines = text.split('\n');
    const listAt = lines.findIndex((l) =>
      /Delivery to the following recipients? (?:failed permanently|has been delayed|failed temporarily):/i.test(
        l,
      ),
    );
    for (let i = listAt + 1; listAt >= 0 && i < lines.length; i++) {
      const line = lines[i]!;
      if (line.trim() === '') {
        if (i > listAt + 1) break;
        continue;
      }
      if (!/^[ \t]+\S+@\S+$/.test(line)) break;
      push(addressOf(line.trim()), 'recipient in the list');
    }
    if (addresses.length === 0) for (const a of failedRecipientsHeader(input)) push(a, 'X-Failed-Recipients');
    const headline = /\*\* ([^*\n]+) \*\*/.exec(text)?.[1] ?? null;
    const response = serverResponse(text);
    const explanation =
      /(?:wasn't delivered to \S+ because|Google tried to deliver your message, but)([^\n]*(?:\n[^\n]+)*)/i.exec(
        text,
      )?.[0] ?? null;
    const diagnostic = [headline, response ?? explanation].filter((x) => x).join(': ');
    const readings: RecipientReading[] = addresses.map(([a, how]) =>
      reading({
        recipient: a,
        action: delayed ? 'delayed' : undefined,
        diagnostic,
        evidence: ['gmail format, ' + how, ...(response !== null ? ['remote server response quoted'] : [])],
      }),
    );
    return answer('gmail', readings);
  },
};
