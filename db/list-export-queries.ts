// Every list of a run as rows for a CSV export, read through a server-side
// cursor: one statement, fetched a batch at a time, so a 1,000,000-row list
// costs the API one batch of memory. Lists are ordered by lead id (the
// (run_id, lead_id) unique index of send gives that order without a sort
// for the sent list).
import type { Pool, PoolClient } from 'pg';
import { unreachedSend } from './run-queries';

export const RUN_LISTS = ['sent', 'unsent', 'openers', 'clickers', 'unopened', 'url-clickers'] as const;
export type RunList = (typeof RUN_LISTS)[number];

/** One exported row; which fields are set depends on the list. */
export interface ListRow {
  lead_id: number;
  name: string;
  address: string | null;
  send_id: string | null;
  result?: string;
  code?: number | null;
  detail?: string | null;
  error_type?: string | null;
  error_reason?: string | null;
  sent_at?: Date | null;
  delivered_at?: Date | null;
  opened_at?: Date | null;
  click_count?: number;
  sms_segments?: number | null;
  lead_deleted?: boolean;
  reason?: string;
  first_at?: Date;
  last_at?: Date;
  events?: number;
  human_events?: number;
}

const LIVE = '(l.id IS NOT NULL AND l.deleted_at IS NULL AND l.merged_into_id IS NULL)';

/** The statement of one list. url/part only for url-clickers; humanOnly for the tracking lists. */
export function listStatement(
  list: RunList,
  runId: number,
  opts: { humanOnly: boolean; url?: string; part?: string },
): { sql: string; params: unknown[] } {
  switch (list) {
    case 'sent':
      return {
        sql: `SELECT s.lead_id, coalesce(l.name, '') AS name, s.address, s.id AS send_id, s.result, s.code, s.detail,
                     s.error_type, s.error_reason, s.sent_at, s.delivered_at, s.opened_at, s.click_count, s.sms_segments,
                     NOT ${LIVE} AS lead_deleted
                FROM send s LEFT JOIN lead l ON l.id = s.lead_id
               WHERE s.run_id = $1 AND NOT ${unreachedSend('s')} ORDER BY s.lead_id`,
        params: [runId],
      };
    case 'unsent':
      return {
        sql: `SELECT u.lead_id, coalesce(l.name, '') AS name, u.address, NULL::bigint AS send_id, u.reason FROM (
                SELECT e.lead_id, e.address, e.reason FROM run_exclusion e WHERE e.run_id = $1
                UNION ALL
                SELECT s.lead_id, s.address, 'pending' FROM send s WHERE s.run_id = $1 AND s.result = 'pending'
              ) u LEFT JOIN lead l ON l.id = u.lead_id ORDER BY u.lead_id`,
        params: [runId],
      };
    case 'unopened':
      return {
        sql: `SELECT s.lead_id, l.name, s.address, s.id AS send_id, s.delivered_at
                FROM send s JOIN lead l ON l.id = s.lead_id AND ${LIVE}
               WHERE s.run_id = $1 AND s.result = 'delivered'
                 AND (s.opened_at IS NULL
                      OR $2 AND NOT EXISTS (SELECT 1 FROM tracking_event e
                                             WHERE e.send_id = s.id AND e.kind = 'open' AND NOT e.suspected_bot))
               ORDER BY s.lead_id`,
        params: [runId, opts.humanOnly],
      };
    case 'openers':
    case 'clickers':
    case 'url-clickers':
      return {
        sql: `SELECT s.lead_id, l.name, s.address, s.id AS send_id, min(e.at) AS first_at, max(e.at) AS last_at,
                     count(*)::int AS events, count(*) FILTER (WHERE NOT e.suspected_bot)::int AS human_events
                FROM send s
                JOIN lead l ON l.id = s.lead_id AND ${LIVE}
                JOIN tracking_event e ON e.send_id = s.id AND e.kind = $2
               WHERE s.run_id = $1
                 AND ($4::text IS NULL OR e.link_id IN (
                       SELECT t.id FROM tracked_link t
                        WHERE t.send_id = s.id AND t.part = $5 AND md5(t.url) = md5($4) AND t.url = $4))
               GROUP BY s.id, l.id
              HAVING NOT $3 OR count(*) FILTER (WHERE NOT e.suspected_bot) > 0
               ORDER BY s.lead_id`,
        params: [
          runId,
          list === 'openers' ? 'open' : 'click',
          opts.humanOnly,
          list === 'url-clickers' ? (opts.url ?? '') : null,
          list === 'url-clickers' ? (opts.part ?? '') : null,
        ],
      };
  }
}

/**
 * The rows of a statement, `fetchSize` at a time, through a cursor of one
 * read-only transaction on a client of its own. Stopping early (the HTTP
 * client went away) closes the cursor and returns the client.
 */
export async function* cursorRows<R>(
  pool: Pool,
  statement: { sql: string; params: unknown[] },
  fetchSize = 2000,
): AsyncGenerator<R[]> {
  const client: PoolClient = await pool.connect();
  let broken: Error | undefined;
  let open = false;
  try {
    await client.query('BEGIN READ ONLY');
    open = true;
    await client.query(`DECLARE list_export NO SCROLL CURSOR FOR ${statement.sql}`, statement.params);
    for (;;) {
      const res = await client.query<R & object>(`FETCH ${fetchSize} FROM list_export`);
      if (res.rows.length > 0) yield res.rows as R[];
      if (res.rows.length < fetchSize) break;
    }
    await client.query('COMMIT');
    open = false;
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    if (open && !broken) {
      // An early return leaves the transaction open: end it before the client goes back.
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
    }
    client.release(broken);
  }
}
