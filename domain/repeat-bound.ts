// The bound on email messages sent twice (README, Reliability: "What can be
// sent twice"). An SMTP 250 can only be made durable after it arrived, so a
// message whose acceptance was not yet recorded when a worker, its database
// or its Temporal server failed is sent again (never lost), under its
// original Message-ID, and recorded as a resend. What bounds that number:
// a batch sends a message only while fewer than `unrecordedPerBatch` of its
// messages are sent (or on the wire) without a committed record
// (channels/email/group-commit.ts), and stops sending the moment a recording
// write fails. Batches that write their groups together (SharedCommits) each
// keep their own count, so sharing a write changes no bound.

export interface RepeatBoundSettings {
  /** Messages on the wire at once per batch (EmailSenderDeps.settings.sendConcurrency). */
  sendConcurrency: number;
  /** Send batches in flight per run (SEND_BATCHES_IN_FLIGHT). */
  batchesInFlight: number;
}

/** Messages one batch may have sent without a durable record at any moment: twice its send concurrency. */
export function unrecordedPerBatch(sendConcurrency: number): number {
  return 2 * Math.max(1, sendConcurrency);
}

/**
 * Messages of one run that one fault can make us send twice: every batch in flight resends at
 * most what it had sent without a durable record. Each further fault adds at most as many.
 */
export function repeatBound(s: RepeatBoundSettings): number {
  return unrecordedPerBatch(s.sendConcurrency) * Math.max(1, s.batchesInFlight);
}

/** The email sender's send concurrency for a worker's SMTP connections (channels/email/sender.ts). */
export function emailSendConcurrency(smtpMaxConnections: number): number {
  return smtpMaxConnections * 2;
}

/** Why a message was sent again: its batch was interrupted before the outcome was recorded. */
export const RESEND_AFTER_INTERRUPTION = 'interrupted_before_recorded';
