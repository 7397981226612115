// Storage of Idempotency-Key requests (api/idempotency.ts): claim, record what
// was created, store the answer, release.
import type { Queryable } from './pool';

export interface IdempotencyRow {
  route: string;
  request_hash: string;
  resource: string | null;
  status_code: number | null;
  /** The answer's body exactly as it was sent. */
  response_body: string | null;
  created_at: Date;
}

/** True when this request claimed the key; false when another request holds it. */
export async function claimIdempotencyKey(
  db: Queryable,
  apiKeyId: number,
  key: string,
  route: string,
  requestHash: string,
): Promise<boolean> {
  const res = await db.query(
    `INSERT INTO idempotency_key (api_key_id, key, route, request_hash) VALUES ($1, $2, $3, $4)
     ON CONFLICT (api_key_id, key) DO NOTHING`,
    [apiKeyId, key, route, requestHash],
  );
  return (res.rowCount ?? 0) > 0;
}

export async function getIdempotencyKey(
  db: Queryable,
  apiKeyId: number,
  key: string,
): Promise<IdempotencyRow | null> {
  const res = await db.query<IdempotencyRow>(
    `SELECT route, request_hash, resource, status_code, response_body, created_at
       FROM idempotency_key WHERE api_key_id = $1 AND key = $2`,
    [apiKeyId, key],
  );
  return res.rows[0] ?? null;
}

/** Name what the request created; run in the transaction that creates it, so both commit or neither. */
export async function recordIdempotentResource(
  db: Queryable,
  apiKeyId: number,
  key: string,
  resource: string,
): Promise<void> {
  await db.query('UPDATE idempotency_key SET resource = $3 WHERE api_key_id = $1 AND key = $2', [
    apiKeyId,
    key,
    resource,
  ]);
}

export async function completeIdempotencyKey(
  db: Queryable,
  apiKeyId: number,
  key: string,
  statusCode: number,
  body: string,
): Promise<void> {
  await db.query(
    `UPDATE idempotency_key SET status_code = $3, response_body = $4, completed_at = now()
      WHERE api_key_id = $1 AND key = $2`,
    [apiKeyId, key, statusCode, body],
  );
}

/** Free a key whose request failed before it had an answer worth keeping (5xx), so a retry runs again. */
export async function releaseIdempotencyKey(db: Queryable, apiKeyId: number, key: string): Promise<void> {
  await db.query('DELETE FROM idempotency_key WHERE api_key_id = $1 AND key = $2 AND completed_at IS NULL', [
    apiKeyId,
    key,
  ]);
}

/**
 * Free a key whose request was interrupted (its process died) before it
 * created anything: a retry may then run. One that created something stays
 * held, since running it again would do it twice.
 */
export async function releaseAbandonedIdempotencyKey(
  db: Queryable,
  apiKeyId: number,
  key: string,
  olderThanSeconds: number,
): Promise<boolean> {
  const res = await db.query(
    `DELETE FROM idempotency_key
      WHERE api_key_id = $1 AND key = $2 AND completed_at IS NULL AND resource IS NULL
        AND created_at < now() - make_interval(secs => $3)`,
    [apiKeyId, key, olderThanSeconds],
  );
  return (res.rowCount ?? 0) > 0;
}

/** How long a key and its answer are kept: repeats come within minutes; a day covers a client's longest retry. */
export const IDEMPOTENCY_KEY_RETENTION_HOURS = 24;

/** Forget answered keys past their retention (the consistency sweep calls it); returns how many. */
export async function expireIdempotencyKeys(db: Queryable): Promise<number> {
  const res = await db.query(
    `DELETE FROM idempotency_key
      WHERE completed_at IS NOT NULL AND created_at < now() - make_interval(hours => $1)`,
    [IDEMPOTENCY_KEY_RETENTION_HOURS],
  );
  return res.rowCount ?? 0;
}
