// Exim: "This message was created automatically by mail delivery software."
// Each failed address is indented two spaces, its error text four:
//   user@example.com
//     host mx.example.com [192.0.2.1]
//     SMTP error from remote mail server after RCPT TO:<user@example.com>:
//     550 5.1.1 <user@example.com>: Recipient address rejected
// The delay warning says "has not yet been delivered". Exim marks its bounces
// `Auto-Submitted: auto-replied` and lists X-Failed-Recipients.
// mail.ru sends this same format with a Russian preface (see providers.ts).
import { answer, blockReadings, recipientBlocks, type BounceInput, type Recognised } from './common';

export const EXIM_SIGNATURE =
  /This message was created automatically by mail delivery software|The following address(?:\(es\)|es)? failed:|could not be delivered to one or more of its\s+recipients|has not yet been delivered to one or more of its\s+recipients/i;

export function readEximText(
  input: BounceInput,
  label: string,
  signature = EXIM_SIGNATURE,
): Recognised | null {
  if (!signature.test(input.reportText)) return null;
  const delayed =
    /has not yet been delivered|Delivery attempts will continue|^Warning: message .* delayed/im.test(
      input.reportText + '\n' + input.subject,
    );
  const blocks = recipientBlocks(input.reportText, {
    recipientLine: /^ {2}<?([^\s<>"]+@[^\s<>"]+?)>?(?:\s+<[^<>]*>)?:?\s*$/,
    indented: true,
  });
  return answer(
    label,
    blockReadings(label, blocks, () => ({ action: delayed ? 'delayed' : undefined })),
  );
}

export const exim = {
  name: 'exim',
  read: (input: BounceInput) => readEximText(input, 'exim'),
};
