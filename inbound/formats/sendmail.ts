// Sendmail: "----- The following addresses had permanent fatal errors -----"
// (or "transient non-fatal errors" for a delay), each address on its own line
// with "(reason: 550 5.1.1 …)" below, then "----- Transcript of session
// follows -----" where ">>> RCPT To:<…>" is our command and "<<< 550 …" the
// remote's reply, after "... while talking to mx.example.com.:".
import { answer, reading, recipientBlocks, remoteMtaIn, smtpStageIn, type Recogniser } from './common';
import type { RecipientReading } from './types';

const SIGNATURE =
  /-{3,} ?The following addresses had (?:permanent fatal|transient non-fatal) errors|-{3,} ?Transcript of session follows/i;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export const sendmail: Recogniser = {
  name: 'sendmail',
  read(input) {
    const text = input.reportText;
    if (!SIGNATURE.test(text)) return null;
    const delayed = /transient non-fatal errors/i.test(text) && !/permanent fatal errors/i.test(text);
    const blocks = recipientBlocks(text, {
      start: /The following addresses had (?:permanent fatal|transient non-fatal) errors/i,
      stop: /-{3,} ?Transcript of session follows/i,
      recipientLine: /^\s*<?([^\s<>()]+@[^\s<>()]+?)>?\s*(?:\(.*\))?\s*$/,
    });
    const tIndex = text.search(/-{3,} ?Transcript of session follows/i);
    const transcript = tIndex < 0 ? '' : text.slice(tIndex);
    const tLines = transcript.split('\n');
    const readings: RecipientReading[] = [];
    for (const b of blocks) {
      const reason = /\(reason:\s*([\s\S]*?)\)\s*$/m.exec(b.text)?.[1] ?? null;
      // The reply to this recipient in the transcript, and the command it answered.
      const addr = new RegExp(`<?${escapeRegExp(b.address)}>?`, 'i');
      let replyLine: string | null = null;
      let command: string | null = null;
      let lastCommand: string | null = null;
      for (const line of tLines) {
        if (/^>>>/.test(line)) lastCommand = line;
        if (/^(?:<<<\s*)?[45]\d\d[ -]/.test(line) && addr.test(line)) {
          replyLine = line.replace(/^<<<\s*/, '');
          command = lastCommand;
          break;
        }
      }
      if (replyLine === null) {
        // "<addr>... Deferred: Connection timed out with mx." names the recipient without a code.
        const named = tLines.find((l) => addr.test(l) && /\.\.\.\s*\S/.test(l));
        if (named !== undefined) replyLine = named.replace(/^<?[^\s<>]+>?\.\.\.\s*/, '');
      }
      if (replyLine === null) {
        const first = tLines.findIndex((l) => /^<<<\s*[45]\d\d/.test(l));
        if (first >= 0 && blocks.length === 1) {
          replyLine = tLines[first]!.replace(/^<<<\s*/, '');
          command = [...tLines.slice(0, first)].reverse().find((l) => /^>>>/.test(l)) ?? null;
        }
      }
      const diagnostic = reason ?? replyLine ?? b.text;
      readings.push(
        reading({
          recipient: b.address,
          action: delayed ? 'delayed' : undefined,
          diagnostic:
            reason !== null && replyLine !== null && !reason.includes(replyLine)
              ? `${reason} ${replyLine}`
              : diagnostic,
          remoteMta: remoteMtaIn(transcript),
          smtpStage: smtpStageIn(command) ?? smtpStageIn(diagnostic),
          evidence: [
            `sendmail format, recipient line ${b.line}`,
            ...(replyLine !== null ? ['reply in the session transcript'] : []),
          ],
        }),
      );
    }
    return answer('sendmail', readings);
  },
};
