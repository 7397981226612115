// Simple and detailed search over run and send history (SPEC 9), compiled to a
// parameterized WHERE: conditions on different fields combine with AND, the
// values of one multi-choice field with OR; text is a case-sensitive partial
// match with LIKE wildcards taken literally; blanks cannot be searched here
// (the lead search covers them). Only column names from the caller's fixed
// field table and `$n` placeholders reach the SQL text.
//
// Pagination is keyset: the opaque cursor carries the sort, the last row's
// sort value (as PostgreSQL printed it, so microseconds survive) and its id.

import { BIGINT_ID_PATTERN, parseZonedTime, timeProblem } from './input-limits';

/**
 * A run's send no batch has reached (alias `s`): pending, never attempted, and untouched since the
 * run's preparation made it (every write to a send moves its updated_at: an outcome, a hold, a
 * cancel handing claims back). Before sends were created at preparation such a target had no send
 * row, so no reader that shows sends as history (lists, exports, searches, the segment filter's
 * send history) shows these; the unsent list shows them as pending, as it showed the targets
 * without a send. One rule, for db/ and the segment filter alike.
 */
export function unreachedSendSql(s: string): string {
  return `(${s}.run_id IS NOT NULL AND ${s}.result = 'pending' AND ${s}.attempts = 0 AND ${s}.next_attempt_at IS NULL AND ${s}.message_id IS NULL AND ${s}.updated_at = ${s}.created_at)`;
}

export type SearchField =
  | { kind: 'text'; columns: readonly string[] }
  | { kind: 'choice'; column: string; cast?: string }
  | { kind: 'range'; column: string }
  | { kind: 'eq'; column: string; cast?: string };

export type SearchFields = Record<string, SearchField>;

export class SearchError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SqlFragment {
  sql: string;
  params: unknown[];
}

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** JS twin of a LIKE '%…%' over an escaped value: what the SQL must agree with. */
export function containsCaseSensitive(haystack: string | null | undefined, needle: string): boolean {
  return typeof haystack === 'string' && haystack.includes(needle);
}

/**
 * `query` holds validated values: text fields a string, choice fields an
 * array, eq fields a scalar, range fields `<name>From` / `<name>To` ISO times.
 */
export function buildHistoryWhere(
  fields: SearchFields,
  query: Record<string, unknown>,
  paramOffset = 0,
): SqlFragment {
  const params: unknown[] = [];
  const add = (v: unknown, cast?: string) => {
    params.push(v);
    return `$${paramOffset + params.length}${cast ? `::${cast}` : ''}`;
  };
  const where: string[] = [];
  for (const [name, f] of Object.entries(fields)) {
    switch (f.kind) {
      case 'text': {
        const v = query[name];
        if (v === undefined) break;
        if (typeof v !== 'string' || v.trim() === '') {
          throw new SearchError(
            name,
            'blank values cannot be searched here; search leads with blank fields through GET /v1/leads',
          );
        }
        const ph = add(`%${escapeLike(v)}%`);
        // LIKE is case-sensitive in PostgreSQL; ILIKE would break SPEC 9.
        where.push(`(${f.columns.map((c) => `${c} LIKE ${ph}`).join(' OR ')})`);
        break;
      }
      case 'choice': {
        const v = query[name];
        if (v === undefined) break;
        const list = Array.isArray(v) ? v : [v];
        if (list.length === 0) break;
        where.push(`${f.column} = ANY(${add(list, `${f.cast ?? 'text'}[]`)})`);
        break;
      }
      case 'eq': {
        const v = query[name];
        if (v === undefined) break;
        where.push(`${f.column} = ${add(v, f.cast)}`);
        break;
      }
      case 'range': {
        const from = query[`${name}From`];
        const to = query[`${name}To`];
        const fromMs = from === undefined ? null : parseTime(`${name}From`, from);
        const toMs = to === undefined ? null : parseTime(`${name}To`, to);
        if (fromMs !== null && toMs !== null && fromMs > toMs) {
          throw new SearchError(`${name}From`, `${name}From is after ${name}To; the range would be empty`);
        }
        // Both ends inclusive; rows without the time never match a range.
        if (fromMs !== null)
          where.push(`${f.column} >= ${add(new Date(fromMs).toISOString(), 'timestamptz')}`);
        if (toMs !== null) where.push(`${f.column} <= ${add(new Date(toMs).toISOString(), 'timestamptz')}`);
        break;
      }
    }
  }
  return { sql: where.length ? where.join(' AND ') : 'TRUE', params };
}

function parseTime(field: string, v: unknown): number {
  // A zone is required: a bare local time would mean different instants per server.
  if (
    typeof v !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(v)
  ) {
    throw new SearchError(field, 'must be an ISO 8601 time with zone, e.g. 2026-01-31T09:00:00+09:00');
  }
  const ms = parseZonedTime(v);
  if (ms === null)
    throw new SearchError(
      field,
      timeProblem(Date.parse(v)) ?? 'is not a real time (check day, hour and zone)',
    );
  return ms;
}

/** Epoch ms of a timestamptz as PostgreSQL prints it (2026-01-31 09:00:00.123456+09), or null. */
export function cursorTimeMs(v: string): number | null {
  const m = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)([+-]\d{2})(?::(\d{2}))?(?::00)?$/.exec(v);
  return m ? parseZonedTime(`${m[1]}${m[2]}:${m[3] ?? '00'}`) : null;
}

export type SortOrder = 'asc' | 'desc';

export interface SortSpec {
  /** Sort name as the client gives it. */
  name: string;
  /** Column, or null for sorting by id alone. */
  column: string | null;
  idColumn: string;
  order: SortOrder;
}

interface CursorBody {
  s: string;
  o: SortOrder;
  v: string | null;
  i: string;
}

export function encodeCursor(sort: SortSpec, value: string | null, id: string | number): string {
  const body: CursorBody = { s: sort.name, o: sort.order, v: value, i: String(id) };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, sort: SortSpec): CursorBody {
  const bad = (why: string) =>
    new SearchError('cursor', `malformed cursor (${why}); pass nextCursor from the previous page unchanged`);
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) throw bad('not base64url');
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a cursor');
  }
  if (typeof body !== 'object' || body === null) throw bad('not a cursor');
  const b = body as Record<string, unknown>;
  // Ids are bigint at most: 18 digits always fit.
  if (typeof b.i !== 'string' || !new RegExp(BIGINT_ID_PATTERN).test(b.i)) throw bad('bad id');
  // The value is PostgreSQL's own timestamptz text, e.g. 2026-01-31 09:00:00.123456+09,
  // and must be a time PostgreSQL and JavaScript can both hold.
  if (b.v !== null && (typeof b.v !== 'string' || cursorTimeMs(b.v) === null)) throw bad('bad value');
  if (b.s !== sort.name || b.o !== sort.order) {
    throw new SearchError(
      'cursor',
      `the cursor belongs to sort=${String(b.s)}&order=${String(b.o)}; keep the sort while paging`,
    );
  }
  return { s: sort.name, o: sort.order, v: b.v as string | null, i: b.i };
}

/**
 * ORDER BY and the "after the cursor" predicate. Rows without the sort time
 * come last in both orders, so the order is total: (time IS NULL, time, id).
 */
export function buildKeyset(
  sort: SortSpec,
  cursor: string | undefined,
  paramOffset: number,
): { after: SqlFragment; orderBy: string } {
  const dir = sort.order === 'asc' ? 'ASC' : 'DESC';
  const cmp = sort.order === 'asc' ? '>' : '<';
  const id = sort.idColumn;
  const orderBy = sort.column
    ? `(${sort.column} IS NULL), ${sort.column} ${dir}, ${id} ${dir}`
    : `${id} ${dir}`;
  if (cursor === undefined) return { after: { sql: 'TRUE', params: [] }, orderBy };
  const c = decodeCursor(cursor, sort);
  const p = (n: number) => `$${paramOffset + n}`;
  if (!sort.column) return { after: { sql: `${id} ${cmp} ${p(1)}::bigint`, params: [c.i] }, orderBy };
  if (c.v === null) {
    return {
      after: { sql: `(${sort.column} IS NULL AND ${id} ${cmp} ${p(1)}::bigint)`, params: [c.i] },
      orderBy,
    };
  }
  const col = sort.column;
  return {
    after: {
      sql: `(${col} IS NULL OR ${col} ${cmp} ${p(1)}::timestamptz OR (${col} = ${p(1)}::timestamptz AND ${id} ${cmp} ${p(2)}::bigint))`,
      params: [c.v, c.i],
    },
    orderBy,
  };
}
