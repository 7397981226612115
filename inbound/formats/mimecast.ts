// Mimecast: subject "[Postmaster] Email Delivery Failure"; lines starting
// "-- " carry either a failed address alone ("-- user@example.com") or an
// error text ("-- Recipient email address is possibly incorrect",
// "-- 5.4.1 Recipient address rejected: Access denied").
import { addressOf, answer, reading, type Recogniser } from './common';
import type { RecipientReading } from './types';

export const mimecast: Recogniser = {
  name: 'mimecast',
  read(input) {
    const named =
      /Email Delivery Failure/i.test(input.subject) ||
      /\.mimecast\.lan>/i.test(input.head('message-id') ?? '');
    if (!named) return null;
    const addrs: Array<[string, number]> = [];
    const texts: string[] = [];
    input.reportText.split('\n').forEach((line, i) => {
      const m = /^--\s+(\S.*)$/.exec(line.trim());
      if (!m) return;
      const a = /\s/.test(m[1]!) ? null : addressOf(m[1]);
      if (a !== null) addrs.push([a, i + 1]);
      else texts.push(m[1]!);
    });
    const readings: RecipientReading[] = addrs.map(([a, line]) =>
      reading({
        recipient: a,
        diagnostic: texts.join(' '),
        evidence: [`mimecast format, recipient line ${line}`],
      }),
    );
    return answer('mimecast', readings);
  },
};
