// LINE webhook events, applied once each (SPEC §7, issue 14 §7). The table line_webhook_event is the durable record
// of every follow/unfollow applied, keyed by LINE's webhookEventId: a replayed event inserts nothing and changes
// nothing. A lead's friend status is recomputed from its user's latest recorded event (by LINE's timestamp), so an
// older event arriving late (a redelivery after a later follow) is recorded but does not win.
import type { Pool } from 'pg';
import { friendStatusAfter, type LineFriendshipEvent, type LineRejectedEvent } from '../domain/line-webhook';
import { inTransaction } from './pool';

export interface AppliedLineEvents {
  /** Events recorded now for the first time. */
  applied: number;
  /** Events whose webhookEventId was recorded before (or twice in this body): ignored. */
  repeated: number;
  /** Leads whose friend status changed. */
  leadsUpdated: number;
}

export async function applyLineWebhookEvents(
  pool: Pool,
  accountId: number,
  events: readonly LineFriendshipEvent[],
): Promise<AppliedLineEvents> {
  if (events.length === 0) return { applied: 0, repeated: 0, leadsUpdated: 0 };
  return inTransaction(pool, async (client) => {
    const inserted = await client.query<{ user_id: string }>(
      `INSERT INTO line_webhook_event (webhook_event_id, account_id, user_id, type, status, occurred_at)
       SELECT e.id, $1, e.user_id, e.type, e.status, to_timestamp(e.ms / 1000.0)
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::float8[]) AS e(id, user_id, type, status, ms)
       ON CONFLICT (webhook_event_id) DO NOTHING
       RETURNING user_id`,
      [
        accountId,
        events.map((e) => e.webhookEventId),
        events.map((e) => e.userId),
        events.map((e) => e.type),
        events.map((e) => friendStatusAfter(e)),
        events.map((e) => e.timestamp),
      ],
    );
    const users = [...new Set(inserted.rows.map((r) => r.user_id))].sort();
    const applied = inserted.rowCount ?? 0;
    if (users.length === 0) return { applied, repeated: events.length - applied, leadsUpdated: 0 };
    // One writer per user at a time (in a fixed order, so two webhooks never deadlock): whoever updates last has
    // seen every event committed before it, so the latest event wins whatever order the requests commit in.
    await client.query(
      `SELECT pg_advisory_xact_lock(hashtextextended('line_webhook_event:' || s.u, 0))
         FROM (SELECT u FROM unnest($1::text[]) AS u ORDER BY u) s`,
      [users],
    );
    const updated = await client.query(
      `WITH latest AS (
         SELECT DISTINCT ON (user_id) user_id, status
           FROM line_webhook_event
          WHERE user_id = ANY($1::text[])
          ORDER BY user_id, occurred_at DESC, webhook_event_id DESC
       )
       UPDATE lead l SET line_friend_status = latest.status, updated_at = now()
         FROM latest
        WHERE l.line_user_id = latest.user_id AND l.line_friend_status IS DISTINCT FROM latest.status`,
      [users],
    );
    return { applied, repeated: events.length - applied, leadsUpdated: updated.rowCount ?? 0 };
  });
}

/**
 * Keeps the events of a body that could not be read, with the reason (issue 21 item 6); returns how many were new.
 * A redelivered bad event with a readable webhookEventId is kept once.
 */
export async function recordRejectedLineEvents(
  pool: Pool,
  accountId: number,
  rejected: readonly LineRejectedEvent[],
): Promise<number> {
  if (rejected.length === 0) return 0;
  const res = await pool.query(
    `INSERT INTO line_webhook_rejected_event (account_id, webhook_event_id, event, reason)
     SELECT $1, e.id, e.event, e.reason
       FROM unnest($2::text[], $3::jsonb[], $4::text[]) AS e(id, event, reason)
     ON CONFLICT (webhook_event_id) WHERE webhook_event_id IS NOT NULL DO NOTHING`,
    [
      accountId,
      rejected.map((r) => r.webhookEventId),
      rejected.map((r) => jsonbText(r.event)),
      rejected.map((r) => r.reason),
    ],
  );
  return res.rowCount ?? 0;
}

/** JSON that jsonb holds: PostgreSQL refuses the NUL character (\u0000), so it becomes U+FFFD. */
function jsonbText(value: unknown): string {
  // Only an escape not itself escaped: "\\u0000" in JSON is a backslash followed by the text "u0000".
  return JSON.stringify(value ?? null).replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd');
}
