// The last resort for a message that reads as a bounce (a mail-system sender,
// or a bounce subject with bounce wording) in a layout no recogniser above knows:
// the recipients are X-Failed-Recipients, else addresses on lines that carry
// failure wording or an SMTP reply; failing both, one reading without a
// recipient (the pipeline then relies on VERP or the returned headers). The
// format is named after the sender's provider where we know it (docomo,
// SoftBank carry no format of their own that we could document).
import { bounceSignals } from '../../domain/auto-reply';
import {
  addressOf,
  failedRecipientsHeader,
  ownAddresses,
  fromDomain,
  reading,
  type BounceInput,
  type Recognised,
  type Recogniser,
} from './common';
import type { RecipientReading } from './types';

const PROVIDERS: ReadonlyArray<[string, RegExp]> = [
  ['docomo', /(?:^|\.)docomo\.ne\.jp$/],
  ['softbank', /(?:^|\.)(?:softbank\.ne\.jp|i\.softbank\.jp|vodafone\.ne\.jp|disney\.ne\.jp)$/],
  ['au-kddi', /(?:^|\.)(?:ezweb\.ne\.jp|au\.com)$/],
  ['aol', /(?:^|\.)aol\.com$/],
  ['icloud', /(?:^|\.)(?:icloud\.com|me\.com|mac\.com)$/],
  ['yandex', /(?:^|\.)yandex\.[a-z]+$/],
  ['mailru', /(?:^|\.)mail\.ru$/],
  ['gmx', /(?:^|\.)(?:gmx\.[a-z.]+|web\.de)$/],
  ['yahoo', /(?:^|\.)yahoo\.[a-z.]+$/],
  ['gmail', /(?:^|\.)(?:googlemail\.com|google\.com|gmail\.com)$/],
  ['outlook', /(?:^|\.)(?:outlook\.com|hotmail\.com|office365\.com)$/],
];

const FAILURE_LINE =
  /(?:\b[45]\d\d\b|\b[45]\.\d{1,3}\.\d{1,3}\b|unknown|not exist|no such|invalid|rejected|refused|denied|full|quota|disabled|unavailable|failed|could not|couldn't|cannot|unable|blocked|expired|timed? ?out|not found|宛先|不明|存在しません|エラー)/i;

export const generic: Recogniser = {
  name: 'generic',
  read(input: BounceInput): Recognised | null {
    // A person's mail may quote bounce wording; a generic reading needs a
    // mail-system sender, or a bounce subject together with bounce wording.
    const signs = bounceSignals({ from: input.from, subject: input.subject, body: input.reportText });
    if (!signs.sender && !(signs.subject && signs.wording)) return null;
    const domain = fromDomain(input);
    const format = PROVIDERS.find(([, re]) => re.test(domain))?.[0] ?? 'generic';
    const readings: RecipientReading[] = [];
    const lines = input.reportText.split('\n');
    const context = (i: number): string =>
      lines
        .slice(i, i + 4)
        .filter((l) => l.trim() !== '')
        .join(' ');
    const headerList = failedRecipientsHeader(input);
    for (const a of headerList) {
      const i = lines.findIndex((l) => l.toLowerCase().includes(a.toLowerCase()));
      readings.push(
        reading({
          recipient: a,
          diagnostic: i >= 0 ? context(i) : null,
          evidence: [`${format} (generic reading), X-Failed-Recipients`],
        }),
      );
    }
    if (readings.length === 0) {
      const own = ownAddresses(input);
      for (let i = 0; i < lines.length; i++) {
        for (const m of lines[i]!.slice(0, 2000).matchAll(
          /(?<![^\s<>()"':;,])([^\s<>()"':;,@]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24})/g,
        )) {
          const a = addressOf(m[1]);
          if (a === null || own.has(a.toLowerCase()) || /^(?:postmaster|mailer-daemon)@/i.test(a)) continue;
          if (readings.some((r) => r.recipient === a)) continue;
          const ctx = context(i);
          if (!FAILURE_LINE.test(ctx)) continue;
          readings.push(
            reading({
              recipient: a,
              diagnostic: ctx,
              evidence: [`${format} (generic reading), address on a failure line ${i + 1}`],
            }),
          );
        }
      }
    }
    if (readings.length === 0) {
      const i = lines.findIndex((l) => FAILURE_LINE.test(l));
      readings.push(
        reading({
          recipient: null,
          diagnostic: i >= 0 ? context(i) : input.subject,
          evidence: [`${format} (generic reading), bounce without a readable recipient`],
        }),
      );
    }
    return {
      kind: 'dsn',
      format,
      recipients: readings,
      detail: `bounce read generically (${format}): ${readings.length} reading(s)`,
    };
  },
};
