// Google Groups refusing a post: from mailer-daemon@googlemail.com, marked
// `Auto-Submitted: auto-replied`, no report part; the group address is in
// X-Failed-Recipients and the body says "We're writing to let you know that
// the group you tried to contact (name) may not exist, or you may not have
// permission to post messages to the group."
import { answer, failedRecipientsHeader, reading, type Recogniser } from './common';

const SIGNATURE = /the group you tried to contact|you may not have permission to post messages to the group/i;

export const googleGroups: Recogniser = {
  name: 'google-groups',
  read(input) {
    if (!SIGNATURE.test(input.reportText)) return null;
    const para = /We're writing to let you know[\s\S]*?(?:\n\s*\n|$)/i.exec(input.reportText)?.[0] ?? null;
    const recipients = failedRecipientsHeader(input);
    const group = /the group you tried to contact \(([^)]+)\)/i.exec(input.reportText)?.[1];
    return answer(
      'google-groups',
      recipients.map((a) =>
        reading({
          recipient: a,
          action: 'failed',
          diagnostic: para,
          evidence: ['google-groups format, X-Failed-Recipients', ...(group ? [`group ${group}`] : [])],
        }),
      ),
    );
  },
};
