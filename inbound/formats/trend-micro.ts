// Trend Micro InterScan Messaging Security: from "InterScan MSS", subject
// "Mail could not be delivered"; transcript lines "Sent <<< RCPT TO:<X>" and
// "Received >>> 550 5.1.1 …".
import { addressOf, answer, reading, smtpStageIn, type Recogniser } from './common';
import type { RecipientReading } from './types';

export const trendMicro: Recogniser = {
  name: 'trend-micro',
  read(input) {
    const named = /InterScan/i.test(input.from) || input.received.some((r) => /InterScan/i.test(r));
    if (
      !named &&
      !/^(?:Mail could not be delivered|メッセージを配信できません|メール配信に失敗しました)/.test(
        input.subject,
      )
    )
      return null;
    const readings: RecipientReading[] = [];
    let command: string | null = null;
    let rcpt: string | null = null;
    for (const line of input.reportText.split('\n')) {
      const sent = /Sent\s*<<<\s*(.*)$/.exec(line) ?? /\s>>>\s*([A-Z]{4}.*)$/.exec(line);
      if (sent) {
        command = sent[1]!;
        const r = /<([^<>]+@[^<>]+)>/.exec(command);
        if (r && /RCPT/i.test(command)) rcpt = addressOf(r[1]);
        continue;
      }
      const got = /Received\s*>>>\s*(\d{3}.*)$/.exec(line) ?? /\s<<<\s*(\d{3}.*)$/.exec(line);
      if (got) {
        const a = rcpt ?? addressOf(/<([^<>]+@[^<>]+)>/.exec(got[1]!)?.[1]);
        if (a !== null && !readings.some((x) => x.recipient === a))
          readings.push(
            reading({
              recipient: a,
              diagnostic: got[1]!,
              smtpStage: smtpStageIn(command),
              evidence: ['trend-micro format, Sent/Received transcript'],
            }),
          );
      }
    }
    return answer('trend-micro', readings);
  },
};
