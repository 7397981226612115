// The history searches (runs, individual sends): which columns each search
// field and sort reads, and the keyset-paged statement. The semantics of the
// fields are domain/history-search's; a SearchError from it names the field.
import type { Pool } from 'pg';
import type { Queryable } from '../pool';
import type { Row } from '../rows';
import { unreachedSend } from '../run-queries';
import type { CompiledFilter } from '../../domain/segment-filter';
import { leadAccessLog, runResponders, runUnopened } from '../tracking-queries';
import { cursorRows, listStatement, type ListRow, type RunList } from '../list-export-queries';
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
    /** Rows of `from` never shown (a predicate on its alias). */
    hidden?: string;
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
      WHERE ${opts.hidden ? `NOT ${opts.hidden}` : 'TRUE'} AND ${where.sql} AND ${keyset.after.sql}
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

export type UsageGranularity = 'day' | 'month';

export interface UsageRow {
  /** The period's first instant. */
  period_start: Date;
  /** 'YYYY-MM-DD' or 'YYYY-MM' in the account's time zone. */
  period: string;
  channel: string | null;
  sends: number;
  messages: number;
}

export function historyRepository(pool: Pool) {
  return {
    /** 未開封者 of a run, a page of live leads. */
    unopened: (runId: number, opts: Parameters<typeof runUnopened>[2]) => runUnopened(pool, runId, opts),
    /** The leads who clicked one tracked URL of one body part. */
    urlClickers: (
      runId: number,
      link: { url: string; part: string },
      opts: { humanOnly: boolean; afterLeadId: number | null; limit: number; counts: boolean },
    ) => runResponders(pool, runId, 'click', { ...opts, link }),
    /** A lead's clicks, opens and unsubscribes, newest first. */
    accessLog: (leadId: number, opts: Parameters<typeof leadAccessLog>[2]) =>
      leadAccessLog(pool, leadId, opts),
    /** A run's list, batch by batch through a cursor (CSV export). */
    exportList: (list: RunList, runId: number, opts: { humanOnly: boolean; url?: string; part?: string }) =>
      cursorRows<ListRow>(pool, listStatement(list, runId, opts)),

    /**
     * Messages sent per channel and day or month of the account's time zone,
     * from the sends (first sending time; a retried send counts once; SMS count
     * their parts). Every period from `from` to `to` (local dates, inclusive)
     * is present, channels with nothing sent included as 0 by the caller.
     */
    async usage(q: { from: string; to: string; granularity: UsageGranularity; timeZone: string }) {
      const unit = q.granularity;
      const res = await pool.query<UsageRow>(
        `WITH bounds AS (
           SELECT date_trunc($3, $1::date::timestamp) AS first_local,
                  date_trunc($3, $2::date::timestamp) AS last_local
         ), periods AS (
           SELECT p AS local_start, (p + ('1 ' || $3)::interval) AS local_end
             FROM bounds, generate_series(first_local, last_local, ('1 ' || $3)::interval) AS p
         ), counted AS (
           SELECT date_trunc($3, s.sent_at AT TIME ZONE $4) AS local_start, s.channel,
                  count(*)::int AS sends, sum(CASE WHEN s.channel = 'sms' THEN coalesce(s.sms_segments, 1) ELSE 1 END)::int AS messages
             FROM send s, bounds b
            WHERE s.sent_at >= (b.first_local AT TIME ZONE $4)
              AND s.sent_at < ((b.last_local + ('1 ' || $3)::interval) AT TIME ZONE $4)
              AND s.result <> 'pre_error'
            GROUP BY 1, 2
         )
         SELECT p.local_start AT TIME ZONE $4 AS period_start,
                to_char(p.local_start, CASE WHEN $3 = 'day' THEN 'YYYY-MM-DD' ELSE 'YYYY-MM' END) AS period,
                c.channel, coalesce(c.sends, 0) AS sends, coalesce(c.messages, 0) AS messages
           FROM periods p LEFT JOIN counted c ON c.local_start = p.local_start
          ORDER BY p.local_start, c.channel`,
        [q.from, q.to, unit, q.timeZone],
      );
      return res.rows;
    },

    /** Live leads a compiled segment filter selects, by id, up to limit + 1, and how many in all. */
    async searchLeads(
      compiled: CompiledFilter,
      q: { afterId: number | null; limit: number; count: boolean },
    ) {
      const n = compiled.params.length;
      const where = `l.deleted_at IS NULL AND l.merged_into_id IS NULL AND (${compiled.sql})`;
      const [rows, total] = await Promise.all([
        pool.query<Row<'lead'>>(
          `SELECT l.* FROM lead l WHERE ${where} AND ($${n + 1}::int IS NULL OR l.id > $${n + 1})
            ORDER BY l.id LIMIT $${n + 2}`,
          [...compiled.params, q.afterId, q.limit + 1],
        ),
        q.count
          ? pool.query<{ count: number }>(
              `SELECT count(*)::int AS count FROM lead l WHERE ${where}`,
              compiled.params,
            )
          : null,
      ]);
      return { rows: rows.rows, total: total ? (total.rows[0]?.count ?? 0) : null };
    },

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
        hidden: unreachedSend('s'),
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
