// DragonFly Mail Agent (dma): "This is the DragonFly Mail Agent vX at host.",
// "There was an error delivering your mail to <address>.", then the error
// ("mx.example.com [192.0.2.1] did not like our RCPT TO:" and the reply, or
// "DNS lookup failure: host … not found", "Could not deliver for the last N
// seconds. Giving up."), then "Original message follows." or "Message
// headers follow." One recipient per bounce.
import { answer, reading, type Recogniser } from './common';

const SIGNATURE = /This is the DragonFly Mail Agent|There was an error delivering your mail to </i;

export const dma: Recogniser = {
  name: 'dma',
  read(input) {
    const text = input.reportText;
    if (!SIGNATURE.test(text)) return null;
    const lines = text.split('\n');
    const readings = [];
    for (let i = 0; i < lines.length; i++) {
      const m = /There was an error delivering your mail to <([^<>]+)>/i.exec(lines[i]!);
      if (!m) continue;
      const rest: string[] = [];
      for (let j = i + 1; j < lines.length; j++) {
        if (/There was an error delivering your mail to </i.test(lines[j]!)) break;
        rest.push(lines[j]!);
      }
      const diagnostic = rest.join('\n').trim();
      const liked = /^(\S+)\s+\[([^\]]+)\]\s+did not like our ([A-Z ]+?):/m.exec(diagnostic);
      readings.push(
        reading({
          recipient: m[1]!.trim(),
          diagnostic,
          remoteMta: liked?.[1]?.toLowerCase() ?? null,
          evidence: [`dma format, recipient line ${i + 1}`],
        }),
      );
    }
    return answer('dma', readings);
  },
};
