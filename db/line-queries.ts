// Queries of the LINE channel (SPEC §7): official accounts, a run's LINE targets and friend status (outcomes: db/outcomes.ts).
// Set-based like db/run-queries.ts. LINE outcomes never touch email validity or address status: a LINE user id is
// not an address whose deliverability we track.
import type { Pool } from 'pg';
import type { Queryable } from './pool';
import type { Row } from './rows';
import { alreadySentSql, prepareTargets, type PreparedTargets } from './run-queries';

/**
 * A LINE official account as stored (db/rows.ts). Secrets: `access_token` goes into the
 * Authorization header of pushes and nowhere else; `channel_secret` verifies webhook signatures.
 */
export type OfficialAccountRow = Row<'official_account'>;

export async function getOfficialAccount(db: Queryable, id: number): Promise<OfficialAccountRow | null> {
  const res = await db.query<OfficialAccountRow>('SELECT * FROM official_account WHERE id = $1', [id]);
  return res.rows[0] ?? null;
}

/** The account a template names, or null when it is missing or deleted. */
export async function liveOfficialAccount(
  db: Queryable,
  id: number | null,
): Promise<OfficialAccountRow | null> {
  if (id === null) return null;
  const account = await getOfficialAccount(db, id);
  return account && !account.deleted_at ? account : null;
}

/**
 * Resolve a LINE run's targets in one statement, like prepareEmailTargets (rules in
 * domain/target-exclusions.ts). Blocked friends are targets: SPEC §7 reports them as pre-errors of the run.
 */
export function prepareLineTargets(pool: Pool, runId: number): Promise<PreparedTargets> {
  return prepareTargets(pool, runId, {
    channel: 'line',
    from: 'lead l',
    bindings: {
      lineUserId: 'l.line_user_id',
      unsubscribed: 'l.unsubscribed_line_at IS NOT NULL',
      includeAlreadySent: '$3::boolean',
      sentThisTemplateBefore: alreadySentSql('l.id'),
    },
  });
}

/** Leads of a batch whose friend status is 'blocked' now (not at preparation: an unfollow may arrive meanwhile). */
export async function blockedLeads(db: Queryable, leadIds: readonly number[]): Promise<Set<number>> {
  if (leadIds.length === 0) return new Set();
  const res = await db.query<{ id: number }>(
    `SELECT id FROM lead WHERE id = ANY($1::int[]) AND line_friend_status = 'blocked'`,
    [leadIds],
  );
  return new Set(res.rows.map((r) => r.id));
}

export async function lineQuotaExhausted(db: Queryable, runId: number): Promise<boolean> {
  const res = await db.query(
    'SELECT 1 FROM wizard_run WHERE id = $1 AND line_quota_exhausted_at IS NOT NULL',
    [runId],
  );
  return (res.rowCount ?? 0) > 0;
}

export async function markLineQuotaExhausted(db: Queryable, runId: number): Promise<void> {
  await db.query(
    'UPDATE wizard_run SET line_quota_exhausted_at = coalesce(line_quota_exhausted_at, now()), updated_at = now() WHERE id = $1',
    [runId],
  );
}

// Friend status changes from the LINE webhook: db/line-webhook-queries.ts (each event applied once).
