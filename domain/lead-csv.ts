// Lead import from CSV: a header row names the columns (name, email,
// phone_<field>, line_user_id, sms_permission, dm_permission; any other column
// is a free attribute). Each row is checked on its own: valid rows go in,
// invalid ones are reported with their row number (1 = the header) and field.
import { parse } from 'csv-parse';
import type { CsvEncoding } from './csv-charset';
import { textProblem } from './input-limits';
import { csvLine } from './csv-safety';

export interface ImportedLead {
  row: number;
  name: string;
  email: string | null;
  phones: Record<string, string>;
  lineUserId: string | null;
  smsPermission: boolean;
  dmPermission: boolean;
  attributes: Record<string, string>;
  /** The client's own id of the lead (column external_id), unique among leads. */
  externalId: string | null;
}

export interface RowError {
  row: number;
  field: string;
  message: string;
}

/**
 * The records of a CSV (text, or chunks of it), one at a time, from csv-parse's stream (RFC 4180:
 * quoted fields may hold commas, quotes ("") and line breaks). Rows of any
 * length come through (the caller reports a wrong cell count per row); a
 * quote inside an unquoted field is kept as a character; empty lines are skipped.
 */
export function csvRecords(
  chunks: string | Iterable<string> | AsyncIterable<string>,
): AsyncIterable<string[]> {
  const parser = parse({
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    record_delimiter: ['\r\n', '\n', '\r'],
  });
  if (typeof chunks === 'string') parser.end(chunks);
  else {
    // Feed the chunks as the reader takes records (backpressure), then end.
    void (async () => {
      try {
        for await (const chunk of chunks)
          if (!parser.write(chunk)) await new Promise((resolve) => parser.once('drain', resolve));
        parser.end();
      } catch (e) {
        parser.destroy(e as Error);
      }
    })();
  }
  return parser;
}

/** The row (1 = the header) and reason of a file csv-parse cannot read. */
function csvFault(e: unknown, recordsRead: number): RowError {
  // csv-parse counts the records it read before the fault (the reader may have taken fewer).
  const { code, records } = e as { code?: string; records?: number };
  const row = (typeof records === 'number' ? Math.max(records, recordsRead) : recordsRead) + 1;
  const message =
    code === 'CSV_QUOTE_NOT_CLOSED'
      ? 'a quoted field is never closed (a " is missing); nothing was read past it'
      : `the CSV cannot be read: ${(e as Error).message}`;
  return { row, field: 'csv', message };
}

const ENCODING_NAMES: Record<CsvEncoding, string> = {
  'utf-8': 'UTF-8',
  'utf-16le': 'UTF-16LE',
  'utf-16be': 'UTF-16BE',
  cp932: 'Shift_JIS (CP932)',
};

function undecodable(encoding: CsvEncoding, row: number, field: string): RowError {
  return {
    row,
    field,
    message: `holds bytes that are not valid ${ENCODING_NAMES[encoding]}; save the file in UTF-8 or send its charset in the content type`,
  };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const COLUMN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const LINE_USER = /^U[0-9a-f]{32}$/;

function flag(v: string): boolean | null {
  const t = v.trim().toLowerCase();
  if (t === '') return true;
  if (['true', '1', 'yes', 'y'].includes(t)) return true;
  if (['false', '0', 'no', 'n'].includes(t)) return false;
  return null;
}

/**
 * `fileError` is set when the file as a whole cannot be imported (empty, bad
 * header, too many rows, unreadable CSV, bytes that did not decode): then
 * nothing is, and the request is refused. `undecodable` says the decoder put
 * U+FFFD for bytes it could not read: the first cell holding one is named (a
 * U+FFFD written on purpose may be named instead, the file is refused either way).
 */
export async function readLeadCsv(
  chunks: string | Iterable<string> | AsyncIterable<string>,
  maxRows: number,
  undecodableIn?: CsvEncoding,
): Promise<{ leads: ImportedLead[]; errors: RowError[]; fileError?: RowError; columns?: string[] }> {
  const errors: RowError[] = [];
  const leads: ImportedLead[] = [];
  const refuse = (e: RowError, all: RowError[] = [e]) => ({ leads: [], errors: all, fileError: e });
  let names: string[] | null = null;
  let rowNo = 0;
  try {
    for await (const cells of csvRecords(chunks)) {
      rowNo++;
      if (undecodableIn) {
        const j = cells.findIndex((c) => c.includes('\uFFFD'));
        if (j >= 0) {
          const name = names?.[j];
          return refuse(
            undecodable(undecodableIn, rowNo, name ? `column ${j + 1} (${name})` : `column ${j + 1}`),
          );
        }
      }
      if (names === null) {
        names = cells.map((h) => h.trim());
        errors.push(...leadCsvHeaderErrors(names));
        if (errors.length && !undecodableIn) return refuse(errors[0]!, errors);
        continue;
      }
      if (rowNo - 1 > maxRows) {
        if (undecodableIn) continue;
        return refuse({
          row: maxRows + 2,
          field: 'rows',
          message: `at most ${maxRows} rows per import; split the file`,
        });
      }
      const lead = readLeadRow(cells, names, rowNo, errors);
      if (lead) leads.push(lead);
    }
  } catch (e) {
    return refuse(csvFault(e, rowNo));
  }
  if (undecodableIn) {
    // Bytes lost after the last cell (half a character at the end of the file).
    return refuse(undecodable(undecodableIn, Math.max(rowNo, 1), 'end of file'));
  }
  if (names === null)
    return refuse({ row: 1, field: 'header', message: 'the CSV is empty; the first row names the columns' });
  if (rowNo === 1)
    return refuse({ row: 2, field: 'rows', message: 'the CSV has a header and no rows; nothing to import' });
  return { leads, errors, columns: names };
}

/** The problems of a header row (names already trimmed): bad or repeated column names. */
export function leadCsvHeaderErrors(names: readonly string[]): RowError[] {
  const errors: RowError[] = [];
  const seen = new Set<string>();
  for (const n of names) {
    if (!COLUMN.test(n))
      errors.push({ row: 1, field: n || '(empty)', message: 'column names are letters, digits, _ and -' });
    else if (seen.has(n)) errors.push({ row: 1, field: n, message: 'the column appears twice' });
    seen.add(n);
  }
  return errors;
}

/** One data row checked against the header: the lead, or null with its problems added to `errors`. */
export function readLeadRow(
  cells: string[],
  names: string[],
  rowNo: number,
  errors: RowError[],
): ImportedLead | null {
  if (cells.length !== names.length) {
    errors.push({
      row: rowNo,
      field: 'row',
      message: `has ${cells.length} cells, the header ${names.length}`,
    });
    return null;
  }
  const lead: ImportedLead = {
    row: rowNo,
    name: '',
    email: null,
    phones: {},
    lineUserId: null,
    smsPermission: true,
    dmPermission: true,
    attributes: {},
    externalId: null,
  };
  let ok = true;
  const fail = (field: string, message: string) => {
    errors.push({ row: rowNo, field, message });
    ok = false;
  };
  names.forEach((col, j) => {
    const v = cells[j] ?? '';
    const textIssue = textProblem(v);
    if (textIssue) {
      fail(col, textIssue);
      return;
    }
    if (col === 'name') {
      if (v.length > 200) fail(col, 'longer than 200 characters');
      lead.name = v.trim();
    } else if (col === 'email') {
      const e = v.trim();
      if (e !== '' && (!EMAIL.test(e) || e.length > 254)) fail(col, `"${e}" is not an email address`);
      lead.email = e || null;
    } else if (col.startsWith('phone_')) {
      const p = v.trim();
      if (p.length > 32 || (p !== '' && !/^[+0-9() -]+$/.test(p))) fail(col, `"${p}" is not a phone number`);
      else if (p !== '') lead.phones[col.slice('phone_'.length)] = p;
    } else if (col === 'line_user_id') {
      const u = v.trim();
      if (u !== '' && !LINE_USER.test(u)) fail(col, 'a LINE user id is U followed by 32 hex digits');
      lead.lineUserId = u || null;
    } else if (col === 'external_id') {
      const x = v.trim();
      if (x.length > 200) fail(col, 'an external id is at most 200 characters');
      lead.externalId = x || null;
    } else if (col === 'sms_permission' || col === 'dm_permission') {
      const f = flag(v);
      if (f === null) fail(col, `"${v}" is not true/false (also 1/0, yes/no; empty means true)`);
      else if (col === 'sms_permission') lead.smsPermission = f;
      else lead.dmPermission = f;
    } else if (v !== '') {
      if (v.length > 2000) fail(col, 'attribute values are at most 2000 characters');
      lead.attributes[col] = v;
    }
  });
  return ok ? lead : null;
}

/** A row whose email an earlier row of the same file already has (case aside). */
export interface InFileDuplicate {
  row: number;
  firstRow: number;
  email: string;
}

export function duplicatesInFile(leads: ImportedLead[]): InFileDuplicate[] {
  const first = new Map<string, number>();
  const out: InFileDuplicate[] = [];
  for (const l of leads) {
    if (!l.email) continue;
    const key = l.email.toLowerCase();
    const seen = first.get(key);
    if (seen === undefined) first.set(key, l.row);
    else out.push({ row: l.row, firstRow: seen, email: l.email });
  }
  return out;
}

export const LEAD_EXPORT_COLUMNS = [
  'id',
  'name',
  'email',
  'phones',
  'line_user_id',
  'sms_permission',
  'dm_permission',
  'email_valid',
  'attributes',
  'created_at',
] as const;

export interface ExportedLead {
  id: number;
  name: string;
  email: string | null;
  phones: Record<string, string> | null;
  line_user_id: string | null;
  sms_permission: boolean;
  dm_permission: boolean;
  email_valid: boolean;
  attributes: Record<string, unknown> | null;
  created_at: Date;
}

/** A lead as one CSV line (CRLF, as Excel writes); phones and attributes as JSON objects. */
export function leadCsvLine(l: ExportedLead): string {
  const cells = [
    String(l.id),
    l.name,
    l.email ?? '',
    JSON.stringify(l.phones ?? {}),
    l.line_user_id ?? '',
    String(l.sms_permission),
    String(l.dm_permission),
    String(l.email_valid),
    JSON.stringify(l.attributes ?? {}),
    l.created_at.toISOString(),
  ];
  return csvLine(cells);
}
