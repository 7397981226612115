import {
  BUILTIN_BOUNCE_RULES,
  matchBounceRule,
  validateRulePattern,
  type BounceRule,
} from '../../domain/bounce-rules';
import { DELIVERY_CODES } from '../../domain/delivery-codes';
import { ERROR_REASONS } from '../../domain/error-reasons';

function qualify(text: string, rules: readonly BounceRule[] = BUILTIN_BOUNCE_RULES) {
  const rule = matchBounceRule(text, rules);
  return rule === null ? null : { type: rule.errorType, reason: rule.reason, code: rule.code };
}

function userRule(over: Partial<BounceRule>): BounceRule {
  return {
    pattern: 'x',
    isRegex: false,
    errorType: 'hard',
    reason: 'unknown_user',
    code: 42550,
    origin: 'user',
    ...over,
  };
}

describe('built-in rules', () => {
  test.each<[string, string, ReturnType<typeof qualify>]>([
    [
      'Postfix user unknown',
      '550 5.1.1 <taro@example.net>: Recipient address rejected: User unknown in virtual mailbox table',
      { type: 'hard', reason: 'unknown_user', code: 42550 },
    ],
    [
      'Gmail does not exist',
      "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address",
      { type: 'hard', reason: 'unknown_user', code: 42550 },
    ],
    [
      'Exchange RecipientNotFound',
      '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
      { type: 'hard', reason: 'unknown_user', code: 42550 },
    ],
    [
      'Exchange directory-based edge blocking',
      '550 5.4.1 Recipient address rejected: Access denied. AS(201806281)',
      { type: 'hard', reason: 'unknown_user', code: 42550 },
    ],
    [
      'Microsoft mailbox unavailable',
      '550 5.5.0 Requested action not taken: mailbox unavailable',
      { type: 'hard', reason: 'unknown_user', code: 42550 },
    ],
    [
      'Yahoo no account',
      "554 delivery error: dd This user doesn't have a yahoo.com account (taro@yahoo.com) [-1]",
      { type: 'hard', reason: 'unknown_user', code: 42550 },
    ],
    [
      'Japanese unknown user',
      '宛先のアドレスは存在しません',
      { type: 'hard', reason: 'unknown_user', code: 42550 },
    ],
    [
      'user not local',
      '551 User not local; please try <taro@other.example>',
      { type: 'hard', reason: 'unknown_user', code: 42551 },
    ],
    [
      'Gmail over quota',
      '452-4.2.2 The email account that you tried to reach is over quota',
      { type: 'soft', reason: 'mailbox_full', code: 42552 },
    ],
    [
      'Postfix mailbox full',
      '552 5.2.2 <hanako@example.org>: Recipient address rejected: Mailbox full',
      { type: 'soft', reason: 'mailbox_full', code: 42552 },
    ],
    [
      'quota exceeded',
      '552 Quota exceeded (mailbox for user is full)',
      { type: 'soft', reason: 'mailbox_full', code: 42552 },
    ],
    [
      'Gmail disabled account',
      '550-5.2.1 The email account that you tried to reach is disabled.',
      { type: 'hard', reason: 'invalid_account', code: 42550 },
    ],
    [
      'Yahoo disabled mailbox',
      '554 delivery error: dd Sorry your message cannot be delivered. This mailbox is disabled (554.30)',
      { type: 'hard', reason: 'invalid_account', code: 42550 },
    ],
    [
      'Postfix host not found',
      'Host or domain name not found. Name service error for name=example.invalid type=MX: Host not found',
      { type: 'soft', reason: 'invalid_domain', code: 41605 },
    ],
    [
      'Gmail NXDOMAIN',
      "DNS Error: DNS type 'mx' lookup of example.invalid responded with code NXDOMAIN",
      { type: 'soft', reason: 'invalid_domain', code: 41605 },
    ],
    [
      'Gmail unsolicited',
      '550-5.7.1 Our system has detected that this message is likely unsolicited mail.',
      { type: 'soft', reason: 'refused', code: 42530 },
    ],
    [
      'Spamhaus listing',
      '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org',
      { type: 'soft', reason: 'refused', code: 42530 },
    ],
    [
      'Gmail unauthenticated',
      '550-5.7.26 This mail has been blocked because the sender is unauthenticated.',
      { type: 'soft', reason: 'refused', code: 42530 },
    ],
    [
      'Yahoo deferral',
      '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume',
      { type: 'soft', reason: 'refused', code: 42530 },
    ],
    [
      'Outlook authentication',
      '550 5.7.515 Access denied, sending domain example.co.jp does not meet the required authentication level.',
      { type: 'soft', reason: 'refused', code: 42530 },
    ],
    [
      'message too large',
      '552 5.3.4 Message size exceeds fixed maximum message size',
      { type: 'soft', reason: 'refused', code: 42554 },
    ],
    [
      'Postfix size limit',
      'message size 15728640 exceeds size limit 10485760 of server mx.example.net',
      { type: 'soft', reason: 'refused', code: 42554 },
    ],
    ['expired in queue', 'delivery time expired', { type: 'soft', reason: 'unreachable', code: 41606 }],
    [
      'connection timeout',
      'connect to mx.slow.example[192.0.2.10]:25: Connection timed out',
      { type: 'soft', reason: 'unreachable', code: 41601 },
    ],
    ['bare enhanced code 5.1.1', '550 5.1.1 Sorry', { type: 'hard', reason: 'unknown_user', code: 42550 }],
    ['bare enhanced code 5.7.x', '550 5.7.606 Nope', { type: 'soft', reason: 'refused', code: 42530 }],
    ['nothing known', 'The frobnicator declined', null],
    ['an IP that merely contains 5.1.1', 'relay 10.5.1.1 said hello', null],
  ])('%s', (_label, text, expected) => {
    expect(qualify(text)).toEqual(expected);
  });

  test('every built-in rule is a valid pattern whose type and code the seed and SPEC §3 allow', () => {
    for (const rule of BUILTIN_BOUNCE_RULES) {
      expect([rule.id, validateRulePattern(rule.pattern, rule.isRegex)]).toEqual([rule.id, null]);
      expect(rule.origin).toBe('builtin');
      expect(ERROR_REASONS[rule.reason].types).toContain(rule.errorType);
      expect(DELIVERY_CODES[rule.code]).toBeDefined();
    }
    expect(new Set(BUILTIN_BOUNCE_RULES.map((r) => r.id)).size).toBe(BUILTIN_BOUNCE_RULES.length);
  });
});

describe('matchBounceRule', () => {
  test('when a user rule and a built-in rule both match, then the user rule wins wherever it is in the list', () => {
    const mine = userRule({
      id: 7,
      pattern: 'mailbox full',
      errorType: 'soft',
      reason: 'refused',
      code: 42554,
    });
    expect(matchBounceRule('552 5.2.2 Mailbox full', [...BUILTIN_BOUNCE_RULES, mine])).toBe(mine);
  });

  test('among user rules the first match in order wins', () => {
    const first = userRule({ id: 1, pattern: 'unknown' });
    const second = userRule({ id: 2, pattern: 'user unknown' });
    expect(matchBounceRule('User unknown', [second, first])).toBe(second);
  });

  test('plain patterns match case-insensitively, across line breaks, and against the normalized text', () => {
    const rule = userRule({ pattern: 'Rejected by policy #xxx# at *' });
    expect(matchBounceRule('REJECTED\r\n  by policy 4711 at <x@example.jp>', [rule])).toBe(rule);
    const raw = userRule({ pattern: 'queue 4711' });
    expect(matchBounceRule('stuck in queue 4711', [raw])).toBe(raw);
  });

  test('regex patterns are case-insensitive', () => {
    const rule = userRule({ pattern: '^550 .*frobnicat', isRegex: true });
    expect(matchBounceRule('550 The FROBNICATOR declined', [rule])).toBe(rule);
  });

  test('when a stored regex is invalid, then it matches nothing and does not throw', () => {
    const broken = userRule({ id: 'broken', pattern: '(unclosed[', isRegex: true });
    expect(() => matchBounceRule('(unclosed[ anything', [broken])).not.toThrow();
    expect(matchBounceRule('(unclosed[ anything', [broken])).toBeNull();
    expect(matchBounceRule('550 5.1.1 user unknown', [broken, ...BUILTIN_BOUNCE_RULES])?.reason).toBe(
      'unknown_user',
    );
  });

  test('empty patterns and empty texts match nothing', () => {
    expect(matchBounceRule('anything', [userRule({ pattern: '   ' })])).toBeNull();
    expect(matchBounceRule('   ', BUILTIN_BOUNCE_RULES)).toBeNull();
  });
});

describe('validateRulePattern', () => {
  test.each<[string, string, boolean, RegExp | null]>([
    ['a plain text', 'user unknown', false, null],
    ['a working regex', String.raw`^5\d\d 5\.1\.1 `, true, null],
    ['a bounded class repeat', String.raw`account[^.]{0,60}disabled`, true, null],
    ['an empty pattern', '', false, /empty/],
    ['a blank pattern', '  \t', true, /empty/],
    ['a pattern over 500 characters', 'x'.repeat(501), false, /500/],
    ['an invalid regex', '(unclosed[', true, /invalid regular expression/],
    ['a regex matching the empty text', 'a*', true, /empty text/],
    ['nested quantifiers', '(a+)+$', true, /nests quantifiers/],
    ['a quantified group with a quantifier inside', String.raw`(\w+\s?)*x`, true, /nests quantifiers/],
  ])('%s', (_label, pattern, isRegex, expected) => {
    const error = validateRulePattern(pattern, isRegex);
    if (expected === null) expect(error).toBeNull();
    else expect(error).toMatch(expected);
  });

  test('an invalid regex saved as plain text is acceptable: it is a substring, not a regex', () => {
    expect(validateRulePattern('(unclosed[', false)).toBeNull();
  });
});
