// HCL/IBM (Lotus) Domino: subject "DELIVERY FAILURE: …"; body "Your message
//   Subject: … was not delivered to:   address   because:   reason", e.g.
// "User x (x@example.com) not listed in Domino Directory".
import { addressOf, answer, reading, type Recogniser } from './common';
import type { RecipientReading } from './types';

export const domino: Recogniser = {
  name: 'domino',
  read(input) {
    const text = input.reportText;
    const lines = text.split('\n').map((l) => l.trim());
    const notDelivered = lines.findIndex((l) => /^was not delivered to:$/i.test(l));
    if (!/^DELIVERY[ _]FAILURE:/i.test(input.subject) && notDelivered < 0) return null;
    const readings: RecipientReading[] = [];
    // "was not delivered to:" / address lines / "because:" / reason lines, blank lines between.
    for (let i = notDelivered; i >= 0 && i < lines.length; i++) {
      if (!/^was not delivered to:$/i.test(lines[i]!)) continue;
      const addrs: string[] = [];
      let j = i + 1;
      for (; j < lines.length && !/^because:$/i.test(lines[j]!); j++) {
        const a = lines[j] === '' ? null : addressOf(lines[j]);
        if (a !== null) addrs.push(a);
      }
      const reason: string[] = [];
      for (j++; j < lines.length; j++) {
        if (lines[j] === '') {
          if (reason.length > 0) break;
          continue;
        }
        reason.push(lines[j]!);
      }
      for (const a of addrs)
        readings.push(
          reading({
            recipient: a,
            diagnostic: reason.join(' '),
            evidence: ['domino format, "was not delivered to … because"'],
          }),
        );
      i = j;
    }
    if (readings.length === 0) {
      // The reason is often in the subject alone.
      const s = /^DELIVERY[ _]FAILURE:\s*(.*)$/i.exec(input.subject)?.[1] ?? '';
      const a = addressOf(/\(([^()]+@[^()]+)\)/.exec(s)?.[1] ?? s);
      if (a !== null)
        readings.push(reading({ recipient: a, diagnostic: s, evidence: ['domino format, subject'] }));
    }
    return answer('domino', readings);
  },
};
