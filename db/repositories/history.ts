// The history searches (runs, individual sends): which columns each search
// field and sort reads, and the keyset-paged statement. The semantics of the
// fields are domain/history-search's; a SearchError from it names the field.
import type { Pool } from 'pg';
import type { Queryable } from '../pool';
import type { Row } from '../rows';
import {
  buildHistoryWhere,
  buildKeyset,
  encodeCursor,
  type SearchFields,
  type SortSpec,
} from '../../domain/history-search';

const RUN_FIELDS: SearchFields = {
  q: { kind: 'text', columns: ['r.template_title', 'r.template_memo'] },
  title: { kind: 'text', columns: ['r.template_title'] },
  memo: { kind: 'text', columns: ['r.template_memo'] },
  status: { kind: 'choice', column: 'r.status' },
  channel: { kind: 'choice', column: 'r.channel' },
  segmentId: { kind: 'choice', column: 'r.segment_id', cast: 'int' },
  created: { kind: 'range', column: 'r.created_at' },
  scheduled: { kind: 'range', column: 'r.scheduled_at' },
  started: { kind: 'range', column: 'r.started_at' },
  completed: { kind: 'range', column: 'r.completed_at' },
  includeAlreadySent: { kind: 'eq', column: 'r.include_already_sent', cast: 'boolean' },
  permissionFilter: { kind: 'eq', column: 'r.permission_filter', cast: 'boolean' },
};

const RUN_SORTS = {
  createdAt: 'r.created_at',
  scheduledAt: 'r.scheduled_at',
  startedAt: 'r.started_at',
  completedAt: 'r.completed_at',
  id: null,
} as const;

const SEND_FIELDS: SearchFields = {
  channel: { kind: 'choice', column: 's.channel' },
  address: { kind: 'text', columns: ['s.address'] },
  title: { kind: 'text', columns: ['s.template_title'] },
  leadId: { kind: 'eq', column: 's.lead_id', cast: 'int' },
  runId: { kind: 'eq', column: 's.run_id', cast: 'int' },
  result: { kind: 'choice', column: 's.result' },
  code: { kind: 'choice', column: 's.code', cast: 'int' },
  created: { kind: 'range', column: 's.created_at' },
  sent: { kind: 'range', column: 's.sent_at' },
  delivered: { kind: 'range', column: 's.delivered_at' },
};

const SEND_SORTS = {
  createdAt: 's.created_at',
  sentAt: 's.sent_at',
  deliveredAt: 's.delivered_at',
  id: null,
} as const;

export type RunSort = keyof typeof RUN_SORTS;
export type SendSort = keyof typeof SEND_SORTS;
export const RUN_SORT_NAMES = Object.keys(RUN_SORTS) as RunSort[];
export const SEND_SORT_NAMES = Object.keys(SEND_SORTS) as SendSort[];

export interface HistoryPage<R> {
  rows: R[];
  nextCursor: string | null;
}

/** The search as the API received it (validated), with its sort, order, cursor and page size. */
export interface HistorySearch<S extends string> {
  query: Record<string, unknown>;
  sort: S;
  order: 'asc' | 'desc';
  cursor: string | undefined;
  limit: number;
}

/** One page of rows matching the search, with the cursor of the next. Throws SearchError for a bad field. */
async function searchHistory<R extends object>(
  db: Queryable,
  opts: {
    from: string;
    select: string;
    fields: SearchFields;
    query: Record<string, unknown>;
    sort: SortSpec;
    cursor: string | undefined;
    limit: number;
  },
): Promise<HistoryPage<R>> {
  const where = buildHistoryWhere(opts.fields, opts.query);
  const keyset = buildKeyset(opts.sort, opts.cursor, where.params.length);
  const params = [...where.params, ...keyset.after.params, opts.limit + 1];
  const sortValue = opts.sort.column ? `${opts.sort.column}::text` : 'NULL::text';
  const res = await db.query<R & { __sort_value: string | null; __id: string }>(
    `SELECT ${opts.select}, ${sortValue} AS __sort_value, ${opts.sort.idColumn}::text AS __id FROM ${opts.from}
      WHERE TRUE AND ${where.sql} AND ${keyset.after.sql}
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
}

export function historyRepository(pool: Pool) {
  return {
    runs: (s: HistorySearch<RunSort>) =>
      searchHistory<Row<'wizard_run'>>(pool, {
        from: 'wizard_run r',
        select: 'r.*',
        fields: RUN_FIELDS,
        query: s.query,
        sort: { name: s.sort, column: RUN_SORTS[s.sort], idColumn: 'r.id', order: s.order },
        cursor: s.cursor,
        limit: s.limit,
      }),
    sends: (s: HistorySearch<SendSort>) =>
      searchHistory<Row<'send'>>(pool, {
        from: 'send s',
        select: 's.*',
        fields: SEND_FIELDS,
        query: s.query,
        sort: { name: s.sort, column: SEND_SORTS[s.sort], idColumn: 's.id', order: s.order },
        cursor: s.cursor,
        limit: s.limit,
      }),
  };
}

export type HistoryRepository = ReturnType<typeof historyRepository>;
