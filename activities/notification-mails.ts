// The status mails (SPEC 2), the reminder before a scheduled start, and the
// batched failure notices (SPEC 4) of runs and single sends. Their texts, in
// the account's language and time zone, are in domain/i18n/notices.ts.
import type { TemplateRow } from '../db/template-queries';
import { isLanguage } from '../domain/i18n';
import type { NoticeLocale } from '../domain/i18n/notices';

export {
  reminderNotice as reminderMail,
  runEndNotice as runEndMail,
  runFailureNotice,
  runStartNotice as runStartMail,
  singleSendFailureNotice,
} from '../domain/i18n/notices';

/** Where a template's failures are told: an SMS template's error notification address, else its error reply-to. */
export function errorNoticeAddress(template: TemplateRow): string | null {
  if (template.channel === 'sms') return template.sms_error_address ?? template.error_reply_to ?? null;
  return template.error_reply_to ?? null;
}

/** The account's language and zone from the settings: Japanese and Asia/Tokyo unless configured. */
export function noticeLocale(settings: { language?: string; timeZone?: string }): NoticeLocale {
  return {
    language: isLanguage(settings.language) ? settings.language : 'ja',
    timeZone: settings.timeZone ?? 'Asia/Tokyo',
  };
}
