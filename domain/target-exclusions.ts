// Target resolution of a wizard run (SPEC 2): which leads a run sends to, and
// why each other lead is left out (the run's unsent list). The rules are data
// (domain/rule-expr.ts): production compiles them into the one INSERT … SELECT
// that prepares a run (db/run-queries.ts prepareTargets); resolveTargets reads
// the same rules in TypeScript, and test/integration/rules-differential.test.ts
// holds the two to the same answers.
//
// Per channel, in order (the first that applies is the lead's reason):
//   email  address_not_specified, invalid_address (validity flag off, unless allowlisted),
//          unsubscribed, no_permission (DM), blocklisted, quarantined, already_sent
//   sms    address_not_specified, unsubscribed, no_permission (SMS), blocklisted, quarantined, already_sent
//   line   address_not_specified, invalid_address (not a LINE user id),
//          unsubscribed, already_sent
// then, among the leads left, `duplicate` for every lead after the first (by
// lead id) with the same address as normalized for the channel.
//
// A target whose address is allowlisted and would have been excluded for its
// error state (email: the lead's validity flag off; either channel: the
// address's errors reach the quarantine threshold, or one quarantined it at
// once) is sent to and marked `ignoredError` (reason 25, ignored error).

import type { Channel } from './channels';
import type { ErrorReason } from './error-reasons';
import { QUARANTINE_AT_ONCE_REASONS } from './validity';
import {
  and,
  blankToNull,
  choose,
  coalesce,
  compare,
  concat,
  digitsOnly,
  emptyToNull,
  evaluateRule,
  from,
  input,
  isNull,
  literal,
  lower,
  matches,
  not,
  oneOf,
  or,
  type Rule,
  type RuleInputs,
  type RuleValue,
} from './rule-expr';

/**
 * Why a lead is in a run's unsent list. Where SPEC 5 names the reason it is
 * its error reason (address_not_specified, blocklisted, quarantined,
 * duplicate); the others are SPEC 2's exclusions that have no technical value.
 */
export type ExclusionReason =
  | Extract<ErrorReason, 'address_not_specified' | 'blocklisted' | 'quarantined' | 'duplicate'>
  | 'invalid_address'
  | 'unsubscribed'
  | 'no_permission'
  | 'already_sent';

export const EXCLUSION_REASONS: readonly ExclusionReason[] = [
  'address_not_specified',
  'invalid_address',
  'unsubscribed',
  'no_permission',
  'blocklisted',
  'quarantined',
  'already_sent',
  'duplicate',
];

/** Every channel has target rules: a channel added to domain/channels.ts does not compile until TARGET_RULES has its. */
export type TargetChannel = Channel;

/**
 * One channel's rules. `address` reads the lead's inputs; `dedupeKey` and the
 * exclusions read the inputs plus the resolved `address`.
 */
export interface ChannelTargetRules {
  /** The inputs the database binds: lead columns, run options, joined facts. */
  inputs: readonly string[];
  address: Rule;
  dedupeKey: Rule;
  exclusions: ReadonlyArray<{ reason: Exclude<ExclusionReason, 'duplicate'>; when: Rule }>;
  /** A target sent to despite its error state, the allowlist's doing (reason 25); absent: never. */
  ignoredError?: Rule;
}

/**
 * An email address as a bulk send accepts it (SPEC 3, 91001 "address empty or
 * not an email address"): something@something.something without `@` or ASCII
 * white space in the parts. Written without [:space:], whose meaning follows
 * the database's locale.
 */
export const EMAIL_ADDRESS_PATTERN = '^[^@ \\t\\n\\v\\f\\r]+@[^@ \\t\\n\\v\\f\\r]+\\.[^@ \\t\\n\\v\\f\\r]+$';

/** A LINE user id as the Messaging API issues them. */
export const LINE_USER_ID_PATTERN = '^U[0-9a-f]{32}$';

/** Results of an earlier send that make a lead "already sent this template" (its message went out). */
export const ALREADY_SENT_RESULTS: readonly string[] = ['delivered', 'sent'];

const alreadySent = and(not(input('includeAlreadySent')), input('sentThisTemplateBefore'));

/** An operator put the address on the allowlist (no status row: not allowlisted). */
const allowlisted = compare(coalesce(input('addressStatus'), literal('')), '=', literal('allowlisted'));

/**
 * The address's own error state as its status row records it (an allowlisted
 * row keeps counting errors since its last delivery): the quarantine
 * threshold reached, or a hard unknown user or closed account, which
 * quarantine at once (domain/validity.ts QUARANTINE_AT_ONCE_REASONS).
 */
const addressErrorState = and(
  compare(coalesce(input('addressErrorCount'), literal(0)), '>', literal(0)),
  or(
    compare(input('addressErrorCount'), '>=', input('quarantineThreshold')),
    and(
      compare(coalesce(input('addressErrorType'), literal('')), '=', literal('hard')),
      oneOf(coalesce(input('addressErrorReason'), literal('')), QUARANTINE_AT_ONCE_REASONS),
    ),
  ),
);

/** The inputs addressErrorState reads. */
const ADDRESS_ERROR_INPUTS = [
  'addressErrorCount',
  'addressErrorType',
  'addressErrorReason',
  'quarantineThreshold',
] as const;

const EMAIL_RULES: ChannelTargetRules = {
  inputs: [
    'email',
    'emailValid',
    'unsubscribed',
    'dmPermission',
    'permissionFilter',
    'addressStatus',
    ...ADDRESS_ERROR_INPUTS,
    'includeAlreadySent',
    'sentThisTemplateBefore',
  ],
  address: input('email'),
  dedupeKey: lower(input('address')),
  exclusions: [
    {
      reason: 'address_not_specified',
      when: or(isNull(input('address')), not(matches(input('address'), EMAIL_ADDRESS_PATTERN))),
    },
    // An allowlisted address is sent to despite its errors (issue 18): its validity flag does not hold it back.
    { reason: 'invalid_address', when: and(not(input('emailValid')), not(allowlisted)) },
    { reason: 'unsubscribed', when: input('unsubscribed') },
    { reason: 'no_permission', when: and(input('permissionFilter'), not(input('dmPermission'))) },
    { reason: 'blocklisted', when: compare(input('addressStatus'), '=', literal('blocklisted')) },
    { reason: 'quarantined', when: compare(input('addressStatus'), '=', literal('quarantined')) },
    { reason: 'already_sent', when: alreadySent },
  ],
  ignoredError: and(allowlisted, or(not(input('emailValid')), addressErrorState)),
};

const phoneDigits = digitsOnly(input('address'));
const noPhoneNumber = or(isNull(input('address')), compare(phoneDigits, '=', literal('')));

const SMS_RULES: ChannelTargetRules = {
  inputs: [
    'phone',
    'countryCallingCode',
    'unsubscribed',
    'smsPermission',
    'permissionFilter',
    'addressStatus',
    ...ADDRESS_ERROR_INPUTS,
    'includeAlreadySent',
    'sentThisTemplateBefore',
  ],
  address: blankToNull(input('phone')),
  // The same number once normalized: digits only; "+" and "00" prefixes are
  // international, a leading 0 a national number in the configured country.
  dedupeKey: choose(
    [
      { when: noPhoneNumber, then: literal(null) },
      { when: matches(input('address'), '^\\+'), then: phoneDigits },
      { when: matches(phoneDigits, '^00'), then: from(phoneDigits, 3) },
      { when: matches(phoneDigits, '^0'), then: concat(input('countryCallingCode'), from(phoneDigits, 2)) },
    ],
    phoneDigits,
  ),
  exclusions: [
    { reason: 'address_not_specified', when: noPhoneNumber },
    { reason: 'unsubscribed', when: input('unsubscribed') },
    { reason: 'no_permission', when: and(input('permissionFilter'), not(input('smsPermission'))) },
    // Numbers are blocklisted and quarantined like email addresses (issue 18).
    { reason: 'blocklisted', when: compare(input('addressStatus'), '=', literal('blocklisted')) },
    { reason: 'quarantined', when: compare(input('addressStatus'), '=', literal('quarantined')) },
    { reason: 'already_sent', when: alreadySent },
  ],
  ignoredError: and(allowlisted, addressErrorState),
};

const LINE_RULES: ChannelTargetRules = {
  inputs: ['lineUserId', 'unsubscribed', 'includeAlreadySent', 'sentThisTemplateBefore'],
  address: emptyToNull(input('lineUserId')),
  dedupeKey: input('address'),
  exclusions: [
    { reason: 'address_not_specified', when: isNull(input('address')) },
    { reason: 'invalid_address', when: not(matches(input('lineUserId'), LINE_USER_ID_PATTERN)) },
    { reason: 'unsubscribed', when: input('unsubscribed') },
    { reason: 'already_sent', when: alreadySent },
  ],
};

export const TARGET_RULES: Readonly<Record<TargetChannel, ChannelTargetRules>> = {
  email: EMAIL_RULES,
  sms: SMS_RULES,
  line: LINE_RULES,
};

/** The first exclusion that applies as one rule: a reason, or null for a target. */
export function exclusionReasonRule(channel: TargetChannel): Rule {
  return choose(
    TARGET_RULES[channel].exclusions.map((e) => ({ when: e.when, then: literal(e.reason) })),
    literal(null),
  );
}

export interface TargetCandidate {
  leadId: number;
  /** The channel's inputs (see TARGET_RULES[channel].inputs). */
  inputs: RuleInputs;
}

/** The target's "ignored error" mark (reason 25) as one rule: false when the channel has none. */
export function ignoredErrorRule(channel: TargetChannel): Rule {
  return coalesce(TARGET_RULES[channel].ignoredError ?? literal(false), literal(false));
}

export interface ResolvedTargets {
  /** Lead ids in sending order, with the address each is sent to and whether it ignores its errors (reason 25). */
  targets: Array<{ leadId: number; address: string; ignoredError: boolean }>;
  excluded: Array<{ leadId: number; address: string | null; reason: ExclusionReason }>;
}

/** A run's targets and its unsent list, as preparation records them. */
export function resolveTargets(
  channel: TargetChannel,
  candidates: readonly TargetCandidate[],
): ResolvedTargets {
  const rules = TARGET_RULES[channel];
  const reasonRule = exclusionReasonRule(channel);
  const sorted = [...candidates].sort((a, b) => a.leadId - b.leadId);
  const seen = new Set<RuleValue>();
  const out: ResolvedTargets = { targets: [], excluded: [] };
  for (const c of sorted) {
    const address = text(evaluateRule(rules.address, c.inputs));
    const withAddress = { ...c.inputs, address };
    const reason = evaluateRule(reasonRule, withAddress) as Exclude<ExclusionReason, 'duplicate'> | null;
    if (reason !== null) {
      out.excluded.push({ leadId: c.leadId, address, reason });
      continue;
    }
    // A target always has an address: every channel excludes a missing one first.
    const key = evaluateRule(rules.dedupeKey, withAddress);
    if (seen.has(key)) out.excluded.push({ leadId: c.leadId, address, reason: 'duplicate' });
    else {
      seen.add(key);
      out.targets.push({
        leadId: c.leadId,
        address: address ?? '',
        ignoredError: evaluateRule(ignoredErrorRule(channel), withAddress) === true,
      });
    }
  }
  return out;
}

function text(v: RuleValue): string | null {
  return v === null ? null : String(v);
}
