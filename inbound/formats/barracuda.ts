// Barracuda Spam Firewall: subject "**Message you sent blocked by our bulk
// email filter**"; body "Your message to: X was blocked by our Spam Firewall",
// a "Reason:" line, and often DSN fields pasted in the text.
import { parseDeliveryStatus } from '../../domain/report-fields';
import { addressOf, answer, reading, type Recogniser } from './common';
import type { RecipientReading } from './types';

export const barracuda: Recogniser = {
  name: 'barracuda',
  read(input) {
    const text = input.reportText;
    if (
      !/our (?:bulk )?email filter|Barracuda|blocked by our Spam Firewall/i.test(input.subject + '\n' + text)
    )
      return null;
    const readings: RecipientReading[] = [];
    const ds = parseDeliveryStatus(text.slice(Math.max(0, text.search(/^Final-Recipient:/im))));
    if (/^Final-Recipient:/im.test(text))
      for (const r of ds.recipients)
        readings.push(
          reading({
            recipient: r.finalRecipient,
            status: r.status,
            diagnostic: r.diagnosticCode,
            remoteMta: r.remoteMta,
            evidence: ['barracuda format, DSN fields in the text'],
          }),
        );
    if (readings.length === 0) {
      const a = addressOf(/Your message to:\s*(\S+)/i.exec(text)?.[1]);
      const reason =
        /^\s*Reason:\s*(.*)$/im.exec(text)?.[1] ?? /was blocked by[^\n]*/i.exec(text)?.[0] ?? null;
      if (a !== null)
        readings.push(
          reading({ recipient: a, diagnostic: reason, evidence: ['barracuda format, "Your message to:"'] }),
        );
    }
    return answer('barracuda', readings);
  },
};
