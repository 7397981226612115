// RFC 5965 abuse reports (ARF, message/feedback-report): complaints, not bounces.
import { parseFeedbackReport } from '../../domain/report-fields';
import type { BounceInput, Recognised, Recogniser } from './common';
import { partText, walk } from './mime';

export const arf: Recogniser = {
  name: 'arf',
  read(input: BounceInput): Recognised | null {
    const part = walk(input.root, true).find((p) => p.contentType === 'message/feedback-report');
    if (!part) return null;
    const fr = parseFeedbackReport(partText(part));
    return {
      kind: 'arf',
      recipients: [],
      feedback: {
        feedbackType: fr.feedbackType,
        originalMailFrom: fr.originalMailFrom,
        originalRcptTo: fr.originalRcptTo,
      },
      detail: `ARF feedback report (${fr.feedbackType ?? 'no Feedback-Type'})`,
    };
  },
};
