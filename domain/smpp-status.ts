// SMPP 3.4 results → SMS send results (SPEC §6, REFERENCE "SMS"). Pure: the SMS channel
// classifies with it, and workflow code may import it to decide what a receipt means.
import type { DeliveryOutcome } from './delivery-outcome';
import type { ErrorReason, ErrorType } from './error-reasons';
import { SMS_ERROR_DETAIL } from './sms-segments';

// ---------------------------------------------------------------------------
// submit_sm_resp command_status

/** The SMPP 3.4 command_status values this product treats specially or names in logs. */
export const SmppStatus = {
  OK: 0x00,
  INVALID_MESSAGE_LENGTH: 0x01,
  INVALID_COMMAND_ID: 0x03,
  INVALID_BIND_STATUS: 0x04,
  ALREADY_BOUND: 0x05,
  SYSTEM_ERROR: 0x08,
  INVALID_SOURCE: 0x0a,
  INVALID_DESTINATION: 0x0b,
  BIND_FAILED: 0x0d,
  INVALID_PASSWORD: 0x0e,
  INVALID_SYSTEM_ID: 0x0f,
  MESSAGE_QUEUE_FULL: 0x14,
  INVALID_ESM_CLASS: 0x43,
  SUBMIT_FAILED: 0x45,
  THROTTLED: 0x58,
  TEMPORARY_APP_ERROR: 0x64,
  PERMANENT_APP_ERROR: 0x65,
  REJECTED_APP_ERROR: 0x66,
  INVALID_DATA_CODING: 0x104,
} as const;

// Client-side statuses for parts that never got a submit_sm_resp. Negative so they can
// never collide with an SMSC's command_status.
/** An earlier part of the same message failed, so this part was not sent. */
export const SUBMIT_SKIPPED = -1;
/** Written, but no submit_sm_resp came (timeout or connection lost): the SMSC may hold it. */
export const SUBMIT_NO_RESPONSE = -2;
/** Never written: no bound session or no free window slot before the submit timeout. */
export const SUBMIT_NOT_SENT = -3;
/** Refused by the client before sending (no usable destination, body or part count). */
export const SUBMIT_REFUSED = -4;

const STATUS_NAMES: ReadonlyMap<number, string> = new Map([
  [SmppStatus.OK, 'ESME_ROK'],
  [SmppStatus.INVALID_MESSAGE_LENGTH, 'ESME_RINVMSGLEN'],
  [SmppStatus.INVALID_BIND_STATUS, 'ESME_RINVBNDSTS'],
  [SmppStatus.ALREADY_BOUND, 'ESME_RALYBND'],
  [SmppStatus.SYSTEM_ERROR, 'ESME_RSYSERR'],
  [SmppStatus.INVALID_SOURCE, 'ESME_RINVSRCADR'],
  [SmppStatus.INVALID_DESTINATION, 'ESME_RINVDSTADR'],
  [SmppStatus.BIND_FAILED, 'ESME_RBINDFAIL'],
  [SmppStatus.INVALID_PASSWORD, 'ESME_RINVPASWD'],
  [SmppStatus.INVALID_SYSTEM_ID, 'ESME_RINVSYSID'],
  [SmppStatus.MESSAGE_QUEUE_FULL, 'ESME_RMSGQFUL'],
  [SmppStatus.INVALID_ESM_CLASS, 'ESME_RINVESMCLASS'],
  [SmppStatus.SUBMIT_FAILED, 'ESME_RSUBMITFAIL'],
  [SmppStatus.THROTTLED, 'ESME_RTHROTTLED'],
  [SmppStatus.TEMPORARY_APP_ERROR, 'ESME_RX_T_APPN'],
  [SmppStatus.PERMANENT_APP_ERROR, 'ESME_RX_P_APPN'],
  [SmppStatus.REJECTED_APP_ERROR, 'ESME_RX_R_APPN'],
  [SmppStatus.INVALID_DATA_CODING, 'ESME_RINVDCS'],
  [SUBMIT_SKIPPED, 'skipped: an earlier part failed'],
  [SUBMIT_NO_RESPONSE, 'no submit_sm_resp (timeout or connection lost)'],
  [SUBMIT_NOT_SENT, 'not sent: no bound SMPP session in time'],
  [SUBMIT_REFUSED, 'refused by the client before sending'],
]);

// REFERENCE: throttled, queue full and system error are retried with backoff. Bind
// status and the "temporary application error" are the same kind of SMSC-side state.
// A part that got no answer may be resent: a duplicate is cheaper than a lost message.
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([
  SmppStatus.THROTTLED,
  SmppStatus.MESSAGE_QUEUE_FULL,
  SmppStatus.SYSTEM_ERROR,
  SmppStatus.INVALID_BIND_STATUS,
  SmppStatus.TEMPORARY_APP_ERROR,
  SUBMIT_NO_RESPONSE,
  SUBMIT_NOT_SENT,
]);

export type SubmitStatusClass = 'accepted' | 'retryable' | 'permanent';

/**
 * Anything not known to be transient is permanent (invalid destination 0x0B among
 * them): resending a message the SMSC refused for its content or address only
 * repeats the refusal, and an unknown code must not loop.
 */
export function classifySubmitStatus(status: number): SubmitStatusClass {
  if (status === SmppStatus.OK) return 'accepted';
  return RETRYABLE_STATUSES.has(status) ? 'retryable' : 'permanent';
}

function hex(status: number): string {
  return `0x${status.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** For logs and the technical reason of a result: "ESME_RTHROTTLED (0x58)". */
export function describeSubmitStatus(status: number): string {
  const name = STATUS_NAMES.get(status);
  if (status < 0) return name ?? `client status ${status}`;
  return `${name ?? 'unknown status'} (${hex(status)})`;
}

export type SmsSubmitOutcome = 'submitted' | 'partial' | 'retryable' | 'permanent';

/**
 * One message's outcome from its parts' statuses, in part order.
 * - every part accepted → submitted;
 * - some accepted, some not → partial: the handset may already hold those parts, so
 *   resending the whole message would duplicate them (SPEC "some of the split messages failed");
 * - none accepted → permanent if any part was refused for good, else retryable.
 * The detail is SPEC §6 wording; '' while a submitted message awaits its receipt.
 */
export function summarizeSubmit(statuses: readonly number[]): { outcome: SmsSubmitOutcome; detail: string } {
  const attempted = statuses.filter((s) => s !== SUBMIT_SKIPPED);
  if (attempted.length === 0) return { outcome: 'permanent', detail: SMS_ERROR_DETAIL.internal_error };
  const accepted = attempted.filter((s) => classifySubmitStatus(s) === 'accepted').length;
  if (accepted === statuses.length) return { outcome: 'submitted', detail: '' };
  if (accepted > 0) return { outcome: 'partial', detail: SMS_ERROR_DETAIL.some_parts_failed };
  const permanent = attempted.some((s) => classifySubmitStatus(s) === 'permanent');
  return { outcome: permanent ? 'permanent' : 'retryable', detail: SMS_ERROR_DETAIL.sending_failed };
}

/**
 * A submit's outcome as recorded when it is final for the activity (a retryable one is tried again
 * instead): accepted whole → 'sent', awaiting its receipt; some parts accepted → an error of
 * undefined type (the handset may hold the rest); none → a hard refusal.
 */
export function submitDeliveryOutcome(
  outcome: Exclude<SmsSubmitOutcome, 'retryable'>,
  detail: string,
): DeliveryOutcome {
  const partial = outcome === 'partial';
  return {
    result: outcome === 'submitted' ? 'sent' : 'error',
    code: null,
    errorType: outcome === 'submitted' ? null : partial ? 'undefined' : 'hard',
    reason: outcome === 'submitted' ? null : partial ? 'undefined' : 'refused',
    detail: outcome === 'submitted' ? null : detail,
    retryable: false,
    invalidatesAtOnce: false,
    policyBlock: false,
  };
}

// ---------------------------------------------------------------------------
// Delivery receipts

/** SMPP 3.4 Appendix B stat values. */
export type ReceiptStat =
  'DELIVRD' | 'ENROUTE' | 'ACCEPTD' | 'EXPIRED' | 'DELETED' | 'UNDELIV' | 'UNKNOWN' | 'REJECTD';

// Some SMSCs spell the states out, as the message_state names do.
const STAT_ALIASES: ReadonlyMap<string, ReceiptStat> = new Map([
  ['DELIVRD', 'DELIVRD'],
  ['DELIVERED', 'DELIVRD'],
  ['ENROUTE', 'ENROUTE'],
  ['ACCEPTD', 'ACCEPTD'],
  ['ACCEPTED', 'ACCEPTD'],
  ['EXPIRED', 'EXPIRED'],
  ['DELETED', 'DELETED'],
  ['UNDELIV', 'UNDELIV'],
  ['UNDELIVERABLE', 'UNDELIV'],
  ['UNKNOWN', 'UNKNOWN'],
  ['REJECTD', 'REJECTD'],
  ['REJECTED', 'REJECTD'],
]);

/** The 7-letter stat for a receipt's stat text, or null when it is not one. */
export function normalizeStat(stat: string): ReceiptStat | null {
  return STAT_ALIASES.get(stat.trim().toUpperCase()) ?? null;
}

// message_state TLV (SMPP 3.4 §5.3.2.35), the numeric twin of the receipt text's stat.
const MESSAGE_STATES: readonly (ReceiptStat | null)[] = [
  null, // 0 SCHEDULED (SMPP 5.0): not something a receipt reports
  'ENROUTE',
  'DELIVRD',
  'EXPIRED',
  'DELETED',
  'UNDELIV',
  'ACCEPTD',
  'UNKNOWN',
  'REJECTD',
];

export function statFromMessageState(state: number): ReceiptStat | null {
  return MESSAGE_STATES[state] ?? null;
}

/** `err` is three digits in the text, but SMSCs pad it differently ("1", "001", "0001"). */
export function normalizeErr(err: string): string {
  const trimmed = err.trim();
  return /^\d+$/.test(trimmed) ? String(Number(trimmed)).padStart(3, '0') : trimmed.toUpperCase();
}

interface ErrMeaning {
  label: string;
  reason: ErrorReason;
  type: ErrorType;
  detail: string;
}

// UNDELIV's err decides hard vs soft (REFERENCE). err codes are provider specific; this
// table is this product's SMSC's, mirrored by dev/smsc-simulator. 001 is "absent subscriber"
// as the brief defines it; the GSM MAP numbering (unknown subscriber 1, absent subscriber 27)
// is also read where it does not clash. Edit this table, not the code, for another provider.
const ERR_MEANINGS: ReadonlyMap<string, ErrMeaning> = new Map<string, ErrMeaning>([
  ['001', absent('absent subscriber')],
  ['006', absent('absent subscriber (SM)')],
  ['027', absent('absent subscriber')],
  ['031', absent('subscriber busy for MT SMS')],
  [
    '005',
    {
      label: 'unidentified subscriber',
      reason: 'unknown_user',
      type: 'hard',
      detail: SMS_ERROR_DETAIL.sending_failed,
    },
  ],
  [
    '009',
    {
      label: 'illegal subscriber',
      reason: 'invalid_account',
      type: 'hard',
      detail: SMS_ERROR_DETAIL.sending_failed,
    },
  ],
  [
    '011',
    {
      label: 'teleservice not provisioned',
      reason: 'invalid_account',
      type: 'hard',
      detail: SMS_ERROR_DETAIL.sending_failed,
    },
  ],
  [
    '013',
    {
      label: 'call barred',
      reason: 'invalid_account',
      type: 'soft',
      detail: SMS_ERROR_DETAIL.sending_failed,
    },
  ],
  [
    '034',
    { label: 'system failure', reason: 'unreachable', type: 'soft', detail: SMS_ERROR_DETAIL.sending_failed },
  ],
]);

// SPEC §5 "not connected (ignored): phone off / out of range (SMS)".
function absent(label: string): ErrMeaning {
  return { label, reason: 'not_connected', type: 'ignored', detail: SMS_ERROR_DETAIL.handset_unreachable };
}

export type ReceiptOutcome =
  | { result: 'delivered'; final: true; detail: string }
  | { result: 'pending'; final: false; detail: string }
  | {
      result: 'error';
      final: true;
      errorType: ErrorType;
      reason: ErrorReason;
      detail: string;
      label: string;
    };

/**
 * What one delivery receipt means for the send. Unknown stats and errs become SPEC §5's
 * "undefined" (to be qualified), never a guess at hard or soft.
 */
export function classifyReceipt(stat: string, err: string): ReceiptOutcome {
  const normalized = normalizeStat(stat);
  const code = normalizeErr(err);
  switch (normalized) {
    case 'DELIVRD':
      return { result: 'delivered', final: true, detail: 'delivered' };
    case 'ENROUTE':
    case 'ACCEPTD':
      return { result: 'pending', final: false, detail: '' };
    case 'EXPIRED':
      // Not delivered within the validity period: the handset stayed unreachable.
      return {
        result: 'error',
        final: true,
        errorType: 'ignored',
        reason: 'not_connected',
        detail: SMS_ERROR_DETAIL.handset_unreachable,
        label: 'expired',
      };
    case 'UNDELIV': {
      const meaning = ERR_MEANINGS.get(code);
      if (meaning) {
        return {
          result: 'error',
          final: true,
          errorType: meaning.type,
          reason: meaning.reason,
          detail: meaning.detail,
          label: meaning.label,
        };
      }
      return {
        result: 'error',
        final: true,
        errorType: 'undefined',
        reason: 'undefined',
        detail: SMS_ERROR_DETAIL.sending_failed,
        label: `undeliverable, err ${code}`,
      };
    }
    case 'REJECTD':
      // The SMSC or carrier refused it (sender, content): resending unchanged repeats that.
      return {
        result: 'error',
        final: true,
        errorType: 'hard',
        reason: 'refused',
        detail: SMS_ERROR_DETAIL.sending_failed,
        label: 'rejected',
      };
    case 'DELETED':
      return {
        result: 'error',
        final: true,
        errorType: 'undefined',
        reason: 'undefined',
        detail: SMS_ERROR_DETAIL.sending_failed,
        label: 'deleted by the SMSC',
      };
    case 'UNKNOWN':
    case null:
      // REFERENCE: "unknown: reconcile, do not blindly resend".
      return {
        result: 'error',
        final: true,
        errorType: 'undefined',
        reason: 'undefined',
        detail: SMS_ERROR_DETAIL.result_unconfirmed,
        label: normalized === null ? `unrecognised stat ${stat}` : 'state unknown to the SMSC',
      };
  }
}

/** The outcome of a message whose receipt window closed without a final receipt. */
export const RECEIPT_TIMED_OUT: ReceiptOutcome = {
  result: 'error',
  final: true,
  errorType: 'undefined',
  reason: 'undefined',
  detail: SMS_ERROR_DETAIL.result_unconfirmed,
  label: 'no delivery receipt',
};

/**
 * A split message's outcome from its parts' receipts (null: none yet). Billing is per
 * part but the result is per message: delivered only when every part is.
 * `windowClosed` says no more receipts will be waited for.
 */
export function combinePartOutcomes(
  parts: readonly (ReceiptOutcome | null)[],
  windowClosed = false,
): ReceiptOutcome {
  const errors = parts.filter(
    (p): p is Extract<ReceiptOutcome, { result: 'error' }> => p?.result === 'error',
  );
  const delivered = parts.filter((p) => p?.result === 'delivered').length;
  const open = parts.length - errors.length - delivered;
  if (open > 0 && !windowClosed) return { result: 'pending', final: false, detail: '' };
  if (parts.length > 0 && delivered === parts.length)
    return { result: 'delivered', final: true, detail: 'delivered' };
  const firstError = errors[0];
  if (firstError && (delivered > 0 || open > 0) && parts.length > 1) {
    return { ...firstError, detail: SMS_ERROR_DETAIL.some_parts_failed };
  }
  return firstError ?? RECEIPT_TIMED_OUT;
}

export interface DeliveryReceiptText {
  id: string;
  sub: string | null;
  dlvrd: string | null;
  submitDate: Date | null;
  doneDate: Date | null;
  stat: string;
  err: string;
  /** The first characters of the message, as the SMSC echoes them; '' when absent. */
  text: string;
}

/**
 * Parses the SMPP 3.4 Appendix B receipt text
 * `id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…`.
 * Keys are matched case-insensitively, `submit_date` is accepted too, and `text:` runs to
 * the end (it may itself contain "stat:"). Returns null when there is no id or no stat.
 * Dates are YYMMDDhhmm[ss] in the SMSC's clock: `utcOffsetMinutes` says how far that
 * clock is ahead of UTC (540 for JST).
 */
export function parseDeliveryReceipt(body: string, utcOffsetMinutes = 0): DeliveryReceiptText | null {
  const textAt = body.search(/(?:^|\s)text:/i);
  const head = textAt >= 0 ? body.slice(0, textAt) : body;
  const text = textAt >= 0 ? body.slice(textAt).replace(/^\s*text:/i, '') : '';
  const field = (pattern: RegExp): string | null => pattern.exec(head)?.[1] ?? null;

  const id = field(/(?:^|\s)id:(\S+)/i);
  const stat = field(/(?:^|\s)stat:(\S+)/i);
  if (id === null || stat === null) return null;
  return {
    id,
    sub: field(/(?:^|\s)sub:(\S+)/i),
    dlvrd: field(/(?:^|\s)dlvrd:(\S+)/i),
    submitDate: parseReceiptDate(field(/(?:^|\s)submit[ _]date:(\d+)/i), utcOffsetMinutes),
    doneDate: parseReceiptDate(field(/(?:^|\s)done[ _]date:(\d+)/i), utcOffsetMinutes),
    stat,
    err: field(/(?:^|\s)err:(\S+)/i) ?? '',
    text,
  };
}

/** YYMMDDhhmm or YYMMDDhhmmss → Date; null when absent or not a real time. */
export function parseReceiptDate(value: string | null, utcOffsetMinutes = 0): Date | null {
  if (value === null) return null;
  const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map((v) => Number(v ?? '0')) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const utc = Date.UTC(2000 + year, month - 1, day, hour, minute, second);
  const date = new Date(utc - utcOffsetMinutes * 60_000);
  // Date.UTC rolls 31 February over into March; a receipt saying so is garbage.
  return new Date(utc).getUTCDate() === day ? date : null;
}

// ---------------------------------------------------------------------------
// Message ids: the receipt may name the message in another base than submit_sm_resp did.

export type MessageIdFormat = 'string' | 'hex' | 'decimal';

/**
 * Canonical form of a message id written in a known format: hex and decimal ids become
 * their decimal value (no leading zeros), so "0000001A" (hex) and "26" (decimal) meet.
 * A 'string' id, or one that is not a number in the stated format, is only trimmed.
 */
export function normalizeMessageId(id: string, format: MessageIdFormat): string {
  const trimmed = id.trim();
  if (format === 'hex' && /^[0-9a-f]+$/i.test(trimmed)) return BigInt(`0x${trimmed}`).toString(10);
  if (format === 'decimal' && /^\d+$/.test(trimmed)) return BigInt(trimmed).toString(10);
  return trimmed;
}

/**
 * The keys under which an id of unknown format can be found: the id itself, its value
 * read as decimal (when it is all digits) and read as hex (when it is all hex digits).
 * A correlator indexes submitted ids by these and looks receipts up by them.
 */
export function messageIdKeys(id: string): { exact: string; asDecimal: string | null; asHex: string | null } {
  const exact = id.trim();
  // 40 hex digits is already beyond any SMSC's id (SMPP caps message_id at 65 octets of text).
  const numeric = exact.length > 0 && exact.length <= 40;
  return {
    exact,
    asDecimal: numeric && /^\d+$/.test(exact) ? BigInt(exact).toString(10) : null,
    asHex: numeric && /^[0-9a-f]+$/i.test(exact) ? BigInt(`0x${exact}`).toString(10) : null,
  };
}
