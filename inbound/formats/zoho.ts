// Zoho Mail (X-ZohoMail header): Exim-like preface, then one line per
// recipient "address Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 …",
// or for an expiry "[Status: Error, Address: <address>, ResponseCode 421, ,
// Host not reachable.]".
import { addressOf, answer, reading, type Recogniser } from './common';
import type { RecipientReading } from './types';

export const zoho: Recogniser = {
  name: 'zoho',
  read(input) {
    const text = input.reportText;
    if (input.head('x-zohomail') === null && !/ERROR_CODE :/.test(text)) return null;
    const readings: RecipientReading[] = [];
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      const coded = /^(\S+@\S+)\s+(.*ERROR_CODE :.*)$/.exec(line);
      const status = /^\[Status: [^,]*, Address: <([^<>]+)>,\s*(.*)\]\s*$/.exec(line);
      const m = coded ?? status;
      const a = m ? addressOf(m[1]) : null;
      if (!m || a === null) return;
      readings.push(
        reading({
          recipient: a,
          diagnostic: m[2]!.replace(/ResponseCode (\d{3})/, '$1'),
          evidence: [`zoho format, recipient line ${i + 1}`],
        }),
      );
    });
    return answer('zoho', readings);
  },
};
