// What every format recogniser shares: the view of one message it reads
// (BounceInput), the shape of what it answers (Recognised), and the readers of
// signals inside free text (enhanced status code, reply code, SMTP stage,
// remote MTA), so that each family only says where its recipients and error
// texts are.
import { extractAddress } from '../../domain/report-fields';
import { decodeWords, header, headerAll, htmlToText, partText, walk, type MimePart } from './mime';
import type { FeedbackReading, RecipientAction, RecipientReading, SmtpStage } from './types';

export interface BounceInput {
  root: MimePart;
  subject: string;
  /** Decoded From header. */
  from: string;
  fromAddress: string | null;
  received: string[];
  /** Human-readable text of the message: its text parts outside enclosed messages. */
  text: string;
  /** `text` up to the first marker of a returned original (single-part bounces). */
  reportText: string;
  /** What follows that marker, when there is one. */
  returnedInline: string | null;
  /** A multipart had no closing boundary. */
  truncated: boolean;
  /** Names of headers → first value, lower-cased names. */
  head(name: string): string | null;
}

export interface Recognised {
  kind?: 'dsn' | 'arf';
  /** Format name when it differs from the recogniser's (a provider on a shared format). */
  format?: string;
  recipients: RecipientReading[];
  feedback?: FeedbackReading | null;
  envelopeId?: string | null;
  detail?: string;
}

export interface Recogniser {
  /** Format name reported in BounceReading.format. */
  name: string;
  read(input: BounceInput): Recognised | null;
}

// Lines that open the returned original in single-part bounces, by family.
const RETURNED_MARKERS: readonly RegExp[] = [
  /^-+ ?Below this line is a copy of the message\.?/im, // qmail, Yahoo
  /^-+ ?Enclosed are the original headers of the message\.?/im, // qmail
  /^-+ This is a copy of the (?:message|body of the message|message's headers)/im, // Exim
  /^-+ The body of the message is \d+ characters long/im, // Exim
  /^\s*-+ ?(?:Original|Unsent) message (?:follows|headers follow)/im, // Sendmail
  /^\s*-+ ?Message header follows/im,
  /^Original message follows\.?$/im, // dma
  /^Message headers follow\.?$/im, // dma
  /^\s*Below is a copy of the original message:?/im, // OpenSMTPD
  /^Original message headers:?$/im, // Exchange
  /^-+ ?Original message -+$/im, // Gmail
  /^-+ ?Original Message -+$/im,
  /^Content-Type: message\/rfc822/im,
];

export function cutReturned(text: string): { report: string; returned: string | null } {
  let cut = -1;
  for (const re of RETURNED_MARKERS) {
    const m = re.exec(text);
    if (m && (cut < 0 || m.index < cut)) cut = m.index;
  }
  if (cut < 0) return { report: text, returned: null };
  return { report: text.slice(0, cut), returned: text.slice(cut) };
}

function humanText(root: MimePart): string {
  // Text parts outside enclosed messages; HTML only when there is no plain text.
  const parts = walk(root, false);
  const plain = parts.filter(
    (p) => p.parts.length === 0 && p.contentType === 'text/plain' && !isAttachmentDisposition(p),
  );
  if (plain.length > 0) return plain.map(partText).join('\n\n');
  const html = parts.filter((p) => p.parts.length === 0 && p.contentType === 'text/html');
  return html.map((p) => htmlToText(partText(p))).join('\n\n');
}

function isAttachmentDisposition(p: MimePart): boolean {
  const d = header(p, 'content-disposition');
  return d !== null && /^\s*attachment/i.test(d) && /\.(?:eml|msg)\b/i.test(d);
}

// Bounds that keep every line-oriented pattern linear: reports are short,
// and what is longer is returned content or an attack on our regexes.
const MAX_LINE = 2000;
const MAX_LINES = 4000;

/** Line ends unified, trailing blanks dropped, blank runs collapsed, sizes bounded. */
export function normaliseText(text: string): string {
  const out: string[] = [];
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.slice(0, MAX_LINE).replace(/[ \t]+$/, '');
    if (line === '' && out.length > 0 && out[out.length - 1] === '') continue;
    out.push(line);
    if (out.length >= MAX_LINES) break;
  }
  return out.join('\n');
}

export function buildInput(root: MimePart): BounceInput {
  const text = normaliseText(humanText(root));
  const { report, returned } = cutReturned(text);
  const from = decodeWords(header(root, 'from'));
  return {
    root,
    subject: decodeWords(header(root, 'subject')).trim(),
    from,
    fromAddress: extractAddress(from)?.toLowerCase() ?? null,
    received: headerAll(root, 'received'),
    text,
    reportText: report,
    returnedInline: returned,
    truncated: walk(root, true).some((p) => p.truncated),
    head: (name) => header(root, name),
  };
}

// ---------------------------------------------------------------- signals in text

// RFC 3463 x.y.z, not a piece of an IP address or a version number.
const ENHANCED = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)/g;

/** Enhanced status codes in a text, in order. */
export function enhancedCodes(text: string | null): string[] {
  if (!text) return [];
  const out: string[] = [];
  ENHANCED.lastIndex = 0;
  for (let m = ENHANCED.exec(text); m !== null; m = ENHANCED.exec(text)) {
    const code = `${m[1]}.${m[2]}.${m[3]}`;
    if (Number(m[2]) <= 7 && !out.includes(code)) out.push(code);
  }
  return out;
}

/** The most telling enhanced code: the first that is not the catch-all x.0.0. */
export function enhancedCodeIn(text: string | null): string | null {
  const codes = enhancedCodes(text);
  return codes.find((c) => !/\.0\.0$/.test(c)) ?? codes[0] ?? null;
}

const REPLY = /(?:^|[\s:;'"(#<[=])([245][0-5]\d)(?=[\s,;-]|$)(?![-\s]*\d{3}\b(?![.\d]))/gm;

/** The basic SMTP reply code in a text (first one), e.g. 550. */
export function replyCodeIn(text: string | null): number | null {
  if (!text) return null;
  REPLY.lastIndex = 0;
  for (let m = REPLY.exec(text); m !== null; m = REPLY.exec(text)) {
    const after = text.slice(m.index + m[0].length, m.index + m[0].length + 12);
    // "550 bytes", "421 seconds", "250 hours" are not replies.
    if (/^\s*(?:bytes|seconds|secs|minutes|hours|days|characters|lines)\b/i.test(after)) continue;
    return Number(m[1]);
  }
  return null;
}

const STAGES: ReadonlyArray<[SmtpStage, RegExp]> = [
  [
    'after-data',
    /\b(?:end of data|after (?:the )?end of data|end of DATA command|after (?:sending )?(?:the )?(?:message|data)\b|failed after I sent the message|\[DATA\]|DATA command\)? ?after|data_end|final dot)/i,
  ],
  ['data', /(?:\bin reply to DATA\b|\bafter DATA\b|>>>\s*DATA\b|did not like our DATA|DATA command)/i],
  [
    'rcpt',
    /(?:RCPT[ _]TO|\bRCPT\b|\[RCPT_TO\]|does not like recipient|after RCPT|in reply to RCPT|recipient address rejected)/i,
  ],
  ['mail', /(?:MAIL[ _]FROM|\[MAIL_FROM\]|does not like sender|in reply to MAIL|sender address rejected)/i],
  ['helo', /\b(?:EHLO|HELO|LHLO)\b/i],
  [
    'connect',
    /(?:\bgreeting\b|\bbanner\b|connection (?:refused|timed out|reset)|couldn'?t connect|could not connect|unable to connect|wasn't able to establish an SMTP connection|while connected to|in reply to initial|after initial connection|\bconnect to\b)/i,
  ],
];

/** The SMTP stage a text says the refusal happened at. */
export function smtpStageIn(text: string | null): SmtpStage | null {
  if (!text) return null;
  for (const [stage, re] of STAGES) if (re.test(text)) return stage;
  return null;
}

const HOST = '([A-Za-z0-9][A-Za-z0-9_.-]*\\.[A-Za-z]{2,}|\\[?\\d{1,3}(?:\\.\\d{1,3}){3}\\]?)';
const REMOTE_MTA: readonly RegExp[] = [
  new RegExp(`\\bhost ${HOST}\\s*\\[[\\d.:a-fA-F]+\\]`, 'i'), // Postfix, Exim
  new RegExp(`\\bhost:?\\s+${HOST}`, 'i'),
  new RegExp(`while talking to ${HOST}\\.?:`, 'i'), // Sendmail
  new RegExp(`^${HOST}\\s*\\[[\\d.:a-fA-F]+\\]\\s*(?:did not like|:)`, 'im'), // dma, Courier
  new RegExp(`Connected to ${HOST}\\s+but`, 'i'), // qmail
  new RegExp(`\\bby ${HOST}\\.?\\s*\\[[\\d.:a-fA-F]+\\]`, 'i'), // Gmail
  new RegExp(`Remote (?:system|server|host|MTA):\\s*(?:dns;\\s*)?${HOST}`, 'i'),
  new RegExp(`(?:^|<)${HOST}\\s+#[245]\\.`, 'i'), // Exchange 2003
];

export function remoteMtaIn(text: string | null): string | null {
  if (!text) return null;
  for (const re of REMOTE_MTA) {
    const m = re.exec(text);
    if (m?.[1])
      return m[1]
        .replace(/^\[|\]$/g, '')
        .replace(/\.$/, '')
        .toLowerCase();
  }
  return null;
}

/** Whitespace of a multi-line error text collapsed to single spaces. */
export function squash(text: string | null | undefined): string | null {
  if (typeof text !== 'string') return null;
  const s = text.replace(/\s+/g, ' ').trim();
  return s === '' ? null : s;
}

export function addressOf(text: string | null | undefined): string | null {
  const a = extractAddress(text ?? null);
  if (a === null) return null;
  // A trailing dot or quote is punctuation of the sentence, not the address.
  return a.replace(/[.'"]+$/, '');
}

export interface ReadingSeed {
  recipient: string | null;
  action?: RecipientAction;
  diagnostic?: string | null;
  status?: string | null;
  replyCode?: number | null;
  remoteMta?: string | null;
  smtpStage?: SmtpStage | null;
  originalRecipient?: string | null;
  evidence: string[];
}

/** A recipient reading; what the seed leaves out is read from its diagnostic text. */
export function reading(seed: ReadingSeed): RecipientReading {
  const diagnostic = squash(seed.diagnostic);
  const evidence = [...seed.evidence];
  let status = seed.status ?? null;
  if (status === null) {
    status = enhancedCodeIn(diagnostic);
    if (status !== null) evidence.push('enhanced code in text');
  }
  let replyCode = seed.replyCode ?? null;
  if (replyCode === null) {
    replyCode = replyCodeIn(diagnostic);
    if (replyCode !== null) evidence.push('reply code in text');
  }
  const smtpStage = seed.smtpStage ?? smtpStageIn(diagnostic);
  if (seed.smtpStage == null && smtpStage !== null) evidence.push(`SMTP stage ${smtpStage} in text`);
  // A text bounce is a failure unless its format says it is a delay warning:
  // a 4xx code in it is often the last try of a queue that has given up.
  const action: RecipientAction = seed.action ?? 'failed';
  return {
    recipient: seed.recipient,
    originalRecipient: seed.originalRecipient ?? null,
    action,
    status,
    diagnostic,
    replyCode,
    remoteMta: seed.remoteMta ?? remoteMtaIn(seed.diagnostic ?? null),
    smtpStage,
    evidence,
  };
}

export interface Block {
  address: string;
  /** 1-based line number of the recipient line in the report text. */
  line: number;
  /** Index of the block among the format's recipient blocks, 1-based. */
  index: number;
  text: string;
}

export interface BlockOptions {
  /** Matches a recipient line; group 1 is the address, group 2 (optional) the rest of the line. */
  recipientLine: RegExp;
  /** Reading starts after the first line matching this (default: from the top). */
  start?: RegExp;
  /** Reading stops at the first line matching this. */
  stop?: RegExp;
  /** A blank line ends a block (default true); otherwise only the next recipient does. */
  stopAtBlank?: boolean;
  /** Lines of a block must be indented (Exim style); a non-indented line ends it. */
  indented?: boolean;
}

/** Splits a report text into recipient blocks: a recipient line and the text that follows it. */
export function recipientBlocks(text: string, opts: BlockOptions): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let started = opts.start === undefined;
  let current: { address: string; line: number; lines: string[]; closed: boolean } | null = null;
  const flush = (): void => {
    if (current)
      blocks.push({
        address: current.address,
        line: current.line,
        index: blocks.length + 1,
        text: current.lines.join('\n'),
      });
    current = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!started) {
      if (opts.start!.test(line)) started = true;
      continue;
    }
    if (opts.stop?.test(line)) break;
    const m = opts.recipientLine.exec(line);
    const address = m ? addressOf(m[1]) : null;
    if (m && address !== null) {
      flush();
      current = { address, line: i + 1, lines: m[2] ? [m[2]] : [], closed: false };
      continue;
    }
    if (!current) continue;
    const c = current as { lines: string[]; closed: boolean };
    if (c.closed) continue;
    if (line.trim() === '') {
      if (opts.stopAtBlank !== false && c.lines.length > 0) c.closed = true;
      continue;
    }
    if (opts.indented && !/^\s/.test(line)) {
      c.closed = true;
      continue;
    }
    c.lines.push(line);
  }
  flush();
  return blocks;
}

/** Addresses listed in X-Failed-Recipients (Exim, Google, mail.ru). */
export function failedRecipientsHeader(input: BounceInput): string[] {
  const out: string[] = [];
  for (const v of headerAll(input.root, 'x-failed-recipients')) {
    for (const piece of v.split(',')) {
      const a = addressOf(piece);
      if (a !== null && !out.includes(a)) out.push(a);
    }
  }
  return out;
}

export function fromDomain(input: BounceInput): string {
  return input.fromAddress?.split('@')[1] ?? '';
}

/** The sender is a mail system (MAILER-DAEMON, postmaster, a delivery subsystem). */
export function isBounceSender(input: BounceInput): boolean {
  const f = input.from.toLowerCase();
  return /mailer-daemon|postmaster|mail delivery (?:subsystem|system|service)|mail administrator|microsoftexchange|\bmaildaemon\b|\bmail system\b|courier mail server/.test(
    f,
  );
}

export function receivedMentions(input: BounceInput, re: RegExp): boolean {
  return input.received.some((r) => re.test(r));
}

/** Readings from recipient blocks, with the format and line as evidence. */
export function blockReadings(
  label: string,
  blocks: Block[],
  extra: (b: Block) => Partial<ReadingSeed> = () => ({}),
): RecipientReading[] {
  return blocks.map((b) =>
    reading({
      recipient: b.address,
      diagnostic: b.text,
      ...extra(b),
      evidence: [`${label} format, recipient line ${b.line}`, ...(extra(b).evidence ?? [])],
    }),
  );
}

/** One recognised answer, or null when no recipient was read. */
export function answer(label: string, recipients: RecipientReading[]): Recognised | null {
  if (recipients.length === 0) return null;
  return {
    kind: 'dsn',
    format: label,
    recipients,
    detail: `${label} format: ${recipients.length} recipient(s)`,
  };
}

/**
 * Addresses of the bounce's own headers: our bounce address (To) and the
 * reporter (From, Reply-To). Not X-Original-To: dma puts the failed
 * recipient there.
 */
export function ownAddresses(input: BounceInput): Set<string> {
  const out = new Set<string>();
  for (const name of ['to', 'return-path', 'from', 'reply-to']) {
    for (const v of headerAll(input.root, name)) {
      for (const piece of v.split(',')) {
        const a = addressOf(piece);
        if (a !== null) out.add(a.toLowerCase());
      }
    }
  }
  return out;
}
