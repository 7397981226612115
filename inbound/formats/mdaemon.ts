// MDaemon: "The attached message had PERMANENT fatal delivery errors!" and a
// session transcript ("--- Session Transcript ---" … "--- End Transcript ---")
// whose lines carry "--> RCPT To:<address>" (our command) and "<-- 550 …"
// (the remote's reply).
import { addressOf, answer, reading, remoteMtaIn, smtpStageIn, type Recogniser } from './common';
import type { RecipientReading } from './types';

export const mdaemon: Recogniser = {
  name: 'mdaemon',
  read(input) {
    const text = input.reportText;
    const named =
      /MDaemon/i.test(input.head('x-mdaemon-deliver-to') ?? '') ||
      input.received.some((r) => /MDaemon/i.test(r));
    if (!/had PERMANENT fatal delivery errors|--- Session Transcript ---/i.test(text) && !named) return null;
    const delayed =
      /had TRANSIENT|is still in the queue|will continue trying/i.test(text) && !/PERMANENT/.test(text);
    const lines = text.split('\n');
    const readings: RecipientReading[] = [];
    let lastCommand: string | null = null;
    let lastRcpt: string | null = null;
    for (const line of lines) {
      const out = /-->\s*(.*)$/.exec(line);
      if (out) {
        lastCommand = out[1]!;
        const r = /RCPT TO:\s*<([^<>]+)>/i.exec(lastCommand);
        if (r) lastRcpt = addressOf(r[1]);
        continue;
      }
      const reply = /<--\s*([45]\d\d[ -].*)$/.exec(line);
      if (reply && lastRcpt !== null && !readings.some((x) => x.recipient === lastRcpt)) {
        readings.push(
          reading({
            recipient: lastRcpt,
            action: delayed ? 'delayed' : undefined,
            diagnostic: reply[1]!,
            smtpStage: smtpStageIn(lastCommand),
            remoteMta: remoteMtaIn(text),
            evidence: ['mdaemon format, session transcript'],
          }),
        );
      }
    }
    return answer('mdaemon', readings);
  },
};
