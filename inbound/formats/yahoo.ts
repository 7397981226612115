// Yahoo (and AOL, now on Yahoo's systems): qmail-like. "Sorry, we were unable
// to deliver your message to the following address." then "<address>:" and
// "Remote host said: 550 … [RCPT_TO]", the bracket naming the SMTP stage.
import { answer, blockReadings, fromDomain, recipientBlocks, type Recogniser } from './common';

const SIGNATURE =
  /Sorry,? we were unable to deliver your message to the following address|Message from yahoo\.com\.|This message was sent by Yahoo/i;

export const yahoo: Recogniser = {
  name: 'yahoo',
  read(input) {
    if (!SIGNATURE.test(input.reportText)) return null;
    const label = /(?:^|\.)aol\.com$|(?:^|\.)aim\.com$/.test(fromDomain(input)) ? 'aol' : 'yahoo';
    const delayed = /will (?:continue|keep) trying|has been delayed/i.test(input.reportText);
    const blocks = recipientBlocks(input.reportText, { recipientLine: /^<([^<>\s]+@[^<>\s]+)>:\s*(.*)$/ });
    const r = answer(
      label,
      blockReadings(label, blocks, () => ({ action: delayed ? 'delayed' : undefined })),
    );
    return r;
  },
};
