// GMX and WEB.DE (1&1): Exim-like preface, but each address is quoted and
// followed by a colon on its own line ("\"user@example.com\":"), the error
// below it ("SMTP error from remote server for RCPT TO command, host: … reason:
// 550 …").
import { answer, blockReadings, recipientBlocks, type Recogniser } from './common';

export const gmx: Recogniser = {
  name: 'gmx',
  read(input) {
    const byDomain = /(?:^|\.)(?:gmx\.[a-z.]+|web\.de|1und1\.de|kundenserver\.de)$/.test(
      input.fromAddress?.split('@')[1] ?? '',
    );
    if (!byDomain && !/^"[^"\s]+@[^"\s]+":\s*$/m.test(input.reportText)) return null;
    const blocks = recipientBlocks(input.reportText, {
      recipientLine: /^"([^"\s]+@[^"\s]+)":\s*$/,
      stopAtBlank: false,
    });
    return answer('gmx', blockReadings('gmx', blocks));
  },
};
