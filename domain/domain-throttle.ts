// MX management (SPEC 5): per receiving domain (and a `*` default) a maximum
// of concurrent connections, of messages per hour, and an error-rate breaker
// (seed default: 90% errors over at least 300 messages blocks the domain for
// 3 hours). Sends held back by these rules are delayed, never failed.

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

/** The breaker trips when the error rate over at least the minimum number of messages reaches the threshold. */
export function shouldTrip(state: Pick<DomainState, 'messages' | 'errors'>, rule: DomainRuleData): boolean {
  return (
    state.messages >= rule.minMessages &&
    state.messages > 0 &&
    state.errors / state.messages >= rule.errorRateThreshold
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
    const windowStart = state?.hourStartedAt?.getTime();
    const inWindow = windowStart !== undefined && nowMs - windowStart < HOUR_MS;
    const used = (inWindow ? (state?.hourCount ?? 0) : 0) + alreadyThisBatch;
    if (used >= rule.maxPerHour) return new Date((inWindow ? windowStart! : nowMs) + HOUR_MS);
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
