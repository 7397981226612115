// What a bounce says, read from one raw message, before anything is looked up
// in the database: which format it is in, and one reading per recipient it
// reports on, each with the evidence the reading rests on. The recognisers of
// the formats (RFC 3464, ARF, and the human-readable formats of real MTAs and
// providers) produce it; the pipeline (inbound/process-report.ts) correlates
// each recipient to its send, classifies it with domain/ and stores it.

/** What the report says happened to one recipient (RFC 3464 Action, read leniently). */
export type RecipientAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';

/** The SMTP stage the remote refusal happened at, where the report says so. */
export type SmtpStage = 'connect' | 'helo' | 'mail' | 'rcpt' | 'data' | 'after-data';

export interface RecipientReading {
  /** The failed address (Final-Recipient, or the format's recipient line), lower-cased domain. */
  recipient: string | null;
  /** Original-Recipient where the report carries one. */
  originalRecipient: string | null;
  action: RecipientAction;
  /** Enhanced status code (RFC 3463), e.g. "5.1.1", from the Status field or the text. */
  status: string | null;
  /** The remote MTA's reply or the format's error text (Diagnostic-Code or equivalent). */
  diagnostic: string | null;
  /** Basic SMTP reply code found in the text (e.g. 550), if any. */
  replyCode: number | null;
  remoteMta: string | null;
  smtpStage: SmtpStage | null;
  /** Human-readable reasons for this reading, e.g. "qmail format, recipient line 2". */
  evidence: string[];
}

export interface FeedbackReading {
  feedbackType: string | null;
  originalMailFrom: string | null;
  originalRcptTo: string[];
}

export interface BounceReading {
  /** 'dsn' for any delivery failure/delay report, whatever its format. */
  kind: 'dsn' | 'arf' | 'auto-reply' | 'other' | 'unparseable';
  /** Name of the recogniser that read it, e.g. 'rfc3464', 'qmail', 'exim', 'gmail'. */
  format: string;
  recipients: RecipientReading[];
  feedback: FeedbackReading | null;
  /** ENVID of the original message, where the report carries one. */
  envelopeId: string | null;
  /** Texts of the returned original message or its headers (for correlation tokens). */
  returnedTexts: string[];
  /** The returned original was cut off (no closing boundary); the report itself may be whole. */
  truncated: boolean;
  /** One line for operators: why this reading. */
  detail: string;
}
