// classifyBounce (domain/bounce-rules.ts), issue 16: the wordings the corpus
// showed missing, the Status-field fallbacks, whose fault a refusal is, and the
// evidence a decision carries.
import { BUILTIN_BOUNCE_RULES, classifyBounce, type BounceRule } from '../../domain/bounce-rules';

const decide = (diagnostic: string | null, status: string | null = null, smtpStage: string | null = null) =>
  classifyBounce({ diagnostic, status, smtpStage }, BUILTIN_BOUNCE_RULES);

type Verdict = { reason: string; errorType: string; code: number; fault?: string };

describe('wordings', () => {
  test.each<[string, string, Verdict]>([
    [
      'Denied by policy',
      '554 5.7.1 Denied by policy',
      { reason: 'refused', errorType: 'soft', code: 42530, fault: 'ours' },
    ],
    [
      'Virus detected',
      '554 5.6.0 Virus detected: Eicar-Test',
      { reason: 'refused', errorType: 'soft', code: 42554, fault: 'content' },
    ],
    [
      'Message filtered',
      '550 Message filtered',
      { reason: 'refused', errorType: 'soft', code: 42530, fault: 'ours' },
    ],
    [
      'Too many recipients',
      '452 4.5.3 Too many recipients',
      { reason: 'refused', errorType: 'soft', code: 42530, fault: 'rate' },
    ],
    [
      'too many recipients this hour under 5.1.1',
      '550 5.1.1 <a@x.example>: Recipient address rejected: too many recipients this hour',
      { reason: 'refused', errorType: 'soft', code: 42530, fault: 'rate' },
    ],
    [
      'Gmail receiving at a rate',
      '550-5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.',
      { reason: 'refused', errorType: 'soft', code: 42530, fault: 'rate' },
    ],
    [
      'our sender domain does not exist',
      '553 5.1.8 <news@example.test>... Domain of sender address news@example.test does not exist',
      { reason: 'refused', errorType: 'soft', code: 42530, fault: 'ours' },
    ],
    [
      'Mailbox is frozen',
      '550 Mailbox is frozen',
      { reason: 'invalid_account', errorType: 'soft', code: 42554, fault: 'recipient' },
    ],
    [
      'Host does not accept mail',
      '556 5.1.10 Host does not accept mail',
      { reason: 'invalid_domain', errorType: 'soft', code: 41605 },
    ],
    [
      'domain is not reachable',
      '550 domain is not reachable',
      { reason: 'invalid_domain', errorType: 'soft', code: 41605 },
    ],
    [
      '550 5.4.4 Invalid domain',
      '550 5.4.4 Invalid domain',
      { reason: 'invalid_domain', errorType: 'soft', code: 41605 },
    ],
    [
      'domain not found',
      '550 5.1.2 domain not found',
      { reason: 'invalid_domain', errorType: 'soft', code: 41605 },
    ],
    ['Host unknown', '550 Host unknown', { reason: 'invalid_domain', errorType: 'soft', code: 41605 }],
    [
      'recipient no longer on server',
      '550 5.1.1 recipient no longer on server',
      { reason: 'unknown_user', errorType: 'hard', code: 42550 },
    ],
  ])('%s', (_what, text, expected) => {
    expect(decide(text)).toMatchObject(expected);
  });
});

describe('Status-field fallback when the text says nothing', () => {
  test.each<[string, Verdict]>([
    ['5.1.1', { reason: 'unknown_user', errorType: 'hard', code: 42550 }],
    ['5.1.6', { reason: 'unknown_user', errorType: 'hard', code: 42551 }],
    ['5.1.8', { reason: 'refused', errorType: 'soft', code: 42530, fault: 'ours' }],
    ['5.1.10', { reason: 'invalid_domain', errorType: 'soft', code: 41605 }],
    ['5.4.4', { reason: 'invalid_domain', errorType: 'soft', code: 41605 }],
    ['5.6.1', { reason: 'refused', errorType: 'soft', code: 42554, fault: 'content' }],
    ['5.2.3', { reason: 'refused', errorType: 'soft', code: 42554, fault: 'content' }],
    ['4.4.1', { reason: 'unreachable', errorType: 'soft', code: 41601 }],
    ['4.4.2', { reason: 'unreachable', errorType: 'soft', code: 41601 }],
    ['4.7.1', { reason: 'refused', errorType: 'soft', code: 42530, fault: 'ours' }],
  ])('Status %s', (status, expected) => {
    const d = decide(null, status);
    expect(d).toMatchObject(expected);
    expect(d.evidence[0]).toMatch(new RegExp(`^Status ${status.replace(/\./g, '\\.')} fallback`));
    // An unhelpful Diagnostic-Code leaves the Status to decide too.
    expect(decide('550 Requested action not taken', status)).toMatchObject(expected);
  });
});

test('when the text has no code, then the wording alone decides', () => {
  expect(decide('recipient no longer on server')).toMatchObject({
    reason: 'unknown_user',
    ruleId: 'builtin:no-longer-on-server',
  });
  expect(decide('Mailbox is frozen')).toMatchObject({
    reason: 'invalid_account',
    ruleId: 'builtin:mailbox-frozen',
  });
  expect(decide('Virus detected')).toMatchObject({ reason: 'refused', fault: 'content' });
});

test('when a rule matches, then the decision names the rule and the field', () => {
  expect(decide('552 5.2.2 Mailbox full', '5.2.2').evidence).toEqual([
    'rule `mailbox-full` on Diagnostic-Code',
  ]);
});

test('when nothing matches, then the decision is undefined and counts against nobody', () => {
  expect(decide('554 zorgon declined', '5.0.0')).toMatchObject({
    errorType: 'undefined',
    ruleId: null,
    countsAgainstRecipient: false,
    refusedByPolicy: false,
  });
});

test('when the refusal came at MAIL FROM, then it is about us whatever its wording', () => {
  expect(decide('550 user unknown', '5.1.1', 'mail')).toMatchObject({
    reason: 'refused',
    fault: 'ours',
    countsAgainstRecipient: false,
  });
});

test('when a user rule has a policy code, then it is our fault too; user rules come first', () => {
  const mine: BounceRule = {
    id: 'user:1',
    pattern: 'mailbox full',
    isRegex: false,
    errorType: 'soft',
    reason: 'refused',
    code: 42530,
    origin: 'user',
  };
  expect(
    classifyBounce({ diagnostic: '552 5.2.2 Mailbox full', status: null }, [mine, ...BUILTIN_BOUNCE_RULES]),
  ).toMatchObject({ ruleId: 'user:1', fault: 'ours', refusedByPolicy: true });
});
