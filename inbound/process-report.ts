// The inbound report pipeline (SPEC 4, issue 4): whatever reaches the bounce
// mailbox (SMTP listener or the API for MTAs that pipe mail) is stored once,
// classified and tied to its send, then applied through the run's workflow.
// Bad input never throws: it is stored as 'unmatched' for inspection. Only
// infrastructure failures (database down) reject, so callers can ask for a retry.
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { isAutoReply } from '../domain/auto-reply';
import {
  parseDeliveryStatus,
  parseFeedbackReport,
  extractAddress,
  type DsnRecipient,
} from '../domain/report-fields';
import { VERP_TOKEN, verpToken } from '../domain/verp';
import { loadUserRules, qualify, recordBounceText, type Qualification } from '../db/bounce-rule-queries';
import { applyPendingReports } from '../db/report-queries';
import { notifyRunOfReports } from './run-signal';

export interface InboundDeps {
  pool: Pool;
  temporal: Client;
  bounceDomain: string;
  invalidAfterErrors: number;
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

export interface Classification {
  kind: ReportKind;
  status: ReportStatus;
  action: ReportAction;
  sendId: string | null;
  runId: number | null;
  matchedBy: MatchedBy | null;
  recipient: string | null;
  remoteText: string | null;
  qualification: Qualification | null;
  detail: string;
}

export interface ProcessedReport extends Classification {
  id: string | null;
  /** True when the same raw message was stored before: nothing was done. */
  duplicate: boolean;
  fingerprint: string;
}

const REPORT_ACTIONS = new Set(['failed', 'delayed', 'delivered', 'relayed', 'expanded']);

interface SendRef {
  id: string;
  run_id: number | null;
}

function fingerprintOf(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

function headerAddresses(mail: ParsedMail, name: string): string[] {
  const value = mail.headers.get(name);
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  const list = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const v of list) {
    if (typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object' && 'value' in v && Array.isArray(v.value)) {
      for (const a of v.value as Array<{ address?: string }>) if (a.address) out.push(a.address);
    }
  }
  return out;
}

function plainHeaders(mail: ParsedMail): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of mail.headerLines ?? []) {
    const colon = line.line.indexOf(':');
    if (colon > 0 && out[line.key] === undefined) out[line.key] = line.line.slice(colon + 1).trim();
  }
  return out;
}

/** The top-level multipart lost its closing boundary: the message was cut off. */
function isTruncated(mail: ParsedMail, raw: string): boolean {
  const ct = mail.headers.get('content-type') as
    { value?: string; params?: Record<string, string> } | undefined;
  if (!ct || typeof ct !== 'object' || !ct.value?.toLowerCase().startsWith('multipart/')) return false;
  const boundary = ct.params?.boundary;
  return typeof boundary === 'string' && boundary !== '' && !raw.includes(`--${boundary}--`);
}

function part(mail: ParsedMail, ...types: string[]): string | null {
  const a = mail.attachments.find((x) => types.includes(x.contentType.toLowerCase()));
  return a ? a.content.toString('utf8') : null;
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
  const r = await pool.query<SendRef>(`SELECT id, run_id FROM send WHERE token = $1 AND channel = 'email'`, [
    token,
  ]);
  return r.rows[0] ?? null;
}

async function sendByAddress(pool: Pool, address: string): Promise<SendRef | null> {
  // Only a guess: the most recent delivered send to that address.
  const r = await pool.query<SendRef>(
    `SELECT id, run_id FROM send WHERE channel = 'email' AND lower(address) = lower($1) AND result = 'delivered'
      ORDER BY coalesce(delivered_at, sent_at, created_at) DESC, id DESC LIMIT 1`,
    [address],
  );
  return r.rows[0] ?? null;
}

interface Clues {
  verpAddresses: string[];
  envelopeId: string | null;
  returnedTexts: string[];
  recipients: string[];
}

/**
 * Exact identifiers first (VERP, ENVID, returned headers); the recipient
 * address comes last because it only guesses among that address's sends.
 */
async function correlate(
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
  for (const address of clues.recipients) {
    const send = await sendByAddress(pool, address);
    if (send) return { send, by: 'recipient' };
  }
  return null;
}

function base(kind: ReportKind, status: ReportStatus, action: ReportAction, detail: string): Classification {
  return {
    kind,
    status,
    action,
    sendId: null,
    runId: null,
    matchedBy: null,
    recipient: null,
    remoteText: null,
    qualification: null,
    detail,
  };
}

/** Classify and correlate one raw message. Reads the database; writes nothing. */
export async function classifyReport(
  pool: Pool,
  bounceDomain: string,
  raw: Buffer,
  envelope: InboundEnvelope = {},
): Promise<Classification> {
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, { keepDeliveryStatus: true } as Parameters<typeof simpleParser>[1]);
  } catch (err) {
    return base(
      'unparseable',
      'unmatched',
      'none',
      `not a parseable message: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const rawText = raw.toString('utf8');
  if (isTruncated(mail, rawText))
    return base('truncated', 'unmatched', 'none', 'MIME message is truncated (no closing boundary)');

  const subject = mail.subject ?? '';
  if (isAutoReply(plainHeaders(mail), subject))
    return base('auto-reply', 'ignored', 'auto-reply', 'auto-reply: says nothing about the address');

  // mailparser keeps an inline message/rfc822 in the body instead of the
  // attachments, so the raw body (past the report's own headers) is searched too.
  const headerEnd = rawText.search(/\r?\n\r?\n/);
  const returnedTexts = [
    part(mail, 'message/rfc822', 'text/rfc822-headers', 'message/global', 'message/global-headers'),
    headerEnd < 0 ? null : rawText.slice(headerEnd),
  ].filter((t): t is string => t !== null);
  const verpAddresses = [
    ...(envelope.rcptTo ?? []),
    ...headerAddresses(mail, 'to'),
    ...headerAddresses(mail, 'delivered-to'),
    ...headerAddresses(mail, 'x-original-to'),
  ];

  const dsnText = part(mail, 'message/delivery-status', 'message/global-delivery-status');
  if (dsnText !== null) {
    const dsn = parseDeliveryStatus(dsnText);
    const recipient: DsnRecipient | undefined =
      dsn.recipients.find((r) => r.action === 'failed') ??
      dsn.recipients.find((r) => r.action !== null && REPORT_ACTIONS.has(r.action));
    if (!recipient || recipient.action === null)
      return base('dsn', 'unmatched', 'none', 'delivery-status part without a recipient action');
    const address = recipient.originalRecipient ?? recipient.finalRecipient;
    const clues: Clues = {
      verpAddresses,
      envelopeId: dsn.originalEnvelopeId,
      returnedTexts,
      recipients: [recipient.originalRecipient, recipient.finalRecipient].filter(
        (a): a is string => a !== null,
      ),
    };
    const match = await correlate(pool, bounceDomain, clues);
    const c = base('dsn', 'unmatched', recipient.action === 'failed' ? 'bounce' : recipient.action, '');
    c.recipient = address;
    c.remoteText =
      recipient.diagnosticCode ?? (recipient.status === null ? null : `status ${recipient.status}`);
    if (match) {
      c.sendId = match.send.id;
      c.runId = match.send.run_id;
      c.matchedBy = match.by;
    }
    if (recipient.action !== 'failed') {
      c.status = 'ignored';
      c.detail = `DSN action ${recipient.action}: not a failure`;
    } else if (!match) {
      c.detail = 'bounce for no known send';
    } else {
      c.status = 'pending';
      c.detail = `bounce matched by ${match.by}`;
    }
    return c;
  }

  const arfText = part(mail, 'message/feedback-report');
  if (arfText !== null) {
    const arf = parseFeedbackReport(arfText);
    const clues: Clues = {
      verpAddresses: [...verpAddresses, ...(arf.originalMailFrom === null ? [] : [arf.originalMailFrom])],
      envelopeId: null,
      returnedTexts,
      recipients: arf.originalRcptTo,
    };
    const c = base('arf', 'unmatched', arf.feedbackType === 'abuse' ? 'complaint' : 'feedback', '');
    c.recipient = arf.originalRcptTo[0] ?? null;
    if (arf.feedbackType === null) {
      c.detail = 'feedback report without Feedback-Type';
      return c;
    }
    const match = await correlate(pool, bounceDomain, clues);
    if (match) {
      c.sendId = match.send.id;
      c.runId = match.send.run_id;
      c.matchedBy = match.by;
    }
    if (arf.feedbackType !== 'abuse') {
      c.status = 'ignored';
      c.detail = `feedback type ${arf.feedbackType}: not a complaint`;
    } else if (!match) {
      c.detail = 'complaint for no known send';
    } else {
      c.status = 'pending';
      c.detail = `complaint matched by ${match.by}`;
    }
    return c;
  }

  const from = extractAddress(headerAddresses(mail, 'from')[0] ?? null);
  return base(
    'other',
    'unmatched',
    'none',
    `no delivery-status or feedback-report part${from ? ` (from ${from})` : ''}`,
  );
}

/**
 * Store a raw message once (sha256 fingerprint), count its bounce text in the
 * qualification table and have matched reports applied. A duplicate changes
 * nothing and says so.
 */
export async function processInboundReport(
  deps: InboundDeps,
  raw: Buffer,
  envelope: InboundEnvelope = {},
): Promise<ProcessedReport> {
  const fingerprint = fingerprintOf(raw);
  const c = await classifyReport(deps.pool, deps.bounceDomain, raw, envelope);
  if (c.action === 'bounce' && c.remoteText !== null) {
    c.qualification = qualify(c.remoteText, await loadUserRules(deps.pool));
  }
  const q = c.qualification;
  const inserted = await deps.pool.query<{ id: string }>(
    `INSERT INTO inbound_report (received_at, fingerprint, kind, status, send_id, run_id, action, recipient, remote_text, code, error_type, error_reason, detail, raw)
     VALUES (now(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (fingerprint) DO NOTHING RETURNING id`,
    [
      fingerprint,
      c.kind,
      c.status,
      c.sendId,
      c.runId,
      c.action,
      c.recipient,
      c.remoteText,
      q?.code ?? null,
      c.action === 'bounce' ? (q?.errorType ?? 'undefined') : null,
      c.action === 'bounce' ? (q?.reason ?? 'undefined') : null,
      c.detail,
      // Text column: a NUL byte would make PostgreSQL refuse the row.
      raw.toString('utf8').replace(/\0/g, '\uFFFD'),
    ],
  );
  const id = inserted.rows[0]?.id ?? null;
  if (id === null) return { ...c, id: null, duplicate: true, fingerprint };

  if (c.action === 'bounce' && c.remoteText !== null && q !== null)
    await recordBounceText(deps.pool, c.remoteText, q);
  if (c.status === 'pending') {
    try {
      if (c.runId !== null)
        await notifyRunOfReports(deps.temporal, deps.pool, c.runId, deps.invalidAfterErrors);
      else await applyPendingReports(deps.pool, null, deps.invalidAfterErrors);
    } catch (err) {
      // Stored and pending: the run's next report (or a requalify) picks it up.
      deps.logger?.warn({ err, reportId: id, runId: c.runId }, 'inbound report stored but not yet applied');
    }
  }
  return { ...c, id, duplicate: false, fingerprint };
}
