// Notices to people (run status mail, failure notices) go out by email
// whatever the run's channel, over the same pooled transport as bulk mail.
import type { Logger } from 'pino';
import type { EmailTransport } from './transport';

export interface Notice {
  from: string;
  to: string;
  subject: string;
  text: string;
}

export type NoticeMailer = (notice: Notice) => Promise<void>;

export function createNoticeMailer(
  email: EmailTransport,
  bounceDomain: string,
  logger: Logger,
): NoticeMailer {
  return async (notice) => {
    const res = await email.send({
      ...notice,
      envelopeFrom: notice.from,
      messageId: `<notice-${Date.now()}-${Math.random().toString(36).slice(2)}@${bounceDomain}>`,
    });
    // A notice that cannot be delivered is logged, not retried forever: the run's records already say it all.
    if (res.outcome.result !== 'sent')
      logger.warn({ to: notice.to, detail: res.outcome.detail }, 'notification not delivered');
  };
}
