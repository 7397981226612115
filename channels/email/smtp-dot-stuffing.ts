// The DATA content of a composed message (RFC 5321 §4.5.2): a line beginning with "." gets a second
// one, and the content ends with CRLF "." CRLF. The source's own line breaks are kept as they are
// (./mime.ts writes CRLF). The result is a list of slices of the source, so a message without such a
// line (nearly all) is not copied at all.

const DOT = Buffer.from('.');
const END_AFTER_CRLF = Buffer.from('.\r\n');
const END_WITH_CRLF = Buffer.from('\r\n.\r\n');

/** The chunks to write, in order, for `source` as DATA content including the terminating dot line. */
export function dotStuff(source: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let from = 0;
  if (source.length > 0 && source[0] === 0x2e) {
    chunks.push(DOT);
  }
  // 0x0a 0x2e = "\n." : the next line begins with a dot.
  for (let i = source.indexOf('\n.'); i !== -1; i = source.indexOf('\n.', i + 2)) {
    chunks.push(source.subarray(from, i + 1), DOT);
    from = i + 1;
  }
  chunks.push(from === 0 ? source : source.subarray(from));
  const endsWithCrlf =
    source.length >= 2 && source[source.length - 2] === 0x0d && source[source.length - 1] === 0x0a;
  chunks.push(source.length === 0 ? END_AFTER_CRLF : endsWithCrlf ? END_AFTER_CRLF : END_WITH_CRLF);
  return chunks;
}
