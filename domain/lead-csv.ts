// Lead import from CSV: a header row names the columns (name, email,
// phone_<field>, line_user_id, sms_permission, dm_permission; any other column
// is a free attribute). Each row is checked on its own: valid rows go in,
// invalid ones are reported with their row number (1 = the header) and field.
import type { CsvEncoding } from './csv-charset';
import { textProblem } from './input-limits';

export interface ImportedLead {
  row: number;
  name: string;
  email: string | null;
  phones: Record<string, string>;
  lineUserId: string | null;
  smsPermission: boolean;
  dmPermission: boolean;
  attributes: Record<string, string>;
}

export interface RowError {
  row: number;
  field: string;
  message: string;
}

/** RFC 4180: quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const s = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

const ENCODING_NAMES: Record<CsvEncoding, string> = {
  'utf-8': 'UTF-8',
  'utf-16le': 'UTF-16LE',
  'utf-16be': 'UTF-16BE',
  cp932: 'Shift_JIS (CP932)',
};

/**
 * The first cell holding U+FFFD, where the decoder put bytes it could not read
 * (with the whole file refused, a U+FFFD written on purpose may be named instead).
 */
function undecodableCell(rows: string[][], encoding: CsvEncoding): RowError {
  const message = `holds bytes that are not valid ${ENCODING_NAMES[encoding]}; save the file in UTF-8 or send its charset in the content type`;
  const header = rows[0] ?? [];
  for (let i = 0; i < rows.length; i++) {
    const j = rows[i]!.findIndex((c) => c.includes('\uFFFD'));
    if (j < 0) continue;
    const name = i > 0 ? header[j]?.trim() : undefined;
    return { row: i + 1, field: name ? `column ${j + 1} (${name})` : `column ${j + 1}`, message };
  }
  // Bytes lost at the very end (half a character), after the last cell.
  const last = rows.length || 1;
  return { row: last, field: `column ${rows[last - 1]?.length ?? 1}`, message };
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
 * header, too many rows): then nothing is, and the request is refused.
 */
export function readLeadCsv(
  text: string,
  maxRows: number,
  undecodable?: CsvEncoding,
): { leads: ImportedLead[]; errors: RowError[]; fileError?: RowError } {
  const rows = parseCsv(text);
  const header = rows[0];
  const errors: RowError[] = [];
  if (undecodable) {
    const e = undecodableCell(rows, undecodable);
    return { leads: [], errors: [e], fileError: e };
  }
  if (!header) {
    const e = { row: 1, field: 'header', message: 'the CSV is empty; the first row names the columns' };
    return { leads: [], errors: [e], fileError: e };
  }
  const names = header.map((h) => h.trim());
  const seen = new Set<string>();
  for (const n of names) {
    if (!COLUMN.test(n))
      errors.push({ row: 1, field: n || '(empty)', message: 'column names are letters, digits, _ and -' });
    else if (seen.has(n)) errors.push({ row: 1, field: n, message: 'the column appears twice' });
    seen.add(n);
  }
  if (errors.length) return { leads: [], errors, fileError: errors[0] };
  if (rows.length - 1 > maxRows) {
    const e = {
      row: maxRows + 2,
      field: 'rows',
      message: `at most ${maxRows} rows per import; split the file`,
    };
    return { leads: [], errors: [e], fileError: e };
  }
  if (rows.length === 1) {
    const e = { row: 2, field: 'rows', message: 'the CSV has a header and no rows; nothing to import' };
    return { leads: [], errors: [e], fileError: e };
  }
  const leads: ImportedLead[] = [];
  rows.slice(1).forEach((cells, i) => {
    const rowNo = i + 2;
    if (cells.length !== names.length) {
      errors.push({
        row: rowNo,
        field: 'row',
        message: `has ${cells.length} cells, the header ${names.length}`,
      });
      return;
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
        if (p.length > 32 || (p !== '' && !/^[+0-9() -]+$/.test(p)))
          fail(col, `"${p}" is not a phone number`);
        else if (p !== '') lead.phones[col.slice('phone_'.length)] = p;
      } else if (col === 'line_user_id') {
        const u = v.trim();
        if (u !== '' && !LINE_USER.test(u)) fail(col, 'a LINE user id is U followed by 32 hex digits');
        lead.lineUserId = u || null;
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
    if (ok) leads.push(lead);
  });
  return { leads, errors };
}
