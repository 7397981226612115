// The text of a mail the sink received, decoded (notices are in Japanese by
// default, so their bodies travel base64-encoded).
import { simpleParser } from 'mailparser';
import type { ReceivedMail } from '../../dev/smtp-sink';

export async function mailText(mail: ReceivedMail): Promise<string> {
  return (await simpleParser(mail.raw)).text ?? '';
}
