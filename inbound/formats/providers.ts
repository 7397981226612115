// Providers that send a shared MTA format under their own name: mail.ru and
// Yandex (Exim-like with a Russian preface; Yandex also Postfix-like), Zimbra
// and iCloud (Postfix). Each is its format's reader with the provider's mark.
import { fromDomain, receivedMentions, type BounceInput, type Recogniser } from './common';
import { EXIM_SIGNATURE, readEximText } from './exim';
import { readPostfixText } from './postfix';

const MAILRU = /(?:^|\.)(?:mail\.ru|list\.ru|bk\.ru|inbox\.ru|corp\.mail\.ru)$/;
const YANDEX = /(?:^|\.)yandex\.(?:ru|net|com|ua|by|kz)$|(?:^|\.)ya\.ru$/;
const ICLOUD = /(?:^|\.)(?:icloud\.com|me\.com|mac\.com)$/;

const RU_SIGNATURE = new RegExp(
  `${EXIM_SIGNATURE.source}|Это письмо создано автоматически|не может быть доставлено|не удалось доставить`,
  'i',
);

function either(input: BounceInput, label: string) {
  return readEximText(input, label, RU_SIGNATURE) ?? readPostfixText(input, label);
}

export const mailru: Recogniser = {
  name: 'mailru',
  read: (input) => (MAILRU.test(fromDomain(input)) ? either(input, 'mailru') : null),
};

export const yandex: Recogniser = {
  name: 'yandex',
  read: (input) =>
    YANDEX.test(fromDomain(input)) || receivedMentions(input, /mail\.yandex\.net/i)
      ? either(input, 'yandex')
      : null,
};

export const icloud: Recogniser = {
  name: 'icloud',
  read: (input) => (ICLOUD.test(fromDomain(input)) ? readPostfixText(input, 'icloud') : null),
};

export const zimbra: Recogniser = {
  name: 'zimbra',
  read: (input) =>
    /This is the mail system at host \S*zimbra/i.test(input.reportText) || receivedMentions(input, /Zimbra/i)
      ? readPostfixText(input, 'zimbra')
      : null,
};
