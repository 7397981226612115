// Every SMTP reply and transport error mapped to a delivery outcome (SPEC §3 codes, §5 types and reasons).
// The mapping is one ordered rule table; the functions below only parse the input and walk it.
// Pure: safe to import from workflow code.

import { DELIVERY_CODES, DeliveryCode, invalidatesAtOnce, type DeliveryCodeClass } from './delivery-codes';
import type { DeliveryOutcome } from './delivery-outcome';
import type { ErrorReason, ErrorType } from './error-reasons';
import { findRelayFault, mayBeRelayRefusal, refusalSignature, type RelayFaultReason } from './relay-faults';

/** An SMTP reply or transport error as a delivery outcome: SPEC §3 code, §5 type and reason always known. */
export interface SmtpOutcome extends DeliveryOutcome {
  /** SPEC §3 code. */
  code: number;
  /** null on success. */
  errorType: ErrorType | null;
  /** null on success. */
  reason: ErrorReason | null;
  /** A fault of our connection to our own relay (domain/relay-faults.ts): the send waits for the relay
   * instead of being recorded against its recipient. null for every other outcome. */
  relayFault: RelayFaultReason | null;
  /** Set on a policy refusal at MAIL / RCPT that may be the relay refusing everybody: its signature (the
   * reply without the recipient), compared across recipients by relayRefusalByAgreement. */
  refusalSignature: string | null;
  /** Human text, including the remote reply when there is one. */
  detail: string;
}

export interface SmtpReply {
  responseCode?: number;
  response?: string;
  /** The command the reply answers ('CONN', 'EHLO', 'MAIL FROM', 'RCPT TO', 'DATA', …). 'DATA' on a reply
   * means the reply to the message's final "." (nodemailer reports that one as command 'DATA'). */
  command?: string;
}

/** nodemailer's error shape. A timeout is only "after the final dot" when the caller says so with command
 * 'DATA': nodemailer reports every timeout as 'CONN', so the channel must set it from its own progress. */
export interface TransportError extends SmtpReply {
  code?: string;
  message?: string;
}

/** What the rules look at, parsed once from a reply or an error. */
export interface ClassificationFacts {
  /** nodemailer's `code` (upper case), null for a plain reply. */
  errorCode: string | null;
  /** RFC 5321 basic reply code, from `responseCode` or the reply's first three digits. */
  basicCode: number | null;
  /** RFC 3463 enhanced status code found in the reply text, e.g. '5.1.1'. */
  enhancedCode: string | null;
  /** Upper case, e.g. 'RCPT TO'. */
  command: string | null;
  /** The remote reply, or the error message when there is no reply. */
  text: string;
  /** The reply (or the silence) came after the message's final "." was sent. */
  afterFinalDot: boolean;
}

/** Every field present must hold. Enhanced patterns ending in '.' are prefixes ('5.7.'); others are exact
 * ('5.1.1' does not match '5.1.10'). */
export interface SmtpCondition {
  errorCodes?: readonly string[];
  hasErrorCode?: boolean;
  hasReply?: boolean;
  basicCodes?: readonly number[];
  /** First digit of the basic code. */
  basicClasses?: readonly number[];
  hasEnhanced?: boolean;
  enhanced?: readonly string[];
  enhancedNot?: readonly string[];
  commands?: readonly string[];
  afterFinalDot?: boolean;
  text?: RegExp;
}

export interface SmtpClassificationRule {
  id: string;
  /** Matches when any condition holds. */
  when: readonly SmtpCondition[];
  code: number;
  errorType: ErrorType | null;
  reason: ErrorReason | null;
  policyBlock?: boolean;
  /** Overrides the default (retry every error that is not hard). */
  retryable?: boolean;
  /** Decided before the relay-fault patterns are consulted: success and our own local failures. */
  beforeRelayFaults?: boolean;
}

// Texts. Kept narrow: each is only consulted where the codes leave the decision open.
const UNKNOWN_USER_TEXT =
  /\b(?:user|recipient|mailbox|address|account)\b[^.\n]{0,40}?\b(?:unknown|not found|does not exist|doesn't exist|no longer exists)|\bno such (?:user|recipient|mailbox|address|account)|\bunknown (?:user|recipient|mailbox|address)|\binvalid (?:recipient|mailbox)|doesn't have an? \S+ account|RecipientNotFound|\bmailbox unavailable\b/i;
const INACTIVE_TEXT =
  /\binactive\b|\bdisabled\b|\bdeactivated\b|\bsuspended\b|account (?:has been |is )?closed|no longer (?:active|in use|available)/i;
const RATE_TEXT = /too (?:fast|quickly|many)|\brate\b|\bratelimit/i;
// Texts naming our IP or host speak of the stream, not the recipient (Gmail "The IP you're using … is not
// authorized", Microsoft "Client host … blocked").
const POLICY_TEXT =
  /\b(?:TSS\d\d|TS0\d|BL\d\d|S3140|S3150|SC-00\d|RP-00\d|OU-00\d|DY-00\d)\b|unsolicited|\bspam|reputation|\bblock(?:ed|list|listed)?\b|black ?list|deny ?list|\b(?:RBL|DNSBL)\b|spamhaus|\bbanned\b|too many (?:messages|connections|recipients)|rate[- ]?limit|unexpected volume|complaints|traffic not accepted|\bIP\b|\bclient host\b|\bPTR\b|reverse (?:DNS|lookup)|\b(?:denied|rejected|refused|blocked) (?:by|due to) (?:local |site |our )?policy\b|\bpolicy (?:rejection|violation)\b|\bmessage filtered\b/i;
// A frozen or locked mailbox may thaw: soft, like a disabled one without a text saying it is gone.
const FROZEN_TEXT = /\bmail ?box is (?:frozen|locked)\b|\baccount (?:is )?(?:frozen|locked)\b/i;
// The message's size, whatever the code (552 is also "storage exceeded"): the content is at fault.
const MESSAGE_SIZE_TEXT =
  /\bmessage (?:size )?(?:is )?too (?:large|big)\b|\bmessage size exceeds\b|\bexceeds (?:the )?(?:maximum )?(?:message )?size limit\b/i;
const RATE_LIMIT_TEXT =
  /too many (?:recipients|connections|messages)|\brate that prevents\b|receiving mail (?:at a rate|too quickly)|rate[- ]?limit|\bthrottl/i;
const SENDER_AUTH_TEXT = /\b(?:SPF|DKIM|DMARC)\b|\bunauthenticated\b/i;
const FULL_TEXT =
  /mailbox (?:is )?full|over (?:the )?quota|quota exceeded|exceed(?:s|ed)? (?:the |its )?(?:storage|quota)|out of storage|insufficient (?:storage|space)/i;
const BAD_DOMAIN_TEXT =
  /\bdomain (?:name )?(?:not found|does not exist|doesn't exist)|\bno such domain|\bunrout(?:e)?able (?:address|domain)|\bhost (?:not found|unknown)|\bNXDOMAIN\b|DNS domain \S+ does not exist/i;
const DNS_ERROR_TEXT = /\bENOTFOUND\b|\bENODATA\b|\bNXDOMAIN\b|\bEAI_AGAIN\b|\bno MX\b|\bqueryMx\b/i;

/**
 * First match wins, so the order is the policy:
 * 1. success and our own (local) failures (then, in classify(), our relay's faults: domain/relay-faults.ts);
 * 2. blocks of our stream, whatever the reply code (they must not
 * hurt the recipient); 3. the final-dot 550 (the seed's 42559 is defined by the stage); 4. recipient and
 * mailbox verdicts by enhanced code, then by text; 5. basic codes; 6. transport errors without a reply;
 * 7. fallbacks.
 */
export const SMTP_CLASSIFICATION_RULES: readonly SmtpClassificationRule[] = [
  {
    id: 'accepted',
    when: [{ basicClasses: [2] }],
    code: DeliveryCode.Delivered,
    errorType: null,
    reason: null,
    beforeRelayFaults: true,
  },
  {
    // Seed 40001: silence after the final "." means the server most likely has the message; resending
    // risks a duplicate.
    id: 'timeout-after-final-dot',
    when: [{ errorCodes: ['ETIMEDOUT'], commands: ['DATA'] }],
    code: DeliveryCode.DeliveredAfterTimeout,
    errorType: null,
    reason: null,
    beforeRelayFaults: true,
  },
  {
    // nodemailer refuses an envelope without a usable recipient before talking to anyone.
    id: 'missing-recipient',
    when: [{ errorCodes: ['EENVELOPE'], commands: ['API'], text: /recipient/i }],
    code: DeliveryCode.InvalidAddress,
    errorType: 'hard',
    reason: 'address_not_specified',
    beforeRelayFaults: true,
  },
  {
    // Our message or envelope is unusable (invalid sender, empty message, over the advertised SIZE):
    // resending the same data fails the same way.
    id: 'local-message-data',
    when: [{ errorCodes: ['EENVELOPE', 'EMESSAGE', 'ECONFIG', 'EOTP', 'EMAXRECIPIENTS'], hasReply: false }],
    code: DeliveryCode.QueueDataError,
    errorType: 'soft',
    reason: 'unreachable',
    policyBlock: true,
    retryable: false,
    beforeRelayFaults: true,
  },
  {
    // Reading our own content failed; the seed resends after recovery.
    id: 'local-io',
    when: [{ errorCodes: ['ESTREAM', 'EFETCH', 'EFILEACCESS', 'EURLACCESS'] }],
    code: DeliveryCode.QueueIoError,
    errorType: 'soft',
    reason: 'unreachable',
    policyBlock: true,
    beforeRelayFaults: true,
  },
  {
    // Sending aborted on our side (run cancelled): nothing to retry, nothing against the recipient.
    id: 'aborted',
    when: [{ errorCodes: ['EABORT'] }],
    code: DeliveryCode.DeliveryAbandoned,
    errorType: 'soft',
    reason: 'unreachable',
    policyBlock: true,
    retryable: false,
    beforeRelayFaults: true,
  },
  {
    // Our SPF / DKIM / DMARC / PTR / sender address is wrong (RFC 7372, Gmail 4.7.2x-4.7.40, Microsoft
    // 5.7.515): the stream must halt, the recipient is fine.
    id: 'sender-authentication',
    when: [
      {
        // prettier-ignore
        enhanced: [
          '5.7.20', '5.7.21', '5.7.22', '5.7.23', '5.7.24', '5.7.25', '5.7.26', '5.7.27', '5.7.30', '5.7.32',
          '5.7.40', '5.7.515', '4.7.23', '4.7.24', '4.7.25', '4.7.26', '4.7.27', '4.7.29', '4.7.30', '4.7.32',
          '4.7.40', '5.1.7', '5.1.8', '4.1.7', '4.1.8',
        ],
      },
      { basicClasses: [4, 5], text: SENDER_AUTH_TEXT, enhancedNot: ['5.1.', '4.1.', '5.2.', '4.2.'] },
    ],
    code: DeliveryCode.AccessDenied,
    errorType: 'soft',
    reason: 'refused',
    policyBlock: true,
  },
  {
    // Our relay's SMTP AUTH (RFC 4954 530/534/535/538, X.7.8) or TLS-before-AUTH requirement.
    id: 'smtp-authentication',
    when: [
      { errorCodes: ['EAUTH', 'ENOAUTH', 'EOAUTH2'] },
      { basicCodes: [530, 534, 535, 538] },
      { enhanced: ['5.7.8', '4.7.8'] },
    ],
    code: DeliveryCode.AuthenticationFailed,
    errorType: 'soft',
    reason: 'unreachable',
    policyBlock: true,
  },
  {
    // RFC 3463 X.7.x is "security or policy"; as a 4xx it is a throttle, greylist or reputation deferral
    // (Gmail 4.7.0 / 4.7.28, Yahoo TSS04, Microsoft 4.7.500); Gmail 5.7.28 is the same rate-of-spam block.
    id: 'temporary-policy-block',
    when: [{ enhanced: ['4.7.', '5.7.28'] }],
    code: DeliveryCode.AccessDenied,
    errorType: 'soft',
    reason: 'refused',
    policyBlock: true,
  },
  {
    // Gmail's X.2.1 "receiving mail too quickly / at a rate": the recipient is fine, we are too fast.
    id: 'recipient-rate-limited',
    when: [{ enhanced: ['5.2.1', '4.2.1'], text: RATE_TEXT }],
    code: DeliveryCode.AccessDenied,
    errorType: 'soft',
    reason: 'refused',
    policyBlock: true,
  },
  {
    // Our rate, whatever the code says ("550 5.1.1 … too many recipients this hour", Gmail "receiving mail
    // at a rate that prevents additional messages"): the recipient is fine.
    id: 'rate-text',
    when: [{ basicClasses: [4, 5], text: RATE_LIMIT_TEXT }],
    code: DeliveryCode.AccessDenied,
    errorType: 'soft',
    reason: 'refused',
    policyBlock: true,
  },
  {
    // Spam / reputation / blocklist texts (Gmail "likely unsolicited", "low reputation"; Microsoft S3150,
    // SC-001, RP-001; Yahoo TSS04, BL21 Spamhaus). Addressing and mailbox codes keep their own meaning.
    id: 'spam-or-reputation-block',
    when: [{ basicClasses: [4, 5], text: POLICY_TEXT, enhancedNot: ['5.1.', '4.1.', '5.2.', '4.2.'] }],
    code: DeliveryCode.AccessDenied,
    errorType: 'soft',
    reason: 'refused',
    policyBlock: true,
  },
  {
    // Seed 42559: 550 after the final "."; an unknown-user verdict keeps its reason.
    id: 'rejected-after-final-dot-unknown-user',
    when: [
      { basicCodes: [550], afterFinalDot: true, enhanced: ['5.1.'] },
      { basicCodes: [550], afterFinalDot: true, text: UNKNOWN_USER_TEXT },
    ],
    code: DeliveryCode.RejectedAfterData,
    errorType: 'hard',
    reason: 'unknown_user',
  },
  {
    // Other 5xx after the final "." (552, 554, …) follow their own codes below: the seed names 550 only.
    id: 'rejected-after-final-dot',
    when: [{ basicCodes: [550], afterFinalDot: true }],
    code: DeliveryCode.RejectedAfterData,
    errorType: 'hard',
    reason: 'refused',
  },
  {
    // REFERENCE: X.2.1 / X.2.2 are hard only when the text says the account is gone (Gmail "over quota and
    // inactive"); RFC 7372 5.7.13 "user account disabled", RFC 6710 5.7.17 "mailbox owner has changed".
    id: 'account-inactive',
    when: [
      { basicClasses: [5], enhanced: ['5.2.1', '5.2.2', '5.2.0'], text: INACTIVE_TEXT },
      { basicClasses: [5], hasEnhanced: false, text: INACTIVE_TEXT },
      { enhanced: ['5.7.13', '5.7.17'] },
    ],
    code: DeliveryCode.MailboxUnavailable,
    errorType: 'hard',
    reason: 'invalid_account',
  },
  {
    // X.2.1 "mailbox disabled, not accepting messages" without a text saying it is gone: maybe temporary
    // (the seed: a dormant account is retried until the counter reaches its threshold).
    id: 'account-unavailable',
    when: [{ enhanced: ['5.2.1', '4.2.1'] }, { basicClasses: [4, 5], text: FROZEN_TEXT }],
    code: DeliveryCode.TransactionFailed,
    errorType: 'soft',
    reason: 'invalid_account',
  },
  {
    // RFC 3463 5.1.2 bad destination system; Microsoft 5.4.310 "DNS domain does not exist"; 5.4.4 no route;
    // RFC 7505 null MX (5.1.10 with its wording: Microsoft's 5.1.10 is RecipientNotFound). Both seed
    // manuals: the part after @ does not resolve, fix the address and send again: soft 41605.
    id: 'bad-domain',
    when: [
      { enhanced: ['5.1.2', '5.4.4', '5.4.310'] },
      { enhanced: ['5.1.10'], text: /\bnull MX\b|does not accept mail/i },
    ],
    code: DeliveryCode.DnsFailure,
    errorType: 'soft',
    reason: 'invalid_domain',
  },
  {
    // RFC 3463 5.1.6 "mailbox has moved, no forwarding address" = 551 user not local: permanent.
    id: 'user-not-local',
    when: [{ enhanced: ['5.1.6'] }],
    code: DeliveryCode.UserNotLocal,
    errorType: 'hard',
    reason: 'invalid_account',
  },
  {
    // RFC 3463 5.1.3 bad destination mailbox address syntax = 553 mailbox name not allowed: permanent.
    id: 'bad-address-syntax',
    when: [{ enhanced: ['5.1.3'] }],
    code: DeliveryCode.MailboxNameNotAllowed,
    errorType: 'hard',
    reason: 'unknown_user',
  },
  {
    // Gmail 5.1.1, Microsoft 5.1.10 RecipientNotFound and 5.4.1 directory-based edge blocking; every other
    // 5.1.x is an addressing verdict too (5.1.7 / 5.1.8, our sender, were taken above).
    id: 'unknown-user',
    when: [
      { enhanced: ['5.1.'] },
      { enhanced: ['5.4.1'], text: /recipient address rejected: access denied/i },
    ],
    code: DeliveryCode.MailboxUnavailable,
    errorType: 'hard',
    reason: 'unknown_user',
  },
  {
    id: 'message-content-refused',
    // X.3.4 / X.2.3 too big, 5.6.x content: fix the message, the recipient is fine (REFERENCE).
    when: [
      { basicClasses: [5], enhanced: ['5.3.4', '5.2.3', '5.6.'] },
      { basicClasses: [5], text: MESSAGE_SIZE_TEXT, enhancedNot: ['5.1.', '5.2.2'] },
    ],
    code: DeliveryCode.TransactionFailed,
    errorType: 'soft',
    reason: 'refused',
    policyBlock: true,
    retryable: false,
  },
  {
    // X.2.2 mailbox full and 452 / 552 storage (RFC 5321); soft, back to valid after 30 days (SPEC §4).
    id: 'mailbox-full',
    when: [
      { enhanced: ['5.2.2', '4.2.2'] },
      { basicCodes: [452, 552] },
      { basicClasses: [4, 5], text: FULL_TEXT },
    ],
    code: DeliveryCode.InsufficientStorage,
    errorType: 'soft',
    reason: 'mailbox_full',
  },
  {
    id: 'bad-domain-text',
    when: [{ basicClasses: [5], text: BAD_DOMAIN_TEXT, enhancedNot: ['5.7.'] }],
    code: DeliveryCode.DnsFailure,
    errorType: 'soft',
    reason: 'invalid_domain',
  },
  {
    // Yahoo "554 … dd This user doesn't have a yahoo.com account", Microsoft "550 5.5.0 … mailbox
    // unavailable", old servers' "550 No such user".
    id: 'unknown-user-text',
    when: [{ basicClasses: [5], text: UNKNOWN_USER_TEXT, enhancedNot: ['5.7.'] }],
    code: DeliveryCode.MailboxUnavailable,
    errorType: 'hard',
    reason: 'unknown_user',
  },
  {
    // 5.7.1 that is not spam (spam was taken above), 521 "does not accept mail" (RFC 7504), 556 "domain does
    // not accept mail": the seed's 42521, permanent.
    id: 'refused-by-server',
    when: [{ enhanced: ['5.7.1'] }, { basicCodes: [521, 556] }],
    code: DeliveryCode.RefusedByServer,
    errorType: 'hard',
    reason: 'refused',
  },
  {
    // Any other 5.7.x security / policy refusal: the seed's 42530 "access denied", not the recipient's fault.
    id: 'other-policy-block',
    when: [{ enhanced: ['5.7.'] }],
    code: DeliveryCode.AccessDenied,
    errorType: 'soft',
    reason: 'refused',
    policyBlock: true,
  },
  {
    id: 'user-not-local-basic',
    when: [{ basicCodes: [551] }],
    code: DeliveryCode.UserNotLocal,
    errorType: 'hard',
    reason: 'unknown_user',
  },
  {
    id: 'mailbox-name-not-allowed',
    when: [{ basicCodes: [553] }],
    code: DeliveryCode.MailboxNameNotAllowed,
    errorType: 'hard',
    reason: 'refused',
  },
  // 500-504: the seed says the receiving server is misbehaving (or we are); soft, retried later.
  {
    id: 'syntax-error',
    when: [{ basicCodes: [500] }],
    code: DeliveryCode.SyntaxError,
    errorType: 'soft',
    reason: 'unreachable',
  },
  {
    id: 'parameter-syntax-error',
    when: [{ basicCodes: [501] }],
    code: DeliveryCode.ParameterSyntaxError,
    errorType: 'soft',
    reason: 'unreachable',
  },
  {
    id: 'command-not-implemented',
    when: [{ basicCodes: [502] }],
    code: DeliveryCode.CommandNotImplemented,
    errorType: 'soft',
    reason: 'unreachable',
  },
  {
    id: 'bad-command-sequence',
    when: [{ basicCodes: [503] }],
    code: DeliveryCode.BadCommandSequence,
    errorType: 'soft',
    reason: 'unreachable',
  },
  {
    // 555 (RFC 5321) is the MAIL / RCPT flavour of 504.
    id: 'parameter-not-implemented',
    when: [{ basicCodes: [504, 555] }],
    code: DeliveryCode.ParameterNotImplemented,
    errorType: 'soft',
    reason: 'unreachable',
  },
  {
    // 421 "service not available, closing channel": the server hung up on us.
    id: 'service-unavailable',
    when: [{ basicCodes: [421] }],
    code: DeliveryCode.ConnectionFailed,
    errorType: 'soft',
    reason: 'unreachable',
  },
  {
    // 550 without a recognised text or code: the seed's 42550, hard ("unknown user or refused").
    id: 'mailbox-unavailable',
    when: [{ basicCodes: [550] }],
    code: DeliveryCode.MailboxUnavailable,
    errorType: 'hard',
    reason: 'refused',
  },
  {
    // 554 "transaction failed", X.3.x mail system and 5.4.x routing / network status: the receiving side
    // failed, try again later.
    id: 'transaction-failed',
    when: [{ basicCodes: [554] }, { basicClasses: [5], enhanced: ['5.3.', '5.4.'] }],
    code: DeliveryCode.TransactionFailed,
    errorType: 'soft',
    reason: 'unreachable',
  },
  {
    // A recipient domain's DNS failure named in a text. EDNS from our transport is about the relay's
    // host name and is taken by domain/relay-faults.ts before this table's later rules.
    id: 'dns-failure',
    when: [{ errorCodes: ['EDNS'] }, { hasReply: false, text: DNS_ERROR_TEXT }],
    code: DeliveryCode.DnsFailure,
    errorType: 'soft',
    reason: 'invalid_domain',
  },
  {
    // Connection refused arrives as ESOCKET (REFERENCE); a timeout before the final "." is a failed
    // connection too. From our transport these are the relay's (domain/relay-faults.ts); the rule names
    // the code for faults described without our transport's evidence.
    id: 'connection-failed',
    when: [
      {
        // prettier-ignore
        errorCodes: [
          'ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'ETLS', 'EREQUIRETLS', 'EPROTOCOL', 'EPROXY', 'ECONNREFUSED',
          'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
        ],
      },
    ],
    code: DeliveryCode.ConnectionFailed,
    errorType: 'soft',
    reason: 'unreachable',
  },
  {
    // REFERENCE: every 4xx is temporary. Retry; the schedule ends it with 41606.
    id: 'other-temporary',
    when: [{ basicClasses: [4] }],
    code: DeliveryCode.TransactionFailed,
    errorType: 'soft',
    reason: 'unreachable',
  },
  {
    // A 5xx this table does not know is SPEC §5's "undefined": first sight, to be qualified by a bounce
    // rule. Not hard: one unknown text must not stop delivery to a possibly good address.
    id: 'unrecognised-permanent',
    when: [{ basicClasses: [5] }],
    code: DeliveryCode.TransactionFailed,
    errorType: 'undefined',
    reason: 'undefined',
  },
  {
    // An unknown transport fault without a reply: the connection failed somewhere.
    id: 'unrecognised-transport-error',
    when: [{ hasErrorCode: true, hasReply: false }],
    code: DeliveryCode.ConnectionFailed,
    errorType: 'soft',
    reason: 'unreachable',
  },
  {
    // A 1xx / 3xx reply or nothing at all: a caller's mistake, kept visible as undefined.
    id: 'unrecognised',
    when: [{}],
    code: DeliveryCode.TransactionFailed,
    errorType: 'undefined',
    reason: 'undefined',
  },
];

const DETAIL_MAX_LENGTH = 1000;

// RFC 3463: class.subject.detail, subject and detail 1-3 digits; not part of an IP address or a version.
const ENHANCED_CODE = /(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)/;
const BASIC_CODE = /^\s*([1-5]\d\d)(?=[\s-]|$)/;

export function parseEnhancedStatusCode(text: string): string | null {
  return ENHANCED_CODE.exec(text)?.[1] ?? null;
}

export function parseBasicReplyCode(reply: SmtpReply): number | null {
  const { responseCode } = reply;
  if (
    typeof responseCode === 'number' &&
    Number.isInteger(responseCode) &&
    responseCode >= 100 &&
    responseCode < 600
  ) {
    return responseCode;
  }
  const match = reply.response === undefined ? null : BASIC_CODE.exec(reply.response);
  return match?.[1] === undefined ? null : Number(match[1]);
}

function normalizeCommand(command: string | undefined): string | null {
  const trimmed = command?.trim().replace(/\s+/g, ' ').toUpperCase();
  return trimmed ? trimmed : null;
}

export function classificationFacts(input: TransportError): ClassificationFacts {
  const errorCode = input.code?.trim().toUpperCase() || null;
  const basicCode = parseBasicReplyCode(input);
  const command = normalizeCommand(input.command);
  const text = input.response?.trim() || input.message?.trim() || '';
  // nodemailer: EMESSAGE carries the reply to the final "."; EENVELOPE with command 'DATA' is the DATA verb
  // itself being refused, before any message data.
  const afterFinalDot =
    (errorCode === 'EMESSAGE' && basicCode !== null) ||
    (command === 'DATA' && (errorCode === null || errorCode === 'EMESSAGE' || errorCode === 'ETIMEDOUT'));
  return { errorCode, basicCode, enhancedCode: parseEnhancedStatusCode(text), command, text, afterFinalDot };
}

function enhancedMatches(pattern: string, code: string): boolean {
  return pattern.endsWith('.') ? code.startsWith(pattern) : code === pattern;
}

function conditionHolds(condition: SmtpCondition, facts: ClassificationFacts): boolean {
  const { errorCode, basicCode, enhancedCode, command } = facts;
  if (condition.errorCodes && (errorCode === null || !condition.errorCodes.includes(errorCode))) return false;
  if (condition.hasErrorCode !== undefined && (errorCode !== null) !== condition.hasErrorCode) return false;
  if (condition.hasReply !== undefined && (basicCode !== null) !== condition.hasReply) return false;
  if (condition.basicCodes && (basicCode === null || !condition.basicCodes.includes(basicCode))) return false;
  if (
    condition.basicClasses &&
    (basicCode === null || !condition.basicClasses.includes(Math.floor(basicCode / 100)))
  ) {
    return false;
  }
  if (condition.hasEnhanced !== undefined && (enhancedCode !== null) !== condition.hasEnhanced) return false;
  if (
    condition.enhanced &&
    (enhancedCode === null || !condition.enhanced.some((pattern) => enhancedMatches(pattern, enhancedCode)))
  ) {
    return false;
  }
  if (
    condition.enhancedNot &&
    enhancedCode !== null &&
    condition.enhancedNot.some((pattern) => enhancedMatches(pattern, enhancedCode))
  ) {
    return false;
  }
  if (condition.commands && (command === null || !condition.commands.includes(command))) return false;
  if (condition.afterFinalDot !== undefined && facts.afterFinalDot !== condition.afterFinalDot) return false;
  if (condition.text && !condition.text.test(facts.text)) return false;
  return true;
}

/** The first rule that matches; the table ends with a catch-all, so there always is one. */
export function findClassificationRule(facts: ClassificationFacts): SmtpClassificationRule {
  const rule = SMTP_CLASSIFICATION_RULES.find((candidate) =>
    candidate.when.some((condition) => conditionHolds(condition, facts)),
  );
  if (!rule) throw new Error('SMTP classification table has no catch-all rule');
  return rule;
}

function resultOf(codeClass: DeliveryCodeClass | undefined): SmtpOutcome['result'] {
  if (codeClass === 'success') return 'sent';
  if (codeClass === 'pre_error') return 'pre_error';
  return 'error';
}

function truncate(text: string): string {
  return text.length <= DETAIL_MAX_LENGTH ? text : `${text.slice(0, DETAIL_MAX_LENGTH - 1)}…`;
}

export interface OutcomeSpec {
  code: number;
  errorType: ErrorType | null;
  reason: ErrorReason | null;
  policyBlock?: boolean;
  retryable?: boolean;
  /** Remote reply or error text, appended to the code's meaning. */
  remote?: string;
  command?: string | null;
  relayFault?: RelayFaultReason | null;
  refusalSignature?: string | null;
}

/** Builds an outcome with the derived fields (result, retryable, invalidatesAtOnce) filled the one way. */
export function makeDeliveryOutcome(spec: OutcomeSpec): SmtpOutcome {
  const info = DELIVERY_CODES[spec.code];
  const result = resultOf(info?.class);
  const success = result === 'sent';
  const retryable = success || result === 'pre_error' ? false : (spec.retryable ?? spec.errorType !== 'hard');
  const remote = spec.remote?.replace(/\s*\r?\n\s*/g, ' ').trim();
  const meaning = info?.meaning ?? 'unknown delivery code';
  const detail = `${meaning}${spec.command ? ` [${spec.command}]` : ''}${remote ? `: ${remote}` : ''}`;
  return {
    code: spec.code,
    result,
    errorType: success ? null : spec.errorType,
    reason: success ? null : spec.reason,
    retryable,
    invalidatesAtOnce: invalidatesAtOnce(spec.code),
    policyBlock: !success && (spec.policyBlock ?? false),
    relayFault: success ? null : (spec.relayFault ?? null),
    refusalSignature: success ? null : (spec.refusalSignature ?? null),
    detail: truncate(detail),
  };
}

/**
 * The rule table, with the relay's faults in between its first group (success, our local failures)
 * and the rest: a fault of our connection to our relay is never the recipient's (SPEC §10).
 */
function classify(input: TransportError): SmtpOutcome {
  const facts = classificationFacts(input);
  const rule = findClassificationRule(facts);
  const remote = input.response?.trim()
    ? input.response
    : [facts.errorCode, input.message?.trim()].filter(Boolean).join(' ');
  const relay = rule.beforeRelayFaults ? null : findRelayFault(facts);
  if (relay) {
    return makeDeliveryOutcome({
      code: relay.code,
      errorType: 'soft',
      reason: 'unreachable',
      policyBlock: true,
      retryable: true,
      relayFault: relay.reason,
      remote: `${relay.explanation}: ${remote}`,
      command: facts.command,
    });
  }
  const suspect = rule.errorType !== null && mayBeRelayRefusal(facts);
  return makeDeliveryOutcome({
    ...rule,
    remote,
    command: facts.command,
    refusalSignature: suspect ? refusalSignature(facts) : null,
  });
}

/** Any SMTP reply, 2xx included (→ 40000). */
export function classifySmtpReply(reply: SmtpReply): SmtpOutcome {
  return classify({ responseCode: reply.responseCode, response: reply.response, command: reply.command });
}

/** A nodemailer error (code, response, responseCode, command, message). */
export function classifyTransportError(err: TransportError): SmtpOutcome {
  return classify(err);
}

export function classifyAcceptedMessage(detail?: string): SmtpOutcome {
  return makeDeliveryOutcome({ code: DeliveryCode.Delivered, errorType: null, reason: null, remote: detail });
}

/** Seed 91001: the address is empty or not an email address; nothing was sent. */
export function preErrorMissingAddress(detail?: string): SmtpOutcome {
  return makeDeliveryOutcome({
    code: DeliveryCode.InvalidAddress,
    errorType: 'hard',
    reason: 'address_not_specified',
    remote: detail,
  });
}
