// OpenSMTPD: "This is the MAILER-DAEMON, please DO NOT REPLY to this email."
// then "An error has occurred while attempting to deliver a message for the
// following list of recipients:" (or, for a delay, "Delays have been reported
// during message delivery to the following recipients:") and one
// "address: error text" line per recipient; the original follows
// "Below is a copy of the original message:".
import { answer, blockReadings, recipientBlocks, type Recogniser } from './common';

const SIGNATURE =
  /This is the MAILER-DAEMON, please DO NOT REPLY|An error has occurred while attempting to deliver a message for\s+the following list of recipients|Delays have been reported during message delivery/i;

export const opensmtpd: Recogniser = {
  name: 'opensmtpd',
  read(input) {
    if (!SIGNATURE.test(input.reportText)) return null;
    const delayed =
      /Delays have been reported|has been delayed|will be retried|A message is delayed|only a temporary failure report/i.test(
        input.reportText,
      );
    const blocks = recipientBlocks(input.reportText, {
      recipientLine: /^\s*<?([^\s<>:]+@[^\s<>:]+?)>?:\s+(.*)$/,
    });
    return answer(
      'opensmtpd',
      // An expired envelope is dropped from the queue, though OpenSMTPD 6.8 words it as a delay.
      blockReadings('opensmtpd', blocks, (b) => ({
        action: delayed && !/Envelope expired/i.test(b.text) ? 'delayed' : undefined,
      })),
    );
  },
};
