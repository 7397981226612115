// What one attempt at one recipient came to, on any channel: the one shape a
// channel's classification returns (email: domain/smtp-classification.ts, SMS:
// domain/smpp-status.ts, LINE: domain/line-outcome.ts) and db/outcomes.ts
// records. A channel may add its own fields; recording reads only these.
// Pure: safe to import from workflow code.

export interface DeliveryOutcome {
  /** SPEC §1 result of the attempt. 'sent' = accepted by the channel's provider. */
  result: 'sent' | 'error' | 'pre_error';
  /** SPEC §3 code; null on channels that have none at send time (SMS, LINE). */
  code: number | null;
  /** SPEC §5 type; null on success and where the channel names none. */
  errorType: string | null;
  /** SPEC §5 reason, or the channel's own word for it (LINE: 'blocked', 'monthly_limit', …); null on success. */
  reason: string | null;
  /** Human text; null while a sent message awaits its delivery report (SMS). */
  detail: string | null;
  /** Retried by the run's waves (email's soft errors); hard errors and pre-errors never. */
  retryable: boolean;
  /** The address turns invalid after this single error (email validity, SPEC 4). */
  invalidatesAtOnce: boolean;
  /** A block of our stream, not a bad recipient: must not count against the recipient's validity. */
  policyBlock: boolean;
}

/** A send that never went out, for a reason decided before sending (SPEC §1 pre-error). */
export function preErrorOutcome(detail: string, reason: string | null = null): DeliveryOutcome {
  return {
    result: 'pre_error',
    code: null,
    errorType: null,
    reason,
    detail,
    retryable: false,
    invalidatesAtOnce: false,
    policyBlock: false,
  };
}
