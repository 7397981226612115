// CSV exports as bytes: one encoder for every export (leads, a run's lists).
// UTF-8 starts with a BOM, which is what makes Excel read it as UTF-8; CP932
// (Shift_JIS as Windows writes it) turns characters it cannot hold into "?".
// Pure: text in, bytes out, as the caller's stream pulls them.
import iconv from 'iconv-lite';

export const EXPORT_CHARSETS = ['utf-8', 'cp932'] as const;
export type ExportCharset = (typeof EXPORT_CHARSETS)[number];

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The Content-Type of an export in that charset. */
export function csvContentType(charset: ExportCharset): string {
  return `text/csv; charset=${charset === 'cp932' ? 'Shift_JIS' : 'utf-8'}`;
}

/** Text chunks (whole lines) to the bytes of the chosen charset. */
export async function* encodeCsv(
  chunks: AsyncIterable<string> | Iterable<string>,
  charset: ExportCharset,
): AsyncGenerator<Buffer> {
  if (charset === 'utf-8') yield UTF8_BOM;
  for await (const text of chunks)
    yield charset === 'cp932' ? iconv.encode(text, 'cp932') : Buffer.from(text, 'utf8');
}

/** One CSV line of an export: every cell formula-guarded and quoted (domain/csv-safety.ts). */
export { csvLine } from './csv-safety';
