// The inbound report pipeline (SPEC 4, issues 4 and 16): whatever reaches the
// bounce mailbox (SMTP listener or the API for MTAs that pipe mail) is read by
// the format recognisers (inbound/formats), and EVERY recipient it reports on is
// classified (domain/bounce-rules.ts), tied to its send, stored (one
// inbound_report row per recipient, the raw message once) and applied through
// the run's workflow. A decision carries its evidence. Bad input never throws:
// it is stored as 'unmatched' for inspection. Only infrastructure failures
// (database down) reject, so callers can ask for a retry.
//
// Order of trust for one recipient: the reading's fields (Action, Status,
// Diagnostic-Code, the SMTP stage) → user rules then built-in rules on the
// Diagnostic-Code → the Status field's fallback → 'undefined' (counts against
// nobody until qualified). Correlation: VERP, ENVID, returned headers, then the
// recipient's address.
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { BounceRule } from '../domain/bounce-rules';
import { addDomainTally, domainTallyOf, type DomainTally } from '../domain/domain-throttle';
import { extractAddress, parseHeaderBlock } from '../domain/report-fields';
import { VERP_TOKEN, verpToken } from '../domain/verp';
import { loadUserRules, qualify, recordBounceText, type Qualification } from '../db/bounce-rule-queries';
import { countDomainOutcomes, loadDomainRules } from '../db/domain-queries';
import { applyPendingReports } from '../db/report-queries';
import { derivedSendOf } from '../db/send-token';
import { notifyRunOfReports } from './run-signal';
import { readBounce } from './formats';
import type { BounceReading, RecipientReading } from './formats/types';

export interface InboundDeps {
  pool: Pool;
  temporal: Client;
  bounceDomain: string;
  invalidAfterErrors: number;
  /** QUARANTINE_AFTER_ERRORS; default the campaign manual's 5. */
  quarantineAfterErrors?: number;
  logger?: Logger;
}

export interface InboundEnvelope {
  /** SMTP RCPT TO addresses, when the message came over SMTP. */
  rcptTo?: readonly string[];
}

export type ReportKind = 'dsn' | 'arf' | 'auto-reply' | 'other' | 'unparseable' | 'truncated';
export type ReportStatus = 'pending' | 'ignored' | 'unmatched';
export type ReportAction =
  | 'bounce'
  | 'complaint'
  | 'delayed'
  | 'delivered'
  | 'relayed'
  | 'expanded'
  | 'feedback'
  | 'auto-reply'
  | 'none';

export type MatchedBy = 'verp' | 'envelope-id' | 'returned-headers' | 'recipient';

/** What became of one recipient of a report. */
export interface RecipientOutcome {
  /** 0 for the first recipient (the stored row holding the raw message). */
  position: number;
  recipient: string | null;
  status: ReportStatus;
  action: ReportAction;
  sendId: string | null;
  runId: number | null;
  matchedBy: MatchedBy | null;
  /** The remote text the send records (Diagnostic-Code, else "status x.y.z"). */
  remoteText: string | null;
  /** Enhanced status code of the reading (Status field or the text). */
  statusCode: string | null;
  qualification: Qualification | null;
  /** The reading's evidence, then the decision's. */
  evidence: string[];
  /** The reading of this recipient, as the recogniser gave it. */
  reading: RecipientReading | null;
  detail: string;
}

/**
 * A report's outcome. The top-level fields repeat the primary recipient (the first failed one,
 * else the first), as before issue 16; `recipients` has them all.
 */
export interface Classification extends Omit<RecipientOutcome, 'position' | 'reading'> {
  kind: ReportKind;
  /** The recogniser that read it (inbound/formats), e.g. 'rfc3464'. */
  format: string;
  recipients: RecipientOutcome[];
}

export interface ProcessedReport extends Classification {
  id: string | null;
  /** True when the same raw message was stored before: nothing was done. */
  duplicate: boolean;
  fingerprint: string;
  /** Stored row id per recipient, in order (empty for a duplicate). */
  recipientIds: string[];
}

interface SendRef {
  id: string;
  run_id: number | null;
  address: string;
}

function fingerprintOf(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Tokens from the returned original message or its headers (X-Send-Token, our Message-ID). */
function returnedTokens(texts: readonly string[], bounceDomain: string): string[] {
  const out: string[] = [];
  const messageId = new RegExp(
    `^Message-ID:[ \\t]*<([A-Za-z0-9_-]{16,64})@${escapeRegExp(bounceDomain)}>`,
    'gim',
  );
  const header = /^X-Send-Token:[ \t]*([A-Za-z0-9_-]{16,64})[ \t]*$/gim;
  for (const text of texts) {
    for (const re of [header, messageId]) {
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text))
        if (m[1] && !out.includes(m[1])) out.push(m[1]);
    }
  }
  return out;
}

async function sendByToken(pool: Pool, token: string): Promise<SendRef | null> {
  if (!VERP_TOKEN.test(token)) return null;
  // A derived token names its send by id (a send that stores no token); a stored one is looked up.
  const derived = await derivedSendOf(pool, token);
  const r = await pool.query<SendRef>(
    derived !== null
      ? `SELECT id, run_id, address FROM send WHERE id = $1 AND token IS NULL AND channel = 'email'`
      : `SELECT id, run_id, address FROM send WHERE token = $1 AND channel = 'email'`,
    [derived ?? token],
  );
  return r.rows[0] ?? null;
}

async function sendByAddress(pool: Pool, address: string): Promise<SendRef | null> {
  // Only a guess: the most recent delivered send to that address.
  const r = await pool.query<SendRef>(
    `SELECT id, run_id, address FROM send WHERE channel = 'email' AND lower(address) = lower($1) AND result = 'delivered'
      ORDER BY coalesce(delivered_at, sent_at, created_at) DESC, id DESC LIMIT 1`,
    [address],
  );
  return r.rows[0] ?? null;
}

interface Clues {
  verpAddresses: string[];
  envelopeId: string | null;
  returnedTexts: string[];
}

/**
 * Exact identifiers first (VERP, ENVID, returned headers); the recipient
 * address comes last because it only guesses among that address's sends.
 * The identifiers name one send (ours carry one recipient each); the recipients
 * of a report each find theirs (pipeline below).
 */
async function correlateByToken(
  pool: Pool,
  bounceDomain: string,
  clues: Clues,
): Promise<{ send: SendRef; by: MatchedBy } | null> {
  for (const address of clues.verpAddresses) {
    const token = verpToken(address, bounceDomain);
    const send = token === null ? null : await sendByToken(pool, token);
    if (send) return { send, by: 'verp' };
  }
  if (clues.envelopeId !== null) {
    const send = await sendByToken(pool, clues.envelopeId);
    if (send) return { send, by: 'envelope-id' };
  }
  for (const token of returnedTokens(clues.returnedTexts, bounceDomain)) {
    const send = await sendByToken(pool, token);
    if (send) return { send, by: 'returned-headers' };
  }
  return null;
}

async function correlateByAddress(
  pool: Pool,
  addresses: readonly string[],
): Promise<{ send: SendRef; by: MatchedBy } | null> {
  for (const address of addresses) {
    const send = await sendByAddress(pool, address);
    if (send) return { send, by: 'recipient' };
  }
  return null;
}

/** The report's own header addresses (To, Delivered-To, X-Original-To): where a VERP token sits. */
function reportHeaderAddresses(raw: Buffer): string[] {
  const text = raw.subarray(0, 64 * 1024).toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const out: string[] = [];
  for (const [name, value] of parseHeaderBlock(end < 0 ? text : text.slice(0, end))) {
    if (name !== 'to' && name !== 'delivered-to' && name !== 'x-original-to') continue;
    for (const piece of value.split(',')) {
      const address = extractAddress(piece);
      if (address !== null) out.push(address);
    }
  }
  return out;
}

function emptyOutcome(
  position: number,
  status: ReportStatus,
  action: ReportAction,
  detail: string,
): RecipientOutcome {
  return {
    position,
    recipient: null,
    status,
    action,
    sendId: null,
    runId: null,
    matchedBy: null,
    remoteText: null,
    statusCode: null,
    qualification: null,
    evidence: [],
    reading: null,
    detail,
  };
}

function primaryOf(recipients: readonly RecipientOutcome[]): RecipientOutcome {
  return recipients.find((r) => r.action === 'bounce') ?? recipients[0]!;
}

function classification(kind: ReportKind, format: string, recipients: RecipientOutcome[]): Classification {
  const { position: _p, reading: _r, ...primary } = primaryOf(recipients);
  return { ...primary, kind, format, recipients };
}

/**
 * A cut-off message still counts when what arrived says why (a Status or a
 * diagnostic for some recipient: the report before a truncated original is
 * whole); a report cut before any of that is only 'truncated'.
 */
function reportKind(reading: BounceReading): ReportKind {
  // Cut off before any recipient could be read whole, or before any says why: nothing to apply.
  const noRecipient = reading.recipients.every((r) => r.recipient === null && r.originalRecipient === null);
  const saysWhy = reading.recipients.some((r) => r.status !== null || r.diagnostic !== null);
  if (reading.truncated && reading.feedback === null && (noRecipient || !saysWhy)) return 'truncated';
  return reading.kind;
}

/**
 * Read a raw message and decide on each recipient, WITHOUT the database: the
 * part of the pipeline that `npm run classify` runs too. Correlation fields
 * (sendId, matchedBy) stay empty and statuses are those of an unmatched report.
 */
export async function readAndDecide(
  raw: Buffer,
  userRules: readonly BounceRule[],
): Promise<{ reading: BounceReading; classification: Classification }> {
  const reading = await readBounce(raw);
  const kind = reportKind(reading);
  const recipients: RecipientOutcome[] = [];
  if (kind === 'dsn') {
    reading.recipients.forEach((r, position) => {
      const failed = r.action === 'failed';
      const o = emptyOutcome(
        position,
        failed ? 'unmatched' : 'ignored',
        failed ? 'bounce' : (r.action as Exclude<typeof r.action, 'failed'>),
        '',
      );
      o.recipient = r.recipient ?? r.originalRecipient;
      o.reading = r;
      o.statusCode = r.status;
      o.remoteText = r.diagnostic ?? (r.status === null ? null : `status ${r.status}`);
      o.evidence = [`${reading.format} format`, ...r.evidence];
      if (failed) {
        o.qualification = qualify(r.diagnostic, userRules, { status: r.status, smtpStage: r.smtpStage });
        o.evidence.push(...o.qualification.evidence);
        o.detail = 'bounce for no known send';
      } else {
        o.evidence.push(`Action ${r.action}: not a failure`);
        o.detail = `DSN action ${r.action}: not a failure`;
      }
      recipients.push(o);
    });
    if (recipients.length === 0)
      recipients.push(
        emptyOutcome(0, 'unmatched', 'none', 'delivery-status part without a recipient action'),
      );
  } else if (kind === 'arf' && reading.feedback !== null) {
    const f = reading.feedback;
    const o = emptyOutcome(0, 'unmatched', f.feedbackType === 'abuse' ? 'complaint' : 'feedback', '');
    o.recipient = f.originalRcptTo[0] ?? null;
    o.evidence = [`${reading.format} format`, `Feedback-Type ${f.feedbackType ?? 'missing'}`];
    if (f.feedbackType === null) o.detail = 'feedback report without Feedback-Type';
    else if (f.feedbackType !== 'abuse') {
      o.status = 'ignored';
      o.detail = `feedback type ${f.feedbackType}: not a complaint`;
    } else o.detail = 'complaint for no known send';
    recipients.push(o);
  } else if (kind === 'auto-reply') {
    recipients.push(emptyOutcome(0, 'ignored', 'auto-reply', reading.detail));
  } else {
    recipients.push(emptyOutcome(0, 'unmatched', 'none', reading.detail));
  }
  return { reading, classification: classification(kind, reading.format, recipients) };
}

/** Tie each recipient to its send (see correlate*). */
async function correlateAll(
  pool: Pool,
  bounceDomain: string,
  raw: Buffer,
  reading: BounceReading,
  c: Classification,
  envelope: InboundEnvelope,
): Promise<void> {
  const verpAddresses = [
    ...(envelope.rcptTo ?? []),
    ...reportHeaderAddresses(raw),
    ...(reading.feedback?.originalMailFrom ? [reading.feedback.originalMailFrom] : []),
  ];
  // A feedback report without its Feedback-Type says nothing usable: left unmatched, as before.
  const unusableArf = c.kind === 'arf' && (reading.feedback?.feedbackType ?? null) === null;
  const worthMatching = unusableArf
    ? []
    : c.recipients.filter((o) => o.action !== 'none' && o.action !== 'auto-reply');
  if (worthMatching.length === 0) return;
  const byToken = await correlateByToken(pool, bounceDomain, {
    verpAddresses,
    envelopeId: reading.envelopeId,
    returnedTexts: reading.returnedTexts,
  });
  const addressesOf = (o: RecipientOutcome): string[] =>
    c.kind === 'arf'
      ? (reading.feedback?.originalRcptTo ?? [])
      : [o.reading?.originalRecipient ?? null, o.reading?.recipient ?? null].filter(
          (a): a is string => a !== null,
        );
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  // The token names one send: the recipient with its address, else (a forwarded address) the primary one.
  const tokenOwner =
    byToken === null
      ? null
      : (worthMatching.find((o) => addressesOf(o).some((a) => same(a, byToken.send.address))) ??
        primaryOf(worthMatching));
  for (const o of worthMatching) {
    const match = o === tokenOwner ? byToken : await correlateByAddress(pool, addressesOf(o));
    if (match === null) continue;
    o.sendId = match.send.id;
    o.runId = match.send.run_id;
    o.matchedBy = match.by;
    o.evidence.push(`matched to send ${match.send.id} by ${match.by}`);
    if (o.status === 'unmatched') {
      o.status = 'pending';
      o.detail = `${o.action === 'complaint' ? 'complaint' : 'bounce'} matched by ${match.by}`;
    }
  }
}

/** Classify and correlate one raw message. Reads the database; writes nothing. */
export async function classifyReport(
  pool: Pool,
  bounceDomain: string,
  raw: Buffer,
  envelope: InboundEnvelope = {},
): Promise<Classification> {
  const { reading, classification: c } = await readAndDecide(raw, await loadUserRules(pool));
  await correlateAll(pool, bounceDomain, raw, reading, c, envelope);
  return classification(c.kind, c.format, c.recipients);
}

function readingJson(reading: BounceReading, o: RecipientOutcome): string {
  return JSON.stringify({
    kind: reading.kind,
    format: reading.format,
    detail: reading.detail,
    envelopeId: reading.envelopeId,
    truncated: reading.truncated,
    feedback: reading.feedback,
    recipient: o.reading,
  });
}

/**
 * Store a raw message once (sha256 fingerprint) with one row per recipient,
 * count its bounce texts in the qualification table, count refusals by policy
 * per receiving domain (MX breaker) and have matched reports applied. A
 * duplicate changes nothing and says so.
 */
export async function processInboundReport(
  deps: InboundDeps,
  raw: Buffer,
  envelope: InboundEnvelope = {},
): Promise<ProcessedReport> {
  const fingerprint = fingerprintOf(raw);
  const { reading, classification: first } = await readAndDecide(raw, await loadUserRules(deps.pool));
  await correlateAll(deps.pool, deps.bounceDomain, raw, reading, first, envelope);
  const c = classification(first.kind, first.format, first.recipients);
  const ids: string[] = [];
  /** Positions stored now: a recipient already stored (a repeated delivery) counts nothing again. */
  const stored = new Set<number>();
  for (const o of c.recipients) {
    const q = o.qualification;
    const bounce = o.action === 'bounce';
    const inserted = await deps.pool.query<{ id: string }>(
      `INSERT INTO inbound_report (received_at, fingerprint, position, message_report_id, kind, format, status, send_id, run_id,
              action, recipient, remote_text, status_code, code, error_type, error_reason, fault, evidence, reading, detail, raw)
       VALUES (now(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::jsonb, $18::jsonb, $19, $20)
       ON CONFLICT (fingerprint, position) DO NOTHING RETURNING id`,
      [
        fingerprint,
        o.position,
        ids[0] ?? null,
        c.kind,
        c.format,
        o.status,
        o.sendId,
        o.runId,
        o.action,
        o.recipient,
        o.remoteText,
        o.statusCode,
        q?.code ?? null,
        bounce ? (q?.errorType ?? 'undefined') : null,
        bounce ? (q?.reason ?? 'undefined') : null,
        bounce ? (q?.fault ?? null) : null,
        JSON.stringify(o.evidence),
        readingJson(reading, o),
        o.detail,
        // Text column: a NUL byte would make PostgreSQL refuse the row. Stored once, on the first row.
        o.position === 0 ? raw.toString('utf8').replace(/\0/g, '\uFFFD') : null,
      ],
    );
    const id = inserted.rows[0]?.id ?? null;
    if (id === null) {
      if (o.position === 0) return { ...c, id: null, duplicate: true, fingerprint, recipientIds: [] };
      continue;
    }
    ids.push(id);
    stored.add(o.position);
  }

  // MX management: a bounce of one of our sends counts toward its receiving domain's error rate by
  // the same rule as a live refusal (domain/domain-throttle.ts domainTallyOf), whoever's fault it is,
  // once per report. A report matched to no send is no message of ours the domain refused.
  const bouncedByDomain = new Map<string, DomainTally>();
  for (const o of c.recipients) {
    const q = o.qualification;
    if (o.action !== 'bounce' || q === null) continue;
    if (o.reading?.diagnostic) await recordBounceText(deps.pool, o.reading.diagnostic, q);
    if (o.recipient !== null && o.sendId !== null && stored.has(o.position))
      addDomainTally(bouncedByDomain, o.recipient, domainTallyOf({ kind: 'report', action: o.action }));
  }
  if (bouncedByDomain.size > 0) {
    const tripped = await countDomainOutcomes(deps.pool, bouncedByDomain, await loadDomainRules(deps.pool));
    if (tripped.length > 0)
      deps.logger?.warn(
        { reportId: ids[0], domains: tripped },
        'receiving domains blocked by the error-rate breaker after asynchronous bounces',
      );
  }
  const runs = new Set<number | null>(c.recipients.filter((o) => o.status === 'pending').map((o) => o.runId));
  for (const runId of runs) {
    try {
      const thresholds = {
        invalidAfterErrors: deps.invalidAfterErrors,
        quarantineAfterErrors: deps.quarantineAfterErrors,
      };
      if (runId !== null) await notifyRunOfReports(deps.temporal, deps.pool, runId, thresholds);
      else await applyPendingReports(deps.pool, null, thresholds);
    } catch (err) {
      // Stored and pending: the run's next report (or a requalify) picks it up.
      deps.logger?.warn({ err, reportId: ids[0], runId }, 'inbound report stored but not yet applied');
    }
  }
  return { ...c, id: ids[0] ?? null, duplicate: false, fingerprint, recipientIds: ids };
}
