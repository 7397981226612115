// SPEC 10 (second manual): an error text no rule knows yet (`undefined`) does
// not count against the address until it is qualified. The live SMTP reply's
// classification (domain/smtp-classification.ts) gives such a text the type
// `undefined`; the validity evidence (domain/validity.ts) must not count it.
import { classifySmtpReply } from '../../domain/smtp-classification';
import {
  nextAddressStatus,
  nextLeadValidity,
  summarizeEvidence,
  validityEvidence,
} from '../../domain/validity';

const unknownText = classifySmtpReply({ response: '559 5.9.9 Zorglub frobnicated the quux' });
const unknownUser = classifySmtpReply({ response: '550 5.1.1 User unknown' });

describe('an undefined reply text on the sending path', () => {
  test('is classified undefined: an error, retried, not invalidating at once', () => {
    expect(unknownText).toMatchObject({ result: 'error', errorType: 'undefined', reason: 'undefined' });
  });

  test('does not count toward the consecutive errors nor invalidate', () => {
    expect(validityEvidence(unknownText, 1)).toEqual({
      delivered: false,
      counts: false,
      invalidNow: false,
      quarantineNow: false,
    });
    const chunk = summarizeEvidence([1, 2, 3, 4].map(() => validityEvidence(unknownText, 1)));
    expect(nextLeadValidity({ valid: true, consecutiveErrors: 2 }, chunk, 3)).toEqual({
      valid: true,
      consecutiveErrors: 2,
    });
    expect(nextAddressStatus(null, chunk, 3)).toBeNull();
  });

  test('an undefined type that would invalidate at once still waits for its qualification', () => {
    expect(validityEvidence({ ...unknownText, invalidatesAtOnce: true }, 1)).toMatchObject({
      counts: false,
      invalidNow: false,
    });
  });

  test('while a qualified text counts (the contrast)', () => {
    expect(validityEvidence(unknownUser, 1)).toMatchObject({ counts: true });
  });
});
