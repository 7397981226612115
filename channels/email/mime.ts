// Builds the RFC 5322 / MIME source of one of our messages. Our messages have
// a fixed, small shape (a text part, an HTML part or both, a few headers), so
// the worker composes them directly instead of through a general MIME tree:
// in the benchmark that tree was a third of the worker's CPU per message.
// The SMTP client (./transport.ts) sends the result as-is; dot-stuffing is
// the SMTP layer's job.
import { randomBytes } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { splitByCost } from '../../domain/split-by-cost';

/** Every character is ASCII: UTF-8 then spends exactly one byte per UTF-16 unit. */
const isAscii = (s: string): boolean => Buffer.byteLength(s) === s.length;

export interface MimeMessage {
  from: string;
  to: string;
  replyTo?: string;
  subject: string;
  text?: string;
  html?: string;
  /** Full Message-ID including angle brackets. */
  messageId: string;
  headers?: Record<string, string>;
  date?: Date;
}

const CRLF = '\r\n';
// Printable ASCII and tab: such a header value needs no encoding.
const PLAIN_HEADER = /^[\x20-\x7e\t]*$/;
// RFC 5322 specials that force a display name into a quoted string.
const NEEDS_QUOTES = /[()<>[\]:;@\\,."]/;
// An encoded word is at most 75 characters: "=?UTF-8?B?" + payload + "?=" leaves 63
// for base64, i.e. 45 bytes of UTF-8 (a multiple of 3, so no padding mid-header).
const WORD_BYTES = 45;

/** Header values never carry line breaks: a break would start a new header (injection). */
function oneLine(value: string): string {
  return value.indexOf('\n') < 0 && value.indexOf('\r') < 0 ? value : value.replace(/[\r\n]+/g, ' ');
}

/** RFC 2047 encoded words (UTF-8, base64), split on character boundaries, folded. */
function encodeWords(value: string): string {
  return splitByCost(value, WORD_BYTES, (ch) => Buffer.byteLength(ch))
    .map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`)
    .join(`${CRLF} `);
}

/** An unstructured header value (Subject): as-is when plain ASCII, else encoded words. */
export function encodeUnstructured(value: string): string {
  const v = oneLine(value);
  return PLAIN_HEADER.test(v) && v.length <= 900 ? v : encodeWords(v);
}

function asciiAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0 || isAscii(address)) return address;
  // An internationalized domain travels as its A-label (punycode).
  const domain = domainToASCII(address.slice(at + 1));
  return `${address.slice(0, at)}@${domain || address.slice(at + 1)}`;
}

/** "Name <addr>" or a bare address, with a non-ASCII display name as encoded words. */
export function formatAddress(value: string): string {
  const v = oneLine(value).trim();
  const m = /^(.*?)\s*<([^<>]+)>$/.exec(v);
  if (!m) return asciiAddress(v);
  const name = m[1]!.trim().replace(/^"(.*)"$/, '$1');
  const address = asciiAddress(m[2]!.trim());
  if (!name) return `<${address}>`;
  if (!PLAIN_HEADER.test(name)) return `${encodeWords(name)} <${address}>`;
  return NEEDS_QUOTES.test(name)
    ? `"${name.replace(/["\\]/g, '\\$&')}" <${address}>`
    : `${name} <${address}>`;
}

/** RFC 5322 date-time in UTC, e.g. "Mon, 23 Nov 2026 15:16:12 +0000". */
function formatDate(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastDate.second) lastDate = { second, text: date.toUTCString().replace(/GMT$/, '+0000') };
  return lastDate.text;
}
// The messages of a second share their Date header: formatted once (the worker composes thousands a second).
let lastDate = { second: NaN, text: '' };

/** Every CRLF-separated line of `text` is at most `max` characters long (no array of lines made). */
function linesAtMost(text: string, max: number): boolean {
  let start = 0;
  for (let end = text.indexOf(CRLF); end >= 0; end = text.indexOf(CRLF, start)) {
    if (end - start > max) return false;
    start = end + CRLF.length;
  }
  return text.length - start <= max;
}

/** A body part's headers and encoded content: 7bit when it is short-lined ASCII, else base64. */
function encodePart(contentType: string, body: string): string {
  const normalized = body.replace(/\r\n|\r|\n/g, CRLF);
  const sevenBit = isAscii(normalized) && linesAtMost(normalized, 998);
  const encoded = sevenBit
    ? normalized
    : (
        Buffer.from(normalized, 'utf8')
          .toString('base64')
          .match(/.{1,76}/g) ?? []
      ).join(CRLF);
  return [
    `Content-Type: ${contentType}; charset=utf-8`,
    `Content-Transfer-Encoding: ${sevenBit ? '7bit' : 'base64'}`,
    '',
    encoded,
  ].join(CRLF);
}

// A batch's messages share their From: formatted once.
let lastFrom: { value: string; formatted: string } | null = null;
// Header names already checked: the same few on every message.
const validHeaderNames = new Set<string>();

/** The complete message source, CRLF line endings, ready for SMTP DATA. */
export function composeMessage(m: MimeMessage): Buffer {
  if (m.from !== lastFrom?.value) lastFrom = { value: m.from, formatted: formatAddress(m.from) };
  const head: string[] = [`From: ${lastFrom.formatted}`, `To: ${formatAddress(m.to)}`];
  if (m.replyTo) head.push(`Reply-To: ${formatAddress(m.replyTo)}`);
  head.push(
    `Subject: ${encodeUnstructured(m.subject)}`,
    `Date: ${formatDate(m.date ?? new Date())}`,
    `Message-ID: ${oneLine(m.messageId)}`,
  );
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    if (!validHeaderNames.has(name)) {
      if (!/^[!-9;-~]+$/.test(name)) throw new Error(`invalid header name: ${JSON.stringify(name)}`);
      if (validHeaderNames.size < 64) validHeaderNames.add(name);
    }
    head.push(`${name}: ${encodeUnstructured(value)}`);
  }
  head.push('MIME-Version: 1.0');

  // A single part's Content-Type and transfer encoding are the message's own headers.
  let body = m.html !== undefined ? encodePart('text/html', m.html) : encodePart('text/plain', m.text ?? '');
  if (m.text !== undefined && m.html !== undefined) {
    const boundary = `=_part_${randomBytes(12).toString('hex')}`;
    head.push(`Content-Type: multipart/alternative; boundary="${boundary}"`);
    body = [
      '',
      `--${boundary}`,
      encodePart('text/plain', m.text),
      `--${boundary}`,
      body,
      `--${boundary}--`,
    ].join(CRLF);
  }
  return Buffer.from(`${head.join(CRLF)}${CRLF}${body}${CRLF}`, 'utf8');
}
