// Bounce qualification rules (SPEC §5): remote texts → error type, reason and
// platform code (SPEC §3). Built-in rules are data shipped with the product;
// user rules are stored rows that take precedence over them.

import { normalizeBounceText } from './bounce-normalize';
import type { ErrorReason, ErrorType } from './error-reasons';

export interface BounceRule {
  id?: string | number;
  pattern: string;
  isRegex: boolean;
  errorType: ErrorType;
  reason: ErrorReason;
  /**
   * Qualification code the text means (SPEC §3, e.g. 42550). Asynchronous
   * bounces are still recorded with 90000; the caller decides that.
   */
  code: number;
  origin: 'builtin' | 'user';
  /**
   * Whose fault the refusal is when it is not the recipient's: 'ours' (our sending domain or address,
   * authentication, reputation, relay, a policy about our stream), 'rate' (throttling, too many
   * recipients), 'content' (this message: size, virus). Unset: decided from the code (faultOfRule).
   */
  fault?: BounceFault;
  /** A fallback on the RFC 3463 enhanced status code alone: also tried on the report's Status field. */
  statusFallback?: boolean;
}

/** Who a bounce speaks about. Only 'recipient' counts against the address's validity. */
export type BounceFault = 'recipient' | 'ours' | 'rate' | 'content';

export const MAX_RULE_PATTERN_LENGTH = 500;
// Matching cost is bounded by the text length too, not only by the rule check.
const MAX_MATCH_TEXT_LENGTH = 4000;

function rule(
  id: string,
  pattern: string,
  errorType: ErrorType,
  reason: ErrorReason,
  code: number,
  isRegex = true,
  fault?: BounceFault,
): BounceRule {
  return {
    id: `builtin:${id}`,
    pattern,
    isRegex,
    errorType,
    reason,
    code,
    origin: 'builtin',
    ...(fault === undefined ? {} : { fault }),
  };
}

/** A refusal about our side or our rate: soft 42530, never against the recipient. */
function policy(id: string, pattern: string, fault: 'ours' | 'rate'): BounceRule {
  return rule(id, pattern, 'soft', 'refused', 42530, true, fault);
}

/** A fallback on the enhanced status code: `code` like '5.1.1', or a class like '5.6' (any detail). */
function status(
  code: string,
  errorType: ErrorType,
  reason: ErrorReason,
  deliveryCode: number,
  fault?: BounceFault,
): BounceRule {
  const [cls, subject, detail] = code.split('.');
  const pattern = String.raw`(?<![\d.])${cls === 'x' ? '[45]' : cls}\.${subject}\.${detail ?? String.raw`\d{1,3}`}(?![\d]|\.\d)`;
  return {
    ...rule(`status-${code}`, pattern, errorType, reason, deliveryCode, true, fault),
    statusFallback: true,
  };
}

/**
 * Order matters: the first match wins, so specific wordings come before
 * generic ones (mailbox full before "mailbox unavailable", invalid domain
 * before "does not exist", Exchange's directory-based "Access denied" before the
 * policy rules), and bare enhanced status codes come last as a fallback.
 *
 * Policy rejections (spam, blocklists, authentication, volume) use 42530, not
 * 42521: 42521 invalidates the address after one occurrence, and a reputation
 * problem is ours, not the recipient's. A message that is too large is a soft
 * refusal with 42554 (transaction failed): the content is at fault, not the
 * address, and the seed allows `refused` only as soft or hard.
 */
// One rule per line so the list reads as the table it is.
// prettier-ignore
export const BUILTIN_BOUNCE_RULES: readonly BounceRule[] = Object.freeze([
  // Our side: the sender address or domain, our authentication, relay or reputation (before any
  // "does not exist" wording, which would otherwise read "Domain of sender address … does not exist"
  // as an unknown recipient).
  policy('sender-address', String.raw`\bsender (?:address|domain|mail ?box)\b|\b(?:domain|address) of sender\b|\bmail from\b[^.;]{0,40}\b(?:rejected|refused|denied|invalid)\b|\bsender verify failed\b|\bbad sender\b`, 'ours'),
  // The rate: too many recipients or messages for now (Gmail 5.2.1 / 4.2.1 "receiving mail at a rate").
  policy('rate', String.raw`\btoo many (?:recipients|connections|messages|mails|emails)\b|\brate (?:limit|that prevents)|\b(?:receiving|sending) mail (?:at a rate|too quickly)\b|\bthrottl|\btemporarily deferred\b|\bexceeded (?:the )?(?:hourly|daily|sending) (?:limit|quota)\b`, 'rate'),
  policy('denied-by-policy', String.raw`\b(?:denied|rejected|refused|blocked) (?:by|due to) (?:local |site |our )?policy\b|\bpolicy (?:rejection|violation)\b|\bmessage filtered\b|\bfiltered by\b`, 'ours'),
  // Google Groups: "may not exist, or you may not have permission to post" refuses the sender.
  policy('no-permission-to-post', String.raw`\bnot have permission to post\b|\bnot (?:allowed|authorized|permitted) to post\b`, 'ours'),
  rule('virus', String.raw`\bvirus(?:es)? (?:detected|found)\b|\binfected\b|\bmalware\b`, 'soft', 'refused', 42554, true, 'content'),

  // Mailbox full: soft, back to valid after 30 days (SPEC §4).
  rule('mailbox-full', String.raw`\bmail ?box (?:is |was )?(?:full|over ?quota)\b`, 'soft', 'mailbox_full', 42552),
  rule('over-quota', String.raw`\bover ?quota\b|\bquota (?:exceeded|full)\b|\bexceeded (?:the |their |its )?(?:storage|quota)\b`, 'soft', 'mailbox_full', 42552),
  rule('storage-limit', String.raw`\b(?:storage|mailbox size) (?:limit|allocation) (?:exceeded|reached)\b|\bover (?:the )?storage\b`, 'soft', 'mailbox_full', 42552),
  rule('mailbox-full-ja', String.raw`メールボックス.{0,10}(?:容量|いっぱい|満杯)`, 'soft', 'mailbox_full', 42552),

  // Closed or disabled accounts.
  rule('mailbox-frozen', String.raw`\bmail ?box is (?:frozen|locked)\b|\baccount (?:is )?(?:frozen|locked)\b`, 'soft', 'invalid_account', 42554),
  rule('account-disabled', String.raw`\b(?:account|mailbox)\b[^.;,]{0,60}\b(?:disabled|inactive|deactivated|suspended|closed)\b`, 'hard', 'invalid_account', 42550),
  rule('disabled-account', String.raw`\b(?:disabled|inactive|deactivated|suspended|closed) (?:account|mailbox|user)\b`, 'hard', 'invalid_account', 42550),

  // Domain does not resolve: soft, quarantined at the threshold (SPEC §5).
  rule('domain-not-found', String.raw`\b(?:host|domain)(?: name)? (?:not found|unknown|does not exist|doesn't exist)\b|\bunknown (?:host|domain)\b|\bno such domain\b|\bDNS domain \S+ does not exist\b`, 'soft', 'invalid_domain', 41605),
  rule('nxdomain', String.raw`\bNXDOMAIN\b|\bname service error\b`, 'soft', 'invalid_domain', 41605),
  rule('no-mx', String.raw`\bno (?:mx|mail exchanger|valid mx)(?: records?)?\b`, 'soft', 'invalid_domain', 41605),
  rule('invalid-domain', String.raw`\binvalid (?:recipient )?domain\b|\bdomain (?:is )?(?:not reachable|unreachable)\b|\bdoes not accept mail\b|\bnull mx\b|\bunrout(?:e)?able (?:address|domain)\b`, 'soft', 'invalid_domain', 41605),

  // Unknown recipients.
  rule('exchange-dbeb', String.raw`5\.4\.1 recipient address rejected: access denied`, 'hard', 'unknown_user', 42550),
  rule('user-unknown', String.raw`\buser(?:name)? (?:is )?(?:unknown|not found)\b|\bunknown (?:user|recipient|local[- ]part|mailbox)\b`, 'hard', 'unknown_user', 42550),
  rule('no-such-user', String.raw`\bno such (?:user|recipient|mailbox|address|account)\b`, 'hard', 'unknown_user', 42550),
  rule('no-longer-on-server', String.raw`\bno longer (?:on (?:this |the )?server|here|valid|available)\b`, 'hard', 'unknown_user', 42550),
  rule('does-not-exist', String.raw`\b(?:does not|doesn't|no longer) exists?\b`, 'hard', 'unknown_user', 42550),
  rule('exchange-recipient-not-found', 'RecipientNotFound', 'hard', 'unknown_user', 42550, false),
  rule('mailbox-unavailable', String.raw`\bmailbox (?:is )?(?:unavailable|not found|not available|unknown)\b`, 'hard', 'unknown_user', 42550),
  rule('invalid-recipient', String.raw`\b(?:invalid|bad) (?:recipient|mailbox)\b|\brecipient (?:not found|unknown|invalid)\b`, 'hard', 'unknown_user', 42550),
  rule('no-account-here', String.raw`\bdoes(?:n't| not) have an? [^\s]{1,60} account\b`, 'hard', 'unknown_user', 42550),
  rule('unknown-user-ja', String.raw`(?:宛先|アドレス|ユーザー?).{0,10}(?:存在しません|見つかりません|不明)`, 'hard', 'unknown_user', 42550),
  rule('not-listed', String.raw`\bnot listed in\b[^.;]{0,40}\b(?:directory|address book|names)\b`, 'hard', 'unknown_user', 42550),
  rule('user-not-local', String.raw`\buser not local\b`, 'hard', 'unknown_user', 42551),
  rule('bad-address-syntax', String.raw`\bmailbox name not allowed\b|\bbad (?:destination )?(?:mailbox )?address syntax\b`, 'hard', 'unknown_user', 42553),

  // Policy: spam, blocklists, authentication, volume.
  rule('spam', String.raw`\b(?:spam|unsolicited|junk mail|bulk mail)\b`, 'soft', 'refused', 42530),
  rule('blocklist', String.raw`\b(?:block|black|deny|ban)[- ]?list(?:ed)?\b|\bblocked\b|\bbanned\b|\bspamhaus\b|\bspamcop\b|\b(?:RBL|DNSBL)\b`, 'soft', 'refused', 42530),
  rule('reputation', String.raw`\breputation\b`, 'soft', 'refused', 42530),
  rule('authentication', String.raw`\b(?:dmarc|dkim|spf)\b[^.;]{0,40}\b(?:fail|failed|failure|reject|rejected|policy)\b|\bunauthenticated\b`, 'soft', 'refused', 42530),
  rule('relay-denied', String.raw`\brelay(?:ing)? (?:access )?(?:denied|not permitted)\b|\bnot permitted to relay\b`, 'soft', 'refused', 42530),
  rule('access-denied', 'access denied', 'soft', 'refused', 42530, false),

  // The message, not the address, is at fault.
  rule('message-too-large', String.raw`\bmessage (?:size )?(?:is )?too (?:large|big)\b|\bmessage size exceeds\b|\bexceeds (?:the )?(?:maximum )?(?:message )?size limit\b`, 'soft', 'refused', 42554, true, 'content'),

  // Gave up or could not connect.
  rule('expired', String.raw`\bdelivery time expired\b|\bmessage expired\b|\bretry (?:time(?:out)?|period) (?:exceeded|expired)\b`, 'soft', 'unreachable', 41606),
  rule('connection', String.raw`\bconnection (?:timed out|refused)\b|\bno route to host\b|\bnetwork is unreachable\b|\bhost (?:is )?(?:unreachable|not reachable)\b`, 'soft', 'unreachable', 41601),

  // Fallbacks on the RFC 3463 enhanced status code alone, in the text or in the report's Status field.
  // Our sender (5.1.7 / 5.1.8) and policy (X.7.x) first; 5.1.10 is RFC 7505's null MX (Exchange's
  // "5.1.10 RecipientNotFound" is read by its wording above).
  status('x.1.7', 'soft', 'refused', 42530, 'ours'),
  status('x.1.8', 'soft', 'refused', 42530, 'ours'),
  status('x.7', 'soft', 'refused', 42530, 'ours'),
  status('5.1.10', 'soft', 'invalid_domain', 41605),
  status('5.1.1', 'hard', 'unknown_user', 42550),
  status('5.1.2', 'soft', 'invalid_domain', 41605),
  status('5.1.3', 'hard', 'unknown_user', 42553),
  status('5.1.6', 'hard', 'unknown_user', 42551),
  status('x.2.2', 'soft', 'mailbox_full', 42552),
  status('5.2.1', 'soft', 'invalid_account', 42554),
  status('5.2.3', 'soft', 'refused', 42554, 'content'),
  status('5.3.4', 'soft', 'refused', 42554, 'content'),
  status('x.6', 'soft', 'refused', 42554, 'content'),
  status('5.4.4', 'soft', 'invalid_domain', 41605),
  status('x.4.1', 'soft', 'unreachable', 41601),
  status('x.4.2', 'soft', 'unreachable', 41601),
  status('x.4.7', 'soft', 'unreachable', 41606),
  // The rest of X.3 (mail system) and X.4 (network and routing): the receiving side failed, try again.
  status('x.3', 'soft', 'unreachable', 41601),
  status('x.4', 'soft', 'unreachable', 41601),
]);

// Compiled user patterns are cached; bounded because user rules are edited over time.
const MAX_CACHED_PATTERNS = 1000;
const compiled = new Map<string, RegExp | null>();

function compile(pattern: string): RegExp | null {
  const cached = compiled.get(pattern);
  if (cached !== undefined) return cached;
  let re: RegExp | null;
  try {
    re = new RegExp(pattern, 'i');
  } catch {
    re = null;
  }
  if (compiled.size >= MAX_CACHED_PATTERNS) compiled.clear();
  compiled.set(pattern, re);
  return re;
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim().toLowerCase();
}

interface Subject {
  raw: string;
  normalized: string;
  rawFolded: string;
  normalizedFolded: string;
}

function ruleMatches(rule: BounceRule, subject: Subject): boolean {
  if (typeof rule.pattern !== 'string' || rule.pattern.trim() === '') return false;
  if (rule.isRegex) {
    const re = compile(rule.pattern);
    return re !== null && (re.test(subject.raw) || re.test(subject.normalized));
  }
  const needle = collapse(rule.pattern);
  return subject.rawFolded.includes(needle) || subject.normalizedFolded.includes(needle);
}

/**
 * Finds the rule for a bounce text. User rules are tried before built-in ones,
 * each group in the given order; the first match wins. A rule matches either
 * the raw text or its normalized form, so user rules copied from the
 * qualification list (with `#xxx#` and `*`) work. Invalid regexes never throw;
 * they match nothing.
 */
export function matchBounceRule(text: string, rules: readonly BounceRule[]): BounceRule | null {
  if (typeof text !== 'string' || text.trim() === '') return null;
  const raw = text.slice(0, MAX_MATCH_TEXT_LENGTH);
  const normalized = normalizeBounceText(raw);
  const subject: Subject = {
    raw,
    normalized,
    rawFolded: collapse(raw),
    normalizedFolded: collapse(normalized),
  };
  for (const origin of ['user', 'builtin'] as const) {
    for (const r of rules) {
      if (r.origin === origin && ruleMatches(r, subject)) return r;
    }
  }
  return null;
}

/** Whose fault a rule's verdict is; user rules (no `fault`) are read from their code. */
export function faultOfRule(r: Pick<BounceRule, 'fault' | 'code' | 'reason'>): BounceFault {
  if (r.fault !== undefined) return r.fault;
  if (r.code === 42530 || r.code === 42535) return 'ours';
  if (r.code === 42554 && r.reason === 'refused') return 'content';
  return 'recipient';
}

/** The verdict on one recipient of a bounce, with the evidence it rests on. */
export interface BounceDecision {
  errorType: string;
  reason: string;
  code: number;
  /** The rule that matched, e.g. `builtin:mailbox-full` or `user:12`; null when none did. */
  ruleId: string | null;
  ruleOrigin: 'builtin' | 'user' | null;
  /** null while the text is undefined (no rule knows it). */
  fault: BounceFault | null;
  /** Counts against the recipient's validity now: a qualified verdict about the recipient. */
  countsAgainstRecipient: boolean;
  /** Refused by policy (our side, our rate, our content): recorded per receiving domain, never against the address. */
  refusedByPolicy: boolean;
  evidence: string[];
}

/** What the classification reads of one recipient (a subset of the format reading). */
export interface BounceSignals {
  /** Diagnostic-Code or the format's error text. */
  diagnostic: string | null;
  /** Status field (enhanced code). */
  status: string | null;
  /** The SMTP stage the refusal happened at, when the report says so. */
  smtpStage?: string | null;
}

const SENDER_STAGES = new Set(['connect', 'helo', 'mail']);

function decisionOf(r: BounceRule, evidence: string[]): BounceDecision {
  const fault = faultOfRule(r);
  return {
    errorType: r.errorType,
    reason: r.reason,
    code: r.code,
    ruleId: String(r.id ?? ''),
    ruleOrigin: r.origin,
    fault,
    countsAgainstRecipient: fault === 'recipient' && r.errorType !== 'undefined',
    refusedByPolicy: fault !== 'recipient',
    evidence,
  };
}

function ruleName(r: BounceRule): string {
  return String(r.id ?? '').replace(/^builtin:/, '');
}

/**
 * Classify one recipient of a bounce, in the documented order of trust: the rules (user first)
 * on the Diagnostic-Code, then the status-code fallbacks on the Status field. A refusal at the
 * connect / HELO / MAIL stage is about us whatever its wording. No match: 'undefined', which counts
 * against nobody until a rule qualifies it.
 */
export function classifyBounce(signals: BounceSignals, rules: readonly BounceRule[]): BounceDecision {
  const evidence: string[] = [];
  let decision: BounceDecision | null = null;
  const text = signals.diagnostic?.trim() ?? '';
  if (text !== '') {
    const r = matchBounceRule(text, rules);
    if (r !== null)
      decision = decisionOf(
        r,
        r.statusFallback
          ? [
              `Status ${/[245]\.\d{1,3}\.\d{1,3}/.exec(text)?.[0] ?? ''} fallback on Diagnostic-Code (rule \`${ruleName(r)}\`)`,
            ]
          : [`rule \`${ruleName(r)}\` on Diagnostic-Code`],
      );
  }
  const st = signals.status?.trim() ?? '';
  if (decision === null && st !== '') {
    const r = matchBounceRule(
      st,
      rules.filter((x) => x.statusFallback === true),
    );
    if (r !== null) decision = decisionOf(r, [`Status ${st} fallback (rule \`${ruleName(r)}\`)`]);
  }
  if (decision === null) {
    evidence.push(
      text === '' && st === ''
        ? 'no Diagnostic-Code nor Status: undefined'
        : 'no rule knows this text: undefined until qualified',
    );
    return {
      errorType: 'undefined',
      reason: 'undefined',
      code: 0,
      ruleId: null,
      ruleOrigin: null,
      fault: null,
      countsAgainstRecipient: false,
      refusedByPolicy: false,
      evidence,
    };
  }
  const stage = signals.smtpStage ?? null;
  if (
    stage !== null &&
    SENDER_STAGES.has(stage) &&
    decision.fault === 'recipient' &&
    decision.reason !== 'invalid_domain' &&
    decision.reason !== 'unreachable'
  ) {
    return {
      ...decision,
      errorType: 'soft',
      reason: 'refused',
      code: 42530,
      fault: 'ours',
      countsAgainstRecipient: false,
      refusedByPolicy: true,
      evidence: [
        ...decision.evidence,
        `refused at the ${stage.toUpperCase()} stage: about our side, not the recipient`,
      ],
    };
  }
  if (decision.refusedByPolicy)
    decision.evidence.push(
      `refused by policy (${decision.fault === 'rate' ? 'our rate' : decision.fault === 'content' ? 'our message' : 'our side'}): not against the recipient`,
    );
  return decision;
}

const QUANTIFIER_AT = /^(?:[+*]|\{\d+(?:,\d*)?\})/;

/**
 * Heuristic guard against catastrophic backtracking: rejects a quantified group
 * that itself contains a quantifier, as in `(a+)+` or `(\w+\s?)*`. Bounded
 * repeats of a single class (`[^.]{0,60}`) are fine and stay allowed.
 */
function hasNestedQuantifier(pattern: string): boolean {
  const groupHasQuantifier: boolean[] = [];
  const markEnclosing = (): void => {
    if (groupHasQuantifier.length > 0) groupHasQuantifier[groupHasQuantifier.length - 1] = true;
  };
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') groupHasQuantifier.push(false);
    else if (c === ')') {
      const inner = groupHasQuantifier.pop() ?? false;
      const quantified = QUANTIFIER_AT.test(pattern.slice(i + 1));
      if (inner && quantified) return true;
      if (inner) markEnclosing();
    } else if (QUANTIFIER_AT.test(pattern.slice(i))) markEnclosing();
  }
  return false;
}

/** Error message for a rule pattern a user wants to save, or null when it is acceptable. */
export function validateRulePattern(pattern: string, isRegex: boolean): string | null {
  if (typeof pattern !== 'string' || pattern.trim() === '') return 'pattern is empty';
  if (pattern.length > MAX_RULE_PATTERN_LENGTH) {
    return `pattern is longer than ${MAX_RULE_PATTERN_LENGTH} characters`;
  }
  if (!isRegex) return null;
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'i');
  } catch (err) {
    return `invalid regular expression: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (re.test('')) return 'pattern matches an empty text, so it would match every bounce';
  if (hasNestedQuantifier(pattern)) {
    return 'pattern nests quantifiers (like (a+)+), which can make matching hang; simplify it';
  }
  return null;
}
