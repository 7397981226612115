// Courier MTA: "This is a delivery status notification from X, running the
// Courier mail server", then "UNDELIVERABLE MAIL" (or "DELAYED MAIL"), and per
// recipient "<address>:" followed by the remote host and the transcript
// (">>> RCPT TO:<…>", "<<< 550 …").
import { answer, blockReadings, recipientBlocks, smtpStageIn, type Recogniser } from './common';

const SIGNATURE = /running the Courier mail server|Courier mail server at/i;

export const courier: Recogniser = {
  name: 'courier',
  read(input) {
    if (!SIGNATURE.test(input.reportText) && !/Courier mail server/i.test(input.from)) return null;
    const delayed = /DELAYED MAIL/.test(input.reportText) && !/UNDELIVERABLE MAIL/.test(input.reportText);
    const blocks = recipientBlocks(input.reportText, {
      recipientLine: /^<([^<>\s]+@[^<>\s]+)>:\s*(.*)$/,
      stopAtBlank: false,
      start: /UNDELIVERABLE MAIL|DELAYED MAIL|cannot be delivered|has not been delivered/i,
      stop: /^-{10,}\s*$/,
    });
    return answer(
      'courier',
      blockReadings('courier', blocks, (b) => {
        const cmd = /^>>>\s*(.*)$/m.exec(b.text)?.[1] ?? null;
        const replies = [...b.text.matchAll(/^<<<\s*(.*)$/gm)].map((m) => m[1]).join(' ');
        return {
          action: delayed ? 'delayed' : undefined,
          diagnostic: replies !== '' ? replies : b.text,
          smtpStage: smtpStageIn(cmd),
          remoteMta: /^\s*(\S+\.\S+)\s*\[[^\]]+\]:?\s*$/m.exec(b.text)?.[1]?.toLowerCase() ?? null,
        };
      }),
    );
  },
};
