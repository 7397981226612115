// A tolerant MIME reader for bounces. Bounces are often malformed: the
// returned original is cut off (no closing boundary), reports are forwarded
// inside another message, charsets are legacy (ISO-2022-JP, KOI8-R). This
// reader never throws on bad input: it keeps what it can read and says what it
// could not (`truncated`). The whole message is handled as a byte string
// ('latin1' keeps one character per byte) until a part is decoded to text.

export interface MimePart {
  /** Header fields in order, names lower-cased, values unfolded (not decoded). */
  headers: Array<[name: string, value: string]>;
  /** Lower-cased `type/subtype`; text/plain when absent. */
  contentType: string;
  params: Record<string, string>;
  /** Decoded body (transfer encoding undone), as a byte string. */
  body: string;
  /** The body as found, before transfer decoding (a byte string). */
  rawBody: string;
  /** Children of a multipart. */
  parts: MimePart[];
  /** The enclosed message of a message/rfc822 or message/global part. */
  message: MimePart | null;
  /** A multipart of this part (or below it) had no closing boundary. */
  truncated: boolean;
  /** The message ended inside this part: the last part of a multipart whose closing boundary never came. */
  cut?: boolean;
}

const MAX_DEPTH = 8;
const MAX_PARTS = 200;

export function header(part: MimePart, name: string): string | null {
  const lower = name.toLowerCase();
  for (const [n, v] of part.headers) if (n === lower) return v;
  return null;
}

export function headerAll(part: MimePart, name: string): string[] {
  const lower = name.toLowerCase();
  return part.headers.filter(([n]) => n === lower).map(([, v]) => v);
}

function splitHead(raw: string): { head: string; body: string } {
  // A message that starts with a blank line has no headers.
  const m = /\r?\n\r?\n/.exec(raw);
  if (/^\r?\n/.test(raw)) return { head: '', body: raw.replace(/^\r?\n/, '') };
  if (!m) {
    // No blank line: headers only when every line looks like a header field.
    const lines = raw.split(/\r?\n/);
    const allFields = lines.every((l) => l === '' || /^[\x21-\x39\x3b-\x7e]+:/.test(l) || /^[ \t]/.test(l));
    return allFields ? { head: raw, body: '' } : { head: '', body: raw };
  }
  const head = raw.slice(0, m.index);
  // Headers must start with a field; otherwise the whole thing is a body.
  if (!/^[\x21-\x39\x3b-\x7e]+[ \t]*:/.test(head)) return { head: '', body: raw };
  return { head, body: raw.slice(m.index + m[0].length) };
}

export function parseHeaderLines(head: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length > 0) {
      const last = out[out.length - 1]!;
      last[1] = `${last[1]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue;
    out.push([name, line.slice(colon + 1).trim()]);
  }
  return out;
}

export function parseContentType(value: string | null): { type: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  if (value === null || value.trim() === '') return { type: 'text/plain', params };
  const [first, ...rest] = splitParams(value);
  const type = (first ?? '').trim().toLowerCase() || 'text/plain';
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq <= 0) continue;
    const name = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    if (!(name in params)) params[name] = v;
  }
  return { type: type.includes('/') ? type : 'text/plain', params };
}

/** Splits on `;` outside quoted strings. */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export function decodeBase64(s: string): string {
  return Buffer.from(s.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1');
}

export function decodeQuotedPrintable(s: string): string {
  return s
    .replace(/[ \t]+(\r?\n)/g, '$1')
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function transferDecode(body: string, encoding: string | null): string {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === 'base64') return decodeBase64(body);
  if (enc === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function splitMultipart(
  body: string,
  boundary: string,
): { parts: string[]; closed: boolean; found: boolean } {
  const delim = new RegExp(`^--${escapeRegExp(boundary)}(--)?[ \\t]*\\r?$`, 'gm');
  const parts: string[] = [];
  let start = -1;
  let closed = false;
  let found = false;
  for (let m = delim.exec(body); m !== null; m = delim.exec(body)) {
    found = true;
    if (start >= 0) {
      // The CRLF before a delimiter belongs to the delimiter.
      parts.push(body.slice(start, m.index).replace(/\r?\n$/, ''));
    }
    if (m[1] === '--') {
      closed = true;
      start = -1;
      break;
    }
    start = m.index + m[0].length + (body[m.index + m[0].length] === '\n' ? 1 : 0);
    if (parts.length >= MAX_PARTS) break;
  }
  if (start >= 0) parts.push(body.slice(start));
  return { parts, closed, found };
}

/** Parses a raw message (byte string or Buffer). Never throws. */
export function parseMime(raw: Buffer | string, depth = 0): MimePart {
  const text = typeof raw === 'string' ? raw : raw.toString('latin1');
  const { head, body } = splitHead(text);
  const headers = parseHeaderLines(head);
  const part: MimePart = {
    headers,
    contentType: 'text/plain',
    params: {},
    body: '',
    rawBody: body,
    parts: [],
    message: null,
    truncated: false,
  };
  const ct = parseContentType(header(part, 'content-type'));
  part.contentType = ct.type;
  part.params = ct.params;
  const cte = header(part, 'content-transfer-encoding');
  if (ct.type.startsWith('multipart/') && depth < MAX_DEPTH) {
    const boundary = ct.params.boundary;
    const split = boundary ? splitMultipart(body, boundary) : { parts: [], closed: false, found: false };
    if (!split.found) {
      // A multipart without its boundary: read the body as text.
      part.body = body;
      return part;
    }
    part.parts = split.parts.map((p) => parseMime(p, depth + 1));
    const last = part.parts[part.parts.length - 1];
    if (!split.closed && last !== undefined) last.cut = true;
    part.truncated = !split.closed || part.parts.some((p) => p.truncated);
    return part;
  }
  part.body = transferDecode(body, cte);
  if ((ct.type === 'message/rfc822' || ct.type === 'message/global') && depth < MAX_DEPTH) {
    part.message = parseMime(part.body, depth + 1);
    part.truncated = part.message.truncated;
  }
  return part;
}

const CHARSET_ALIASES: Record<string, string> = {
  'us-ascii': 'utf-8',
  ascii: 'utf-8',
  'x-unknown': 'utf-8',
  unknown: 'utf-8',
  'iso-2022-jp-2': 'iso-2022-jp',
  cp932: 'shift_jis',
  'windows-31j': 'shift_jis',
  sjis: 'shift_jis',
  'x-sjis': 'shift_jis',
  ks_c_5601: 'euc-kr',
  'ks_c_5601-1987': 'euc-kr',
};

/** Decodes a byte string in the given charset; falls back to UTF-8, then Latin-1. */
export function decodeCharset(bytes: string, charset: string | null | undefined): string {
  const buf = Buffer.from(bytes, 'latin1');
  let cs = (charset ?? '').trim().toLowerCase();
  cs = CHARSET_ALIASES[cs] ?? cs;
  // Japanese mail without a declared charset is usually ISO-2022-JP.
  if ((cs === '' || cs === 'utf-8') && bytes.includes('\x1b$B')) cs = 'iso-2022-jp';
  if (cs !== '' && cs !== 'utf-8') {
    try {
      return new TextDecoder(cs).decode(buf);
    } catch {
      // unknown charset label: fall through
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return cs === '' || cs === 'utf-8' ? buf.toString('latin1') : new TextDecoder('utf-8').decode(buf);
  }
}

/** The part's body as text, in its charset. */
export function partText(part: MimePart): string {
  return decodeCharset(part.body, part.params.charset);
}

/** RFC 2047 encoded words in a header value. */
export function decodeWords(value: string | null): string {
  if (value === null) return '';
  const joined = value.replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1');
  const decoded = joined.replace(
    /=\?([^?*]+)(?:\*[^?]*)?\?([BbQq])\?([^?]*)\?=/g,
    (_m, charset: string, enc: string, text: string) => {
      const bytes =
        enc.toUpperCase() === 'B'
          ? decodeBase64(text)
          : text
              .replace(/_/g, ' ')
              .replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16)));
      return decodeCharset(bytes, charset);
    },
  );
  // Raw 8-bit header bytes (common in bounces) are usually UTF-8.
  const bytesOnly = [...decoded].every((c) => c.charCodeAt(0) < 256);
  return /[\x80-\xff]/.test(decoded) && bytesOnly ? decodeCharset(decoded, null) : decoded;
}

/** Every part of the tree, depth first; `intoMessages` also walks enclosed messages. */
export function walk(part: MimePart, intoMessages: boolean, out: MimePart[] = []): MimePart[] {
  out.push(part);
  for (const p of part.parts) walk(p, intoMessages, out);
  if (intoMessages && part.message) walk(part.message, intoMessages, out);
  return out;
}

/** Strips tags from HTML for reading its words; block ends become line breaks. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|tr|li|h\d|table)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n');
}
