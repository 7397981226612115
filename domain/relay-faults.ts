// Faults of our connection to our own SMTP relay (SPEC §10: failures about us are not the
// recipient's fault). Every message leaves through one relay (SMTP_URL), so when the relay
// cannot be reached, resolved, secured or logged into, or refuses to relay at all, the
// recipients are fine: their sends wait and no lead or address changes.
//
// The rule is data: an ordered table of patterns over the evidence nodemailer gives (its error
// code, the SMTP stage the reply answers, the reply code and text), each with the reason an
// operator is shown. A second piece of evidence is agreement: the same refusal at MAIL / RCPT
// for several recipients of different domains with nothing accepted in between is the relay
// speaking, not each recipient (relayRefusalByAgreement).
// Pure: safe to import from workflow code.

import { DeliveryCode } from './delivery-codes';
import type { ClassificationFacts } from './smtp-classification';

export type RelayFaultReason =
  | 'relay_dns'
  | 'relay_tls'
  | 'relay_auth'
  | 'relay_refused'
  | 'relay_sender_refused'
  | 'relay_unavailable'
  | 'relay_unreachable';

export const RELAY_FAULT_REASONS: readonly RelayFaultReason[] = [
  'relay_dns',
  'relay_tls',
  'relay_auth',
  'relay_refused',
  'relay_sender_refused',
  'relay_unavailable',
  'relay_unreachable',
];

/** Every field present must hold. */
export interface RelayFaultCondition {
  /** nodemailer error codes (upper case). */
  errorCodes?: readonly string[];
  hasErrorCode?: boolean;
  hasReply?: boolean;
  basicCodes?: readonly number[];
  /** First digit of the basic code. */
  basicClasses?: readonly number[];
  /** SMTP stages: a command, or its first word ('AUTH' matches 'AUTH PLAIN'). */
  stages?: readonly string[];
  /** Not at these stages. */
  stagesNot?: readonly string[];
  basicCodesNot?: readonly number[];
  /** Enhanced codes that keep the reply out of the pattern (prefixes end in '.'). */
  enhancedNot?: readonly string[];
  text?: RegExp;
  textNot?: RegExp;
}

export interface RelayFaultPattern {
  id: string;
  reason: RelayFaultReason;
  /** SPEC §3 code recorded when the fault must be written down (a single send). */
  code: number;
  /** What an operator reads in the run's status detail and the log. */
  explanation: string;
  /** Matches when any condition holds. */
  when: readonly RelayFaultCondition[];
}

export interface RelayFault {
  reason: RelayFaultReason;
  patternId: string;
  code: number;
  explanation: string;
}

// Stages before any recipient is named: a reply there is about our session with the relay.
const SESSION_STAGES = ['CONN', 'EHLO', 'HELO', 'LHLO', 'STARTTLS', 'AUTH'];
const CONNECTION_ERRORS = [
  'ECONNECTION',
  'ESOCKET',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EPROXY',
  'EPROTOCOL',
];
// Postfix "Relay access denied", Exchange "Unable to relay", sendmail "Relaying denied", qmail
// "isn't in my list of allowed rcpthosts", "not permitted to relay", "relay not permitted".
export const RELAY_DENIED_TEXT =
  /\brelay(?:ing)? (?:access )?(?:is )?(?:denied|not (?:permitted|allowed|authori[sz]ed)|prohibited|disallowed|refused)|\bunable to relay\b|\b(?:not (?:permitted|allowed|authori[sz]ed)|not able|cannot) (?:to )?relay\b|\bwe do not relay\b|\bno relaying\b|list of allowed rcpthosts|\brelay(?:ing)? (?:to \S+ )?(?:is )?forbidden/i;
const DNS_TEXT = /\b(?:ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL)\b/;
const TLS_TEXT = /\bSSL\b|\bTLS\b|certificate|wrong version number|handshake|self[- ]signed/i;

/** First match wins. */
export const RELAY_FAULT_PATTERNS: readonly RelayFaultPattern[] = [
  {
    // nodemailer resolves only the relay's host name (we never look up recipients' MX):
    // EDNS is always about the relay.
    id: 'relay-host-does-not-resolve',
    reason: 'relay_dns',
    code: DeliveryCode.ConnectionFailed,
    explanation: "the relay's host name does not resolve (check SMTP_URL and DNS)",
    when: [{ errorCodes: ['EDNS'] }, { hasErrorCode: true, hasReply: false, text: DNS_TEXT }],
  },
  {
    id: 'relay-tls-failed',
    reason: 'relay_tls',
    code: DeliveryCode.ConnectionFailed,
    explanation: 'TLS with the relay failed (certificate, protocol or STARTTLS)',
    when: [
      { errorCodes: ['ETLS', 'EREQUIRETLS'] },
      { errorCodes: CONNECTION_ERRORS, hasReply: false, text: TLS_TEXT },
    ],
  },
  {
    // RFC 4954: 530 authentication required, 534 mechanism too weak, 535 credentials invalid,
    // 538 encryption required; X.7.8 credentials invalid.
    id: 'relay-authentication-failed',
    reason: 'relay_auth',
    code: DeliveryCode.AuthenticationFailed,
    explanation: 'the relay refused our SMTP authentication (check the credentials in SMTP_URL)',
    when: [
      { errorCodes: ['EAUTH', 'ENOAUTH', 'EOAUTH2'] },
      { basicCodes: [530, 534, 535, 538], stages: [...SESSION_STAGES, 'MAIL FROM', 'RCPT TO'] },
    ],
  },
  {
    id: 'relay-access-denied',
    reason: 'relay_refused',
    code: DeliveryCode.AccessDenied,
    explanation: 'the relay refuses to relay our mail (relay access denied: check its permitted senders)',
    when: [{ basicClasses: [4, 5], stages: ['MAIL FROM', 'RCPT TO'], text: RELAY_DENIED_TEXT }],
  },
  {
    // 421 "service not available, closing transmission channel" (RFC 5321 §3.8) is about the
    // channel whatever the stage; any refusal before a recipient is named is about our session.
    id: 'relay-unavailable',
    reason: 'relay_unavailable',
    code: DeliveryCode.ConnectionFailed,
    explanation: 'the relay is not accepting our connection (refused at greeting or closing the channel)',
    when: [
      // X.7.x with a 421 is a policy or throttle reply (a domain's, or sender authentication), left to
      // the classification's stream-policy rules, which already spare the recipient.
      {
        basicCodes: [421],
        stages: [...SESSION_STAGES, 'MAIL FROM', 'RCPT TO', 'DATA'],
        enhancedNot: ['4.7.', '5.7.'],
      },
      { basicClasses: [4, 5], stages: SESSION_STAGES },
    ],
  },
  {
    // A refusal of MAIL FROM comes before any recipient: our sender or our account with the
    // relay. The message's size (X.3.4, X.2.3, 552) is the message's problem, not the relay's.
    id: 'relay-refused-sender',
    reason: 'relay_sender_refused',
    code: DeliveryCode.AccessDenied,
    explanation: 'the relay refused our envelope sender at MAIL FROM',
    when: [
      {
        basicClasses: [4, 5],
        stages: ['MAIL FROM'],
        basicCodesNot: [552],
        enhancedNot: ['5.3.4', '4.3.4', '5.2.3', '4.2.3'],
        textNot: /\bsize\b|too (?:big|large)/i,
      },
    ],
  },
  {
    // Connection refused, reset, closed or timed out (a timeout after the final dot was decided
    // as delivered before this table is consulted).
    id: 'relay-unreachable',
    reason: 'relay_unreachable',
    code: DeliveryCode.ConnectionFailed,
    explanation: 'the relay cannot be reached (connection refused, reset or timed out)',
    when: [{ errorCodes: CONNECTION_ERRORS }, { hasErrorCode: true, hasReply: false }],
  },
];

function stageMatches(stage: string, command: string): boolean {
  return command === stage || command.startsWith(`${stage} `);
}

function enhancedMatches(pattern: string, code: string): boolean {
  return pattern.endsWith('.') ? code.startsWith(pattern) : code === pattern;
}

function holds(c: RelayFaultCondition, facts: ClassificationFacts): boolean {
  const { errorCode, basicCode, enhancedCode, command } = facts;
  if (c.errorCodes && (errorCode === null || !c.errorCodes.includes(errorCode))) return false;
  if (c.hasErrorCode !== undefined && (errorCode !== null) !== c.hasErrorCode) return false;
  if (c.hasReply !== undefined && (basicCode !== null) !== c.hasReply) return false;
  if (c.basicCodes && (basicCode === null || !c.basicCodes.includes(basicCode))) return false;
  if (c.basicClasses && (basicCode === null || !c.basicClasses.includes(Math.floor(basicCode / 100))))
    return false;
  if (c.basicCodesNot && basicCode !== null && c.basicCodesNot.includes(basicCode)) return false;
  if (c.stages && (command === null || !c.stages.some((s) => stageMatches(s, command)))) return false;
  if (c.stagesNot && command !== null && c.stagesNot.some((s) => stageMatches(s, command))) return false;
  if (c.enhancedNot && enhancedCode !== null && c.enhancedNot.some((p) => enhancedMatches(p, enhancedCode)))
    return false;
  if (c.text && !c.text.test(facts.text)) return false;
  if (c.textNot && c.textNot.test(facts.text)) return false;
  return true;
}

/** The relay fault these facts show, or null when the outcome is the recipient's to own. */
export function findRelayFault(facts: ClassificationFacts): RelayFault | null {
  const pattern = RELAY_FAULT_PATTERNS.find((p) => p.when.some((c) => holds(c, facts)));
  return pattern
    ? { reason: pattern.reason, patternId: pattern.id, code: pattern.code, explanation: pattern.explanation }
    : null;
}

// ---------------------------------------------------------------------------------------------
// Agreement: one refusal for everybody.

/** Refusals that may be the relay's even without a telling text: policy refusals at MAIL / RCPT.
 * Addressing and mailbox verdicts (X.1.x, X.2.x) name a recipient and never qualify. */
export function mayBeRelayRefusal(facts: ClassificationFacts): boolean {
  if (facts.command === null || !['MAIL FROM', 'RCPT TO'].includes(facts.command)) return false;
  if (facts.basicCode === null || facts.basicCode < 400) return false;
  const e = facts.enhancedCode;
  if (e !== null && /^[45]\.[12]\./.test(e)) return false;
  return e === null ? [550, 554, 450, 451].includes(facts.basicCode) : /^[45]\.7\./.test(e);
}

/** The reply with what names a recipient taken out, so one refusal for everybody reads the same. */
export function refusalSignature(facts: ClassificationFacts): string {
  const text = facts.text
    .replace(/<[^<>\s]*>/g, '<*>')
    .replace(/[^\s<>@]+@[^\s<>@]+/g, '*')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
  return `${facts.command ?? ''}|${facts.basicCode ?? ''}|${text}`;
}

/** Evidence that the relay, not each recipient, refuses: at least this many recipients ... */
export const RELAY_AGREEMENT_MIN_RECIPIENTS = 3;
/** ... of at least this many receiving domains got the same refusal, and nothing was accepted. */
export const RELAY_AGREEMENT_MIN_DOMAINS = 2;

export interface RefusalSighting {
  /** The recipient's domain. */
  domain: string;
  signature: string;
}

/**
 * The relay refuses everybody alike: every refusal seen on the relay since its last acceptance
 * carries one signature, from enough recipients of enough domains. A single domain's policy
 * (one receiving system refusing us) is not the relay's and is left to the usual rules.
 */
export function relayRefusalByAgreement(
  sightings: readonly RefusalSighting[],
  acceptedSinceFirst: number,
): boolean {
  if (acceptedSinceFirst > 0 || sightings.length < RELAY_AGREEMENT_MIN_RECIPIENTS) return false;
  const first = sightings[0]!.signature;
  if (!sightings.every((s) => s.signature === first)) return false;
  return new Set(sightings.map((s) => s.domain)).size >= RELAY_AGREEMENT_MIN_DOMAINS;
}

/** The fault recorded when agreement shows the relay refusing. */
export const RELAY_REFUSED_BY_AGREEMENT: RelayFault = {
  reason: 'relay_refused',
  patternId: 'relay-refuses-everybody-alike',
  code: DeliveryCode.AccessDenied,
  explanation: 'the relay gives every recipient the same refusal (relay access denied?)',
};

/**
 * How long sends wait before the relay is tried again: the first hold, then as long as the
 * fault has lasted (so probes thin out during a long outage), at most `maxMs`.
 */
export function relayHoldMs(faultSinceMs: number, nowMs: number, minMs: number, maxMs: number): number {
  const lasted = Math.max(0, nowMs - faultSinceMs);
  return Math.max(minMs, Math.min(maxMs, lasted));
}
