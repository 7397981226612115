// Every CSV the product writes goes through csvCell: a spreadsheet reads a
// cell that starts with = + - @ (or a tab or carriage return, which some
// strip before reading) as a formula, so such a cell gets a leading single
// quote and is shown as text (OWASP "CSV injection"). Then the RFC 4180
// quoting: a cell holding a comma, a quote, a line break or edge spaces is
// quoted, its quotes doubled.

const FORMULA_START = /^[=+\-@\t\r]/;

/** The cell as text a spreadsheet will not evaluate. */
export function formulaSafe(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** One cell of an exported CSV: formula-guarded, then quoted when needed. */
export function csvCell(value: string): string {
  const v = formulaSafe(value);
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** One CSV line (CRLF, as Excel writes) of cells. */
export function csvLine(cells: readonly string[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}
