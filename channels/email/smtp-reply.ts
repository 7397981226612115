// SMTP replies read off the wire, incrementally (RFC 5321 §4.2): a reply is one or more lines
// "ddd-text" ending with a line "ddd text" (or "ddd"). Replies are handed out whole, in the
// order they arrived, with their text as the server wrote it (enhanced status codes kept), the
// lines joined by "\n" the way nodemailer reported them (domain/smtp-classification.ts reads
// that text).

export interface SmtpReplyLine {
  code: number;
  /** Every line as received, without its line break, joined by "\n" ("250-a\n250 b"). */
  text: string;
  /** The text after the code and separator of each line (EHLO keywords). */
  lines: string[];
}

/** A reply the parser cannot read: the session is out of step with the server. */
export class SmtpReplyError extends Error {
  constructor(
    message: string,
    readonly response: string,
  ) {
    super(message);
  }
}

const MAX_REPLY_BYTES = 1024 * 1024;

export class SmtpReplyParser {
  /** Bytes of an unfinished line, kept as latin1 so a UTF-8 character split across chunks survives. */
  private partial = '';
  /** Lines of the reply being received. */
  private pending: string[] = [];
  private pendingBytes = 0;

  /** Feeds a chunk; returns the replies it completed (often none, sometimes several). */
  push(chunk: Buffer): SmtpReplyLine[] {
    const data = this.partial + chunk.toString('latin1');
    const out: SmtpReplyLine[] = [];
    let start = 0;
    for (let nl = data.indexOf('\n', start); nl !== -1; nl = data.indexOf('\n', start)) {
      const end = nl > start && data.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      const line = data.slice(start, end);
      start = nl + 1;
      const reply = this.line(line);
      if (reply) out.push(reply);
    }
    this.partial = start === 0 ? data : data.slice(start);
    if (this.partial.length + this.pendingBytes > MAX_REPLY_BYTES) {
      throw new SmtpReplyError('Server response exceeds maximum allowed size', this.partial.slice(0, 200));
    }
    return out;
  }

  /** What was received of a reply that never ended (the server closed mid-reply), or ''. */
  remainder(): string {
    return utf8([...this.pending, this.partial].filter(Boolean).join('\n')).trim();
  }

  private line(raw: string): SmtpReplyLine | null {
    if (raw === '' && this.pending.length === 0) return null; // a stray empty line between replies
    const code = Number(raw.slice(0, 3));
    const sep = raw.charAt(3);
    if (!/^[2-5]\d\d$/.test(raw.slice(0, 3)) || (sep !== '' && sep !== ' ' && sep !== '-')) {
      throw new SmtpReplyError('Invalid server response', utf8(raw));
    }
    this.pending.push(raw);
    this.pendingBytes += raw.length;
    if (sep === '-') return null;
    const lines = this.pending.map((l) => utf8(l.slice(4)));
    const text = utf8(this.pending.join('\n'));
    this.pending = [];
    this.pendingBytes = 0;
    return { code, text, lines };
  }
}

function utf8(latin1: string): string {
  // Pure ASCII (almost every reply) needs no conversion.
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(latin1) ? latin1 : Buffer.from(latin1, 'latin1').toString('utf8');
}
