// The platform's own email result codes (SPEC §3, from the first seed's code list). Pure data.

export type DeliveryCodeClass =
  'success' | 'soft' | 'hard' | 'permanent' | 'final' | 'internal' | 'pre_error';

export interface DeliveryCodeInfo {
  meaning: string;
  class: DeliveryCodeClass;
}

/** Names for the codes, so callers never write a bare 42550. */
export const DeliveryCode = {
  Delivered: 40000,
  DeliveredAfterTimeout: 40001,
  ConnectionFailed: 41601,
  DnsFailure: 41605,
  RetryPeriodExpired: 41606,
  DeliveryAbandoned: 41607,
  QueueIoError: 41608,
  QueueDataError: 41609,
  SyntaxError: 42500,
  ParameterSyntaxError: 42501,
  CommandNotImplemented: 42502,
  BadCommandSequence: 42503,
  ParameterNotImplemented: 42504,
  RefusedByServer: 42521,
  AccessDenied: 42530,
  AuthenticationFailed: 42535,
  MailboxUnavailable: 42550,
  UserNotLocal: 42551,
  InsufficientStorage: 42552,
  MailboxNameNotAllowed: 42553,
  TransactionFailed: 42554,
  RejectedAfterData: 42559,
  AsyncBounce: 90000,
  InvalidAddress: 91001,
  SendingDomainCheckFailed: 91002,
  SendingDomainNotVerified: 91003,
} as const;

export type DeliveryCodeName = keyof typeof DeliveryCode;

export const DELIVERY_CODES: Readonly<Record<number, DeliveryCodeInfo>> = {
  40000: { meaning: 'delivered to the receiving server', class: 'success' },
  40001: { meaning: 'SMTP timed out but delivery is deemed complete', class: 'success' },
  41601: { meaning: 'could not connect to the receiving server', class: 'soft' },
  // The seed: the part after @ does not resolve; fixing the address may help.
  41605: { meaning: 'no MX record / DNS failure for the domain', class: 'soft' },
  41606: { meaning: 'retried until the retry period expired without delivery', class: 'final' },
  41607: { meaning: 'delivery abandoned', class: 'final' },
  // The seed: happens when our own mail server fails; resend after recovery.
  41608: { meaning: 'file I/O error in our own queue', class: 'internal' },
  41609: { meaning: 'corrupt message data in our own queue', class: 'internal' },
  42500: { meaning: 'syntax error, command unrecognized', class: 'soft' },
  42501: { meaning: 'syntax error in command parameters', class: 'soft' },
  42502: { meaning: 'command not implemented', class: 'soft' },
  42503: { meaning: 'bad sequence of commands', class: 'soft' },
  42504: { meaning: 'command parameter not implemented', class: 'soft' },
  42521: { meaning: 'refused by the receiving server', class: 'permanent' },
  42530: { meaning: 'access denied (DKIM/DMARC failure, volume)', class: 'soft' },
  42535: { meaning: 'SMTP authentication failed', class: 'soft' },
  42550: { meaning: 'mailbox unavailable (unknown user or refused)', class: 'hard' },
  42551: { meaning: 'user not local', class: 'permanent' },
  42552: { meaning: 'insufficient storage on the receiving side', class: 'soft' },
  42553: { meaning: 'mailbox name not allowed / refused', class: 'permanent' },
  42554: { meaning: 'transaction failed on the receiving server', class: 'soft' },
  42559: { meaning: '550 after the final "." of DATA', class: 'hard' },
  // The seed records every later bounce as 90000: its text is too varied to judge.
  90000: { meaning: 'accepted, then bounced later (asynchronous bounce)', class: 'hard' },
  91001: { meaning: 'address empty or not an email address', class: 'pre_error' },
  91002: { meaning: 'DKIM / DMARC check of our sending domain failed', class: 'pre_error' },
  91003: {
    meaning: 'DKIM / DMARC check failed: sending domain not registered or verified',
    class: 'pre_error',
  },
};

/** Errors that will repeat whatever we do: the first seed invalidates the address after one of them. */
export const PERMANENT_INVALIDATING_CODES: readonly number[] = [
  DeliveryCode.RefusedByServer,
  DeliveryCode.UserNotLocal,
  DeliveryCode.MailboxNameNotAllowed,
];

export const ASYNC_BOUNCE_CODE = DeliveryCode.AsyncBounce;

/** Reported when the retry schedule runs out (the first seed's mail server does the same). */
export const RETRY_EXPIRED_CODE = DeliveryCode.RetryPeriodExpired;

export function isKnownDeliveryCode(code: number): boolean {
  return Object.prototype.hasOwnProperty.call(DELIVERY_CODES, code);
}

/** The class of a code, or null for a code the table does not know. */
export function deliveryCodeClass(code: number): DeliveryCodeClass | null {
  return isKnownDeliveryCode(code) ? (DELIVERY_CODES[code]?.class ?? null) : null;
}

export function isSuccessCode(code: number): boolean {
  return deliveryCodeClass(code) === 'success';
}

export function isPreErrorCode(code: number): boolean {
  return deliveryCodeClass(code) === 'pre_error';
}

export function invalidatesAtOnce(code: number): boolean {
  return PERMANENT_INVALIDATING_CODES.includes(code);
}

/** "42550 mailbox unavailable (…)"; an unknown code is shown as it is. */
export function describeDeliveryCode(code: number): string {
  const info = isKnownDeliveryCode(code) ? DELIVERY_CODES[code] : undefined;
  return info ? `${code} ${info.meaning}` : `${code} unknown delivery code`;
}
