// qmail (and netqmail, qmail-ldap, vpopmail): "Hi. This is the qmail-send
// program at …", then one block per recipient: "<address>:" and the error
// text up to a blank line; the original follows "--- Below this line is a copy
// of the message." Local errors carry the enhanced code as "(#5.1.1)".
import { answer, blockReadings, recipientBlocks, type Recogniser } from './common';

const SIGNATURE =
  /This is the qmail-send program|I'm afraid I wasn't able to deliver your message to the following addresses|I'm afraid I wasn't able to deliver your message|This is a permanent error; I've given up/i;

export const qmail: Recogniser = {
  name: 'qmail',
  read(input) {
    if (!SIGNATURE.test(input.reportText)) return null;
    const delayed =
      /I'm not going to try again|I'll keep trying|still trying/i.test(input.reportText) &&
      !/I've given up/i.test(input.reportText);
    const blocks = recipientBlocks(input.reportText, { recipientLine: /^<([^<>\s]+@[^<>\s]+)>:\s*(.*)$/ });
    return answer(
      'qmail',
      blockReadings('qmail', blocks, (b) => ({
        action: delayed ? 'delayed' : undefined,
        remoteMta:
          /^(\S+) does not like (?:recipient|sender)/m.exec(b.text)?.[1] ??
          /Connected to (\S+) but/.exec(b.text)?.[1] ??
          null,
      })),
    );
  },
};
