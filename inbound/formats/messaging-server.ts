// Oracle (Sun Java System / iPlanet) Messaging Server: "This report relates to
// a message you sent with the following header fields:", then per recipient
// "Recipient address: X", "Original address: X", "Reason: …",
// "Diagnostic code: smtp;550 …", "Remote system: dns;mx.example.com (…)".
import { addressOf, answer, reading, type Recogniser } from './common';
import type { RecipientReading } from './types';

export const messagingServer: Recogniser = {
  name: 'messaging-server',
  read(input) {
    const text = input.reportText;
    if (
      !/This report relates to a message you sent|Your message cannot be delivered to the following recipients/i.test(
        text,
      )
    )
      return null;
    if (!/Recipient address:/i.test(text)) return null;
    const readings: RecipientReading[] = [];
    const chunks = text.split(/^\s*Recipient address:\s*/im).slice(1);
    for (const chunk of chunks) {
      const lines = chunk.split('\n');
      const a = addressOf(lines[0]);
      const field = (name: string): string | null =>
        new RegExp(`^\\s*${name}:\\s*(.*)$`, 'im').exec(chunk)?.[1]?.trim() ?? null;
      const diag = field('Diagnostic code')?.replace(/^[a-z-]+;\s*/i, '') ?? null;
      const reason = field('Reason');
      const remote =
        field('Remote system')
          ?.replace(/^dns;\s*/i, '')
          .split(/[\s(]/)[0] ?? null;
      readings.push(
        reading({
          recipient: a,
          originalRecipient: addressOf(field('Original address')),
          diagnostic: [diag, reason].filter((x) => x).join(' | '),
          remoteMta: remote ? remote.toLowerCase() : null,
          evidence: ['messaging-server format, "Recipient address:" block'],
        }),
      );
    }
    return answer('messaging-server', readings);
  },
};
