// Field parser for the machine-readable parts of asynchronous reports:
// RFC 3464 `message/delivery-status` (DSN) and RFC 5965 `message/feedback-report`
// (ARF). mailparser hands these parts over undecoded as text; no maintained npm
// parser exists, so this one is ours. Pure string code: it runs inside workflows.

export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';

export interface DsnRecipient {
  finalRecipient: string | null;
  originalRecipient: string | null;
  action: DsnAction | null;
  /** RFC 3463 enhanced status `x.y.z`, without any trailing comment. */
  status: string | null;
  /** MTA name without its `dns;` type prefix, comments or trailing dot. */
  remoteMta: string | null;
  /** Text after the type prefix (`smtp;`), unfolded. */
  diagnosticCode: string | null;
  /** Lower-cased type prefix of Diagnostic-Code, e.g. `smtp`, `x-postfix`. */
  diagnosticType: string | null;
}

export interface DeliveryStatus {
  /** MTA name without its `dns;` type prefix. */
  reportingMta: string | null;
  /** Echo of the ENVID we sent; case preserved (RFC 3464 says it is case-sensitive). */
  originalEnvelopeId: string | null;
  arrivalDate: string | null;
  recipients: DsnRecipient[];
}

export interface FeedbackReport {
  /** Lower-cased: abuse, fraud, virus, other, not-spam, auth-failure (or a newer registered type). */
  feedbackType: string | null;
  userAgent: string | null;
  version: string | null;
  originalMailFrom: string | null;
  originalRcptTo: string[];
  arrivalDate: string | null;
  sourceIp: string | null;
  reportedDomain: string | null;
}

const DSN_ACTIONS: readonly DsnAction[] = ['failed', 'delayed', 'delivered', 'relayed', 'expanded'];

// RFC 5322 field name: printable US-ASCII except colon. A line whose "name"
// has spaces is prose, not a field.
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
// RFC 3464 address-type / diagnostic-type / mta-name-type atom before the `;`.
const TYPE_PREFIX = /^([A-Za-z0-9][A-Za-z0-9.+_-]*)[ \t]*;[ \t]*/;
const STATUS_CODE = /(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?!\d)/;

function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

function isBlank(line: string): boolean {
  return line.trim() === '';
}

/**
 * Parses one header-style block into [lower-cased name, value] pairs in order.
 * Folded continuation lines are joined with a single space. Lines that are not
 * fields (prose, stray text) are skipped; a blank line only ends the current
 * field, so the whole of a multi-block body can be passed too.
 */
export function parseHeaderBlock(text: string): Array<[name: string, value: string]> {
  const fields: Array<[string, string]> = [];
  if (typeof text !== 'string') return fields;
  let name: string | null = null;
  let parts: string[] = [];
  const flush = (): void => {
    if (name !== null) fields.push([name, parts.join(' ')]);
    name = null;
    parts = [];
  };
  for (const line of splitLines(text)) {
    if (isBlank(line)) {
      flush();
      continue;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      if (name !== null) parts.push(line.trim());
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    // Obsolete syntax (RFC 5322 §4.5) allows whitespace before the colon.
    const rawName = line.slice(0, colon).replace(/[ \t]+$/, '');
    if (!FIELD_NAME.test(rawName)) continue;
    name = rawName.toLowerCase();
    const first = line.slice(colon + 1).trim();
    if (first !== '') parts.push(first);
  }
  flush();
  return fields;
}

function splitBlocks(body: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  for (const line of splitLines(body)) {
    if (isBlank(line)) {
      if (current.length > 0) blocks.push(current.join('\n'));
      current = [];
    } else {
      current.push(line);
    }
  }
  if (current.length > 0) blocks.push(current.join('\n'));
  return blocks;
}

/** First value per name: later duplicates in a block are ignored. */
function toMap(fields: Array<[string, string]>): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of fields) if (!map.has(name)) map.set(name, value);
  return map;
}

function nonEmpty(value: string | undefined): string | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/** Splits `type; value` into its parts; the type is null when there is no atom before a `;`. */
function splitTyped(value: string | undefined): { type: string | null; rest: string | null } {
  const v = nonEmpty(value);
  if (v === null) return { type: null, rest: null };
  const m = TYPE_PREFIX.exec(v);
  if (!m || m[1] === undefined) return { type: null, rest: v };
  return { type: m[1].toLowerCase(), rest: nonEmpty(v.slice(m[0].length)) };
}

function stripComments(value: string): string {
  // Non-nested RFC 5322 comments are all that DSN/ARF generators emit in practice.
  return value.replace(/\([^()]*\)/g, ' ').trim();
}

// Bounded local part: an unbounded one goes quadratic on long values without "@".
const ADDRESS_IN_TEXT = /("(?:[^"\\\r\n]|\\.){0,128}"|[^\s"<>(),;:@]{1,128})@([^\s"<>(),;@]+)/;

/**
 * Pulls the mailbox out of a report field value: `rfc822; <User@Example.JP>`,
 * `utf-8; user@例え.jp`, `User Name <user@x>`, `user@x (comment)`.
 *
 * The domain is lower-cased and loses a trailing dot; the local part keeps its
 * case. Callers compare addresses case-insensitively anyway, and the local part
 * may carry case-sensitive data (a base64url VERP token in Original-Mail-From),
 * which lower-casing would destroy. Returns null when no `local@domain` is found
 * (empty `<>` sender, x400 addresses, garbage).
 */
export function extractAddress(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null;
  let v = value.trim();
  const typed = TYPE_PREFIX.exec(v);
  if (typed) v = v.slice(typed[0].length);
  const angle = /<([^<>]*)>/.exec(v);
  v = angle && angle[1] !== undefined ? angle[1].trim() : stripComments(v);
  const m = ADDRESS_IN_TEXT.exec(v);
  if (!m || m[1] === undefined || m[2] === undefined) return null;
  const domain = m[2].replace(/\.+$/, '').toLowerCase();
  if (domain === '' || m[1] === '') return null;
  return `${m[1]}@${domain}`;
}

// Non-standard Action values seen in the wild, read as the RFC 3464 value they
// mean. `deliverable` is what some verifiers and list servers write for a
// delivered recipient; `expired` is a delay that ran out, i.e. a failure.
const ACTION_SYNONYMS: Record<string, DsnAction> = {
  deliverable: 'delivered',
  success: 'delivered',
  successful: 'delivered',
  sent: 'delivered',
  expired: 'failed',
  failure: 'failed',
  fail: 'failed',
  bounced: 'failed',
  bounce: 'failed',
  rejected: 'failed',
  undeliverable: 'failed',
  undelivered: 'failed',
  permanent: 'failed',
  error: 'failed',
  delay: 'delayed',
  deferred: 'delayed',
  transient: 'delayed',
  retrying: 'delayed',
  warning: 'delayed',
  relay: 'relayed',
  expand: 'expanded',
};

function parseAction(value: string | undefined): DsnAction | null {
  const v = nonEmpty(value);
  if (v === null) return null;
  const word = v.toLowerCase().split(/[\s(;,.:]/)[0] ?? '';
  if ((DSN_ACTIONS as readonly string[]).includes(word)) return word as DsnAction;
  return ACTION_SYNONYMS[word] ?? null;
}

function parseStatus(value: string | undefined): string | null {
  const v = nonEmpty(value);
  if (v === null) return null;
  return STATUS_CODE.exec(v)?.[1] ?? null;
}

function mtaName(value: string | undefined): string | null {
  const { rest } = splitTyped(value);
  // A trailing root dot ("gmail-smtp-in.l.google.com.") is the same host.
  return rest === null ? null : nonEmpty(stripComments(rest).replace(/\.+$/, ''));
}

const PER_MESSAGE_FIELDS = [
  'reporting-mta',
  'original-envelope-id',
  'arrival-date',
  'received-from-mta',
  'dsn-gateway',
];
const PER_RECIPIENT_FIELDS = ['final-recipient', 'original-recipient', 'action', 'status', 'diagnostic-code'];

function parseRecipient(fields: Map<string, string>): DsnRecipient {
  const diagnostic = splitTyped(fields.get('diagnostic-code'));
  return {
    finalRecipient: extractAddress(fields.get('final-recipient')),
    originalRecipient: extractAddress(fields.get('original-recipient')),
    action: parseAction(fields.get('action')),
    status: parseStatus(fields.get('status')),
    remoteMta: mtaName(fields.get('remote-mta')),
    diagnosticCode: diagnostic.rest,
    diagnosticType: diagnostic.type,
  };
}

/**
 * Parses a `message/delivery-status` body. Blocks are classified by their
 * fields rather than their position, because some generators drop the
 * per-message block or run it together with the first recipient block.
 * Never throws; garbage gives nulls and no recipients.
 */
export function parseDeliveryStatus(body: string): DeliveryStatus {
  const result: DeliveryStatus = {
    reportingMta: null,
    originalEnvelopeId: null,
    arrivalDate: null,
    recipients: [],
  };
  if (typeof body !== 'string') return result;
  let last: Map<string, string> | null = null;
  for (const block of splitBlocks(body)) {
    const fields = toMap(parseHeaderBlock(block));
    if (PER_MESSAGE_FIELDS.some((f) => fields.has(f))) {
      result.reportingMta ??= mtaName(fields.get('reporting-mta'));
      result.originalEnvelopeId ??= nonEmpty(fields.get('original-envelope-id'));
      result.arrivalDate ??= nonEmpty(fields.get('arrival-date'));
    }
    if (!PER_RECIPIENT_FIELDS.some((f) => fields.has(f))) continue;
    // A block without a recipient whose fields the previous recipient lacks is
    // that recipient's continuation (some generators put blank lines inside).
    const named = fields.has('final-recipient') || fields.has('original-recipient');
    if (!named && last !== null && [...fields.keys()].every((k) => !last!.has(k))) {
      for (const [k, v] of fields) last.set(k, v);
      result.recipients[result.recipients.length - 1] = parseRecipient(last);
      continue;
    }
    last = fields;
    result.recipients.push(parseRecipient(fields));
  }
  return result;
}

/**
 * Parses a `message/feedback-report` body (ARF). All fields normally sit in one
 * block; later blocks are merged in case a generator split them.
 */
export function parseFeedbackReport(body: string): FeedbackReport {
  const all = typeof body === 'string' ? parseHeaderBlock(body) : [];
  const fields = toMap(all);
  const rcptTo: string[] = [];
  for (const [name, value] of all) {
    if (name !== 'original-rcpt-to') continue;
    const address = extractAddress(value);
    if (address !== null && !rcptTo.includes(address)) rcptTo.push(address);
  }
  const feedbackType = nonEmpty(fields.get('feedback-type'));
  const sourceIp = nonEmpty(fields.get('source-ip'));
  const reportedDomain = nonEmpty(fields.get('reported-domain'));
  return {
    feedbackType: feedbackType === null ? null : (feedbackType.toLowerCase().split(/[\s;(]/)[0] ?? null),
    userAgent: nonEmpty(fields.get('user-agent')),
    version: nonEmpty(fields.get('version')),
    originalMailFrom: extractAddress(fields.get('original-mail-from')),
    originalRcptTo: rcptTo,
    // Received-Date is the pre-RFC name some older feedback loops still send.
    arrivalDate: nonEmpty(fields.get('arrival-date')) ?? nonEmpty(fields.get('received-date')),
    sourceIp: sourceIp === null ? null : nonEmpty(stripComments(sourceIp).replace(/^\[|\]$/g, '')),
    reportedDomain: reportedDomain === null ? null : reportedDomain.replace(/\.+$/, '').toLowerCase(),
  };
}
