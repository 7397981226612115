// Shared querystring pieces and execution for the history searches (runs and
// individual sends): validation by TypeBox, semantics in domain/history-search.
import { Type } from '@sinclair/typebox';
import type { Queryable } from '../db/pool';
import {
  buildHistoryWhere,
  buildKeyset,
  encodeCursor,
  SearchError,
  type SearchFields,
  type SortSpec,
} from '../domain/history-search';
import { badRequest } from './errors';

export const MAX_PAGE = 500;

export const SearchText = (description: string) =>
  Type.Optional(
    Type.String({ maxLength: 200, description: `${description}; partial, case-sensitive; blank is refused` }),
  );
export const TimeBound = (description: string) =>
  Type.Optional(
    Type.String({ maxLength: 40, description: `${description} (ISO 8601 with zone, inclusive)` }),
  );
export const Order = Type.Optional(
  Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
);
export const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 100 }));
export const Cursor = Type.Optional(
  Type.String({ maxLength: 400, description: 'opaque: nextCursor of the previous page' }),
);

export function rangeParams(name: string, what: string) {
  return { [`${name}From`]: TimeBound(`${what} from`), [`${name}To`]: TimeBound(`${what} to`) };
}

export interface HistoryPage<R> {
  rows: R[];
  nextCursor: string | null;
}

/** One page of `table` rows matching the search, with the cursor of the next. */
export async function searchHistory<R extends Record<string, unknown>>(
  db: Queryable,
  opts: {
    from: string;
    select: string;
    fields: SearchFields;
    query: Record<string, unknown>;
    sort: SortSpec;
    cursor: string | undefined;
    limit: number;
    extraWhere?: string;
  },
): Promise<HistoryPage<R>> {
  try {
    const where = buildHistoryWhere(opts.fields, opts.query);
    const keyset = buildKeyset(opts.sort, opts.cursor, where.params.length);
    const params = [...where.params, ...keyset.after.params, opts.limit + 1];
    const sortValue = opts.sort.column ? `${opts.sort.column}::text` : 'NULL::text';
    const res = await db.query<R & { __sort_value: string | null; __id: string }>(
      `SELECT ${opts.select}, ${sortValue} AS __sort_value, ${opts.sort.idColumn}::text AS __id FROM ${opts.from}
        WHERE ${opts.extraWhere ?? 'TRUE'} AND ${where.sql} AND ${keyset.after.sql}
        ORDER BY ${keyset.orderBy} LIMIT $${params.length}`,
      params,
    );
    const rows = res.rows.slice(0, opts.limit);
    const last = rows[rows.length - 1];
    return {
      rows,
      nextCursor:
        res.rows.length > opts.limit && last ? encodeCursor(opts.sort, last.__sort_value, last.__id) : null,
    };
  } catch (err) {
    if (err instanceof SearchError) throw badRequest(`querystring.${err.field}`, err.message);
    throw err;
  }
}
