// Outlook.com, Exchange and Office 365 ("Undeliverable: <subject>").
// - Office 365: "Your message to X couldn't be delivered." and, under
//   "Diagnostic information for administrators:", the address on its own line
//   followed by "Remote Server returned '550 5.1.10 RESOLVER.ADR…'".
// - Exchange 2007-2016: "Delivery has failed to these recipients or groups:"
//   then the address, an explanation, and "#550 5.1.1 RESOLVER… ##" below.
// - Exchange 2003: "The following recipient(s) cannot be reached:" then
//   "      X on <date>" and "<mx.example.com #5.1.1 smtp;550 5.1.1 …>".
// Delays: "Delivery has been delayed to these recipients or groups".
import { addressOf, answer, reading, type Recogniser } from './common';
import type { RecipientReading } from './types';

const SIGNATURE =
  /Delivery (?:has failed|has been delayed|is delayed) to these recipients or (?:groups|distribution lists)|Your message to \S+ couldn't be delivered|The following recipient\(s\) (?:cannot|could not) be reached|Your message did not reach some or all of the intended recipients|Diagnostic information for administrators|Remote Server returned '/i;

interface Facts {
  remote?: string;
  explanation?: string;
  hash?: string;
  receiving?: string;
}

export const outlook: Recogniser = {
  name: 'outlook',
  read(input) {
    const text = input.reportText;
    if (!SIGNATURE.test(text) && !/^Undeliverable:/i.test(input.subject)) return null;
    if (!SIGNATURE.test(text) && !/Remote Server returned|#\d\.\d\.\d/i.test(text)) return null;
    const delayed = /Delivery has been delayed|^Delayed:|hasn't been delivered yet|will keep trying/im.test(
      text + '\n' + input.subject,
    );
    const facts = new Map<string, Facts>();
    const order: string[] = [];
    const get = (a: string): Facts => {
      if (!facts.has(a)) {
        facts.set(a, {});
        order.push(a);
      }
      return facts.get(a)!;
    };
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      const headline = /^Your message to (\S+@\S+?) couldn't be delivered/i.exec(line);
      if (headline) {
        const f = get(addressOf(headline[1])!);
        const next = lines.slice(i + 1, i + 6).find((l) => l.trim() !== '');
        if (next && !f.explanation) f.explanation = next.trim();
        continue;
      }
      // An address alone on its line (optionally "addr (addr)", "addr on <date>", "addr<mailto:addr>").
      const alone = /^<?([^\s<>()]+@[^\s<>()]+?)>?(?:\s*\(([^)]*)\)|<mailto:[^>]*>|\s+on\s+.+)?\s*$/.exec(
        line,
      );
      if (!alone) continue;
      const a = addressOf(alone[1]);
      if (a === null) continue;
      const f = get(a);
      const follow: string[] = [];
      for (let j = i + 1; j < lines.length && follow.length < 8; j++) {
        const l = lines[j]!.trim();
        if (l === '') {
          if (follow.length > 0) break;
          continue;
        }
        if (/^<?[^\s<>()]+@[^\s<>()]+>?(?:\s*\([^)]*\))?$/.test(l)) break;
        follow.push(l);
      }
      const body = follow.join(' ');
      const remote = /Remote Server(?: at [^\n]*?)? returned '([^']*)'/i.exec(body)?.[1];
      const hash =
        /#([245]\d\d [^#]*?)\s*##/.exec(body)?.[1] ?? /<([^<>]*#[245]\.\d+\.\d+[^<>]*)>/.exec(body)?.[1];
      if (remote) f.remote = remote;
      if (hash) f.hash = hash;
      const prose = follow.filter((l) => !/^(?:Subject|Sent|To|From):/i.test(l)).join(' ');
      if (!remote && !hash && prose && !f.explanation) f.explanation = prose;
    }
    const receiving = /Receiving server:\s*(\S+)/i.exec(text)?.[1];
    const readings: RecipientReading[] = order.map((a) => {
      const f = facts.get(a)!;
      const diagnostic = [f.remote ?? f.hash, f.explanation].filter((x) => x).join(' | ');
      return reading({
        recipient: a,
        action: delayed ? 'delayed' : undefined,
        diagnostic,
        remoteMta: receiving ? receiving.replace(/\.$/, '').toLowerCase() : undefined,
        evidence: [
          'outlook format, recipient in the report',
          ...(f.remote ? ["Remote Server returned '…'"] : []),
          ...(f.hash ? ['Exchange #code'] : []),
        ],
      });
    });
    return answer('outlook', readings);
  },
};
