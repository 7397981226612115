// Postfix's human-readable report (the text part, also when no DSN part came
// with it): "This is the mail system at host …", then for each recipient
// "<address>: host mx[ip] said: 550 … (in reply to RCPT TO command)" with
// indented continuation lines. "(expanded from <alias>)" names the original
// recipient. A delay warning starts with "THIS IS A WARNING ONLY".
// Zimbra, iCloud and Yandex send this same format (see providers.ts).
import {
  addressOf,
  answer,
  blockReadings,
  recipientBlocks,
  type BounceInput,
  type Recognised,
} from './common';

export const POSTFIX_SIGNATURE =
  /This is the (?:mail system|Postfix program) at host|^\s*The (?:mail system|Postfix program)\s*$/im;

export function readPostfixText(input: BounceInput, label: string): Recognised | null {
  if (!POSTFIX_SIGNATURE.test(input.reportText)) return null;
  const delayed = /THIS IS A WARNING ONLY|delayed mail|Delayed Mail/i.test(input.reportText + input.subject);
  const blocks = recipientBlocks(input.reportText, {
    recipientLine: /^<([^<>\s]+@[^<>\s]+)>(?:\s*\(expanded from <[^<>]*>\))?:\s*(.*)$/,
    indented: true,
  });
  return answer(
    label,
    blockReadings(label, blocks, (b) => {
      const line = input.reportText.split('\n')[b.line - 1] ?? '';
      const expanded = /\(expanded from <([^<>]*)>\)/.exec(line)?.[1];
      return {
        action: delayed ? 'delayed' : undefined,
        originalRecipient: expanded ? addressOf(expanded) : null,
      };
    }),
  );
}

export const postfix = {
  name: 'postfix',
  read: (input: BounceInput) => readPostfixText(input, 'postfix'),
};
