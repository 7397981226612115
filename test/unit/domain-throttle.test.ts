import {
  addDomainTally,
  domainTallyOf,
  DEFAULT_DOMAIN_RULE,
  domainOf,
  holdUntil,
  ruleFor,
  shouldTrip,
  validateDomainRule,
} from '../../domain/domain-throttle';

const rule = { ...DEFAULT_DOMAIN_RULE, domain: 'example.jp', minMessages: 10, errorRateThreshold: 0.9 };

describe('MX management rules', () => {
  test.each([
    ['a@Example.JP', 'example.jp'],
    ['x@mail.example.jp.', 'mail.example.jp'],
  ])('the domain of %s is %s', (addr, dom) => expect(domainOf(addr)).toBe(dom));

  test('when a domain has its own rule, then it applies; otherwise the * rule, then the seed default', () => {
    const star = { ...DEFAULT_DOMAIN_RULE, minMessages: 50 };
    expect(ruleFor('example.jp', [rule, star])).toBe(rule);
    expect(ruleFor('other.jp', [rule, star])).toBe(star);
    expect(ruleFor('other.jp', [rule])).toEqual(DEFAULT_DOMAIN_RULE);
    expect(DEFAULT_DOMAIN_RULE).toMatchObject({
      errorRateThreshold: 0.9,
      minMessages: 300,
      blockSeconds: 10800,
    });
  });

  test.each([
    [9, 9, false], // below the minimum count
    [10, 9, true], // exactly 90%
    [10, 8, false],
    [300, 270, true],
  ])('when %i messages had %i errors, then tripping is %s', (messages, errors, trip) => {
    expect(shouldTrip({ messages, errors }, rule)).toBe(trip);
  });

  test('when the breaker is open, then sends are held until it closes', () => {
    const until = new Date(10_000);
    expect(
      holdUntil(
        {
          domain: 'example.jp',
          messages: 0,
          errors: 0,
          blockedUntil: until,
          hourStartedAt: null,
          hourCount: 0,
        },
        rule,
        0,
        5_000,
      ),
    ).toBe(until);
    expect(
      holdUntil(
        {
          domain: 'example.jp',
          messages: 0,
          errors: 0,
          blockedUntil: until,
          hourStartedAt: null,
          hourCount: 0,
        },
        rule,
        0,
        11_000,
      ),
    ).toBeNull();
  });

  test('when the hourly allowance is used up, then sends wait for the next hourly window', () => {
    const capped = { ...rule, maxPerHour: 3 };
    const state = {
      domain: 'example.jp',
      messages: 0,
      errors: 0,
      blockedUntil: null,
      hourStartedAt: new Date(0),
      hourCount: 2,
    };
    expect(holdUntil(state, capped, 0, 1000)).toBeNull();
    expect(holdUntil(state, capped, 1, 1000)).toEqual(new Date(3600_000));
    expect(holdUntil(state, capped, 1, 3600_001)).toBeNull(); // a new window
  });

  test('when a rule names a malformed domain or rate, then each problem names its field', () => {
    expect(
      validateDomainRule({ domain: 'Not A Domain', errorRateThreshold: 90 }).map((p) => p.field),
    ).toEqual(['domain', 'errorRateThreshold']);
    expect(validateDomainRule({ domain: '*', errorRateThreshold: 0.5 })).toEqual([]);
  });
});

describe('what counts toward a domain error rate', () => {
  test('when a message is refused live, or accepted and bounced later, then both add up to one message and one error', () => {
    const live = new Map();
    addDomainTally(live, 'a@Example.JP', domainTallyOf({ kind: 'reply', result: 'error' }));
    const later = new Map();
    addDomainTally(later, 'a@example.jp', domainTallyOf({ kind: 'reply', result: 'delivered' }));
    addDomainTally(later, 'a@example.jp', domainTallyOf({ kind: 'report', action: 'bounce' }));
    expect(live).toEqual(new Map([['example.jp', { messages: 1, errors: 1 }]]));
    expect(later).toEqual(live);
  });

  test('when a report is not a bounce (a complaint, a delay), then it counts nothing', () => {
    const t = new Map();
    addDomainTally(t, 'a@example.jp', domainTallyOf({ kind: 'report', action: 'complaint' }));
    addDomainTally(t, 'a@example.jp', domainTallyOf({ kind: 'report', action: 'delayed' }));
    expect(t.size).toBe(0);
  });
});
