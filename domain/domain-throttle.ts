// MX management (SPEC 5): per receiving domain (and a `*` default) a maximum
// of concurrent connections, of messages per hour, and an error-rate breaker
// (seed default: 90% errors over at least 300 messages blocks the domain for
// 3 hours). Sends held back by these rules are delayed, never failed.
//
// The breaker and the hourly window are rules as data (domain/rule-expr.ts):
// db/domain-queries.ts compiles them into the statement that counts a chunk's
// outcomes, and shouldTrip / holdUntil read the same rules here
// (test/integration/rules-differential.test.ts holds the two alike).

import { and, before, compare, divide, evaluateRule, input, literal, type Rule } from './rule-expr';

export interface DomainRuleData {
  domain: string;
  errorRateThreshold: number;
  minMessages: number;
  blockSeconds: number;
  maxConnections: number;
  maxPerHour: number | null;
}

export const DEFAULT_DOMAIN_RULE: DomainRuleData = {
  domain: '*',
  errorRateThreshold: 0.9,
  minMessages: 300,
  blockSeconds: 3 * 3600,
  maxConnections: 5,
  maxPerHour: null,
};

export interface DomainState {
  domain: string;
  messages: number;
  errors: number;
  blockedUntil: Date | null;
  hourStartedAt: Date | null;
  hourCount: number;
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return (at >= 0 ? address.slice(at + 1) : address).trim().toLowerCase().replace(/\.$/, '');
}

/** The rule for a domain: its own, else the `*` rule, else the built-in default. */
export function ruleFor(domain: string, rules: readonly DomainRuleData[]): DomainRuleData {
  return rules.find((r) => r.domain === domain) ?? rules.find((r) => r.domain === '*') ?? DEFAULT_DOMAIN_RULE;
}

/**
 * The breaker trips when the error rate over at least the minimum number of
 * messages reaches the threshold. Inputs: `messages`, `errors` (the domain's
 * window), `minMessages`, `errorRateThreshold` (its rule).
 */
export const TRIP_RULE: Rule = and(
  compare(input('messages'), '>=', input('minMessages')),
  compare(input('messages'), '>', literal(0)),
  compare(divide(input('errors'), input('messages')), '>=', input('errorRateThreshold')),
);

export function shouldTrip(state: Pick<DomainState, 'messages' | 'errors'>, rule: DomainRuleData): boolean {
  return (
    evaluateRule(TRIP_RULE, {
      messages: state.messages,
      errors: state.errors,
      minMessages: rule.minMessages,
      errorRateThreshold: rule.errorRateThreshold,
    }) === true
  );
}

/**
 * A domain's hourly allowance counts within a window that started less than an
 * hour before `now`; after that a new window starts. Inputs: `hourStartedAt`
 * (null before the first send), `now`.
 */
export const HOUR_WINDOW_OPEN_RULE: Rule = compare(
  input('hourStartedAt'),
  '>',
  before(input('now'), literal(1), 'hours'),
);

export function hourWindowOpen(hourStartedAt: Date | null | undefined, nowMs: number): boolean {
  return (
    evaluateRule(HOUR_WINDOW_OPEN_RULE, { hourStartedAt: hourStartedAt?.getTime() ?? null, now: nowMs }) ===
    true
  );
}

const HOUR_MS = 3600_000;

/**
 * When a send to this domain may go: null = now; otherwise the time it is
 * held until (the breaker's end, or the start of the next hourly window).
 */
export function holdUntil(
  state: DomainState | undefined,
  rule: DomainRuleData,
  alreadyThisBatch: number,
  nowMs: number,
): Date | null {
  if (state?.blockedUntil && state.blockedUntil.getTime() > nowMs) return state.blockedUntil;
  if (rule.maxPerHour !== null) {
    const windowStart = state?.hourStartedAt;
    const inWindow = hourWindowOpen(windowStart, nowMs);
    const used = (inWindow ? (state?.hourCount ?? 0) : 0) + alreadyThisBatch;
    if (used >= rule.maxPerHour)
      return new Date((inWindow && windowStart ? windowStart.getTime() : nowMs) + HOUR_MS);
  }
  return null;
}

const DOMAIN =
  /^(\*|(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+)$/;

/** Problems with a rule a user submits, each naming its field. */
export function validateDomainRule(rule: Partial<DomainRuleData>): Array<{ field: string; message: string }> {
  const problems: Array<{ field: string; message: string }> = [];
  if (rule.domain !== undefined && !DOMAIN.test(rule.domain)) {
    problems.push({
      field: 'domain',
      message: 'must be a lower-case domain name like example.jp, or * for the default',
    });
  }
  if (
    rule.errorRateThreshold !== undefined &&
    !(rule.errorRateThreshold > 0 && rule.errorRateThreshold <= 1)
  ) {
    problems.push({
      field: 'errorRateThreshold',
      message: 'must be a fraction above 0 and at most 1 (0.9 = 90%)',
    });
  }
  return problems;
}

/** What one event adds to its receiving domain's error-rate window (MX management). */
export interface DomainTally {
  messages: number;
  errors: number;
}

/**
 * One rule for the breaker's counts, whether the receiving server answered
 * while we sent (`reply`: an attempt's recorded result) or its error came back
 * later by mail (`report`: an asynchronous bounce, SPEC 4). Every attempt is a
 * message, and an error when it failed; a later bounce is the error of a
 * message already counted when the relay accepted it. So a message refused
 * live and a message accepted then bounced both end as 1 message, 1 error.
 */
export function domainTallyOf(
  event: { kind: 'reply'; result: string } | { kind: 'report'; action: string },
): DomainTally {
  if (event.kind === 'reply') return { messages: 1, errors: event.result === 'error' ? 1 : 0 };
  return { messages: 0, errors: event.action === 'bounce' ? 1 : 0 };
}

/** Adds an event's tally to its address's domain; events that add nothing leave the map alone. */
export function addDomainTally(tallies: Map<string, DomainTally>, address: string, tally: DomainTally): void {
  if (tally.messages === 0 && tally.errors === 0) return;
  const domain = domainOf(address);
  const d = tallies.get(domain) ?? { messages: 0, errors: 0 };
  d.messages += tally.messages;
  d.errors += tally.errors;
  tallies.set(domain, d);
}
