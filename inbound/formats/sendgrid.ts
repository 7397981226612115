// SendGrid's own bounce: "This is an automatically generated message from
// SendGrid." then "address: error text" per recipient.
import { answer, blockReadings, recipientBlocks, type Recogniser } from './common';

export const sendgrid: Recogniser = {
  name: 'sendgrid',
  read(input) {
    if (!/automatically generated message from SendGrid/i.test(input.reportText)) return null;
    const blocks = recipientBlocks(input.reportText, {
      recipientLine: /^<?([^\s<>:]+@[^\s<>:]+?)>?:\s+(.+)$/,
    });
    return answer('sendgrid', blockReadings('sendgrid', blocks));
  },
};
