// au by KDDI (ezweb.ne.jp, au.com). Two shapes:
// - EZweb: from Postmaster@ezweb.ne.jp / au.com, subject "Mail System Error -
//   Returned Mail"; a headline ("The user(s) account is disabled.", "The
//   user(s) account is temporarily over quota.", "Each of the following
//   recipients was rejected by a remote mail server.") then "<address>: text"
//   or "Recipient: <address>" with ">>> RCPT TO" / "<<< 550 …".
// - KDDI relays: "Your mail sent on: …" then "Could not be delivered to:
//   <address>" and an indented reason ("As their mailbox is full.").
import { addressOf, answer, reading, smtpStageIn, type Recogniser } from './common';
import type { RecipientReading } from './types';

const SENDER = /ezweb\.ne\.jp|(?:^|[@.])au\.com|dion\.ne\.jp|auone-net\.jp/i;
const HEADLINE =
  /(The user\(s\) account is [^\n.]*\.|Each of the following recipients was rejected by a remote\s+mail server\.?|Your message was not delivered within [^\n]*)/i;

export const auKddi: Recogniser = {
  name: 'au-kddi',
  read(input) {
    const text = input.reportText;
    const bySender =
      SENDER.test(input.from) || input.received.some((r) => /ezweb\.ne\.jp|\.au\.com \(/.test(r));
    if (!bySender && !/Could not be delivered to: </.test(text)) return null;
    const headline = HEADLINE.exec(text)?.[1]?.replace(/\s+/g, ' ') ?? null;
    const readings: RecipientReading[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const kddi = /Could not be delivered to:\s*<([^<>]+)>/.exec(line);
      const ez = /^<([^<>\s]+@[^<>\s]+)>:?\s*(.*)$/.exec(line) ?? /^\s+Recipient:\s*<([^<>]+)>/.exec(line);
      const m = kddi ?? ez;
      if (!m) continue;
      const a = addressOf(m[1]);
      if (a === null) continue;
      const follow: string[] = m[2] ? [m[2]] : [];
      for (
        let j = i + 1;
        j < lines.length && /^\s+\S/.test(lines[j]!) && !/Recipient:|Could not be delivered/.test(lines[j]!);
        j++
      )
        follow.push(lines[j]!.trim());
      const command = follow.find((l) => l.startsWith('>>>')) ?? null;
      const replies = follow.filter((l) => !l.startsWith('>>>')).map((l) => l.replace(/^<<<\s*/, ''));
      readings.push(
        reading({
          recipient: a,
          diagnostic: [headline, ...replies].filter((x) => x).join(' '),
          smtpStage: smtpStageIn(command) ?? smtpStageIn(follow.join(' ')),
          evidence: [`au-kddi format, recipient line ${i + 1}`],
        }),
      );
    }
    return answer('au-kddi', readings);
  },
};
