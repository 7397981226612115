// Sending domains (issue 19): the domains we sign for, their DKIM keys (private
// keys only as encrypted text), the last verification, and the complaint rates
// per domain and run. Used by the API (as a repository), by the worker's DKIM
// signer and by the verification and pre-flight activities.
import type { Pool } from 'pg';
import type { Queryable } from '../pool';
import { inTransaction } from '../pool';
import type { Row } from '../rows';
import type { CheckResult, DkimAlgorithm, DomainStatus, SendingDomainState } from '../../domain/sender-auth';

export type SendingDomainRow = Row<'sending_domain'>;
/** A key as the API and verification see it: never the private part. */
export type PublicKeyRow = Omit<Row<'sending_domain_key'>, 'private_key_enc'>;

export interface NewKey {
  selector: string;
  algorithm: DkimAlgorithm;
  publicKey: string;
  /** Already encrypted (channels/email/dkim.ts encryptPrivateKey). */
  privateKeyEnc: string;
}

const PUBLIC_KEY_COLUMNS =
  'id, domain_id, selector, algorithm, public_key, state, created_at, activated_at, retired_at';

/** The keys that sign mail from `domain` now (the worker's signer). */
export async function activeSigningKeys(
  db: Queryable,
  domain: string,
): Promise<Array<{ selector: string; algorithm: DkimAlgorithm; private_key_enc: string }>> {
  const res = await db.query<{ selector: string; algorithm: DkimAlgorithm; private_key_enc: string }>(
    `SELECT k.selector, k.algorithm, k.private_key_enc FROM sending_domain_key k
       JOIN sending_domain d ON d.id = k.domain_id
      WHERE d.domain = $1 AND k.state = 'active' ORDER BY k.algorithm DESC, k.id`,
    [domain],
  );
  return res.rows;
}

/** What the send gate knows of a From domain: null when it is not registered. */
export async function sendingDomainState(db: Queryable, domain: string): Promise<SendingDomainState | null> {
  const res = await db.query<SendingDomainRow>('SELECT * FROM sending_domain WHERE domain = $1', [domain]);
  const row = res.rows[0];
  if (!row) return null;
  return {
    domain: row.domain,
    status: row.status,
    checks: (row.checks ?? []) as unknown as CheckResult[],
  };
}

export interface ComplaintFigures {
  delivered7d: number;
  complaints7d: number;
  delivered30d: number;
  complaints30d: number;
}

const FROM_DOMAIN_SQL = `lower(substring(t.from_address from '@([^@<>[:space:]]+)>?[[:space:]]*$'))`;

/**
 * Delivered messages and complaints (ARF, stored as inbound reports) over the last 7 and 30 days,
 * per From domain (`by` = 'domain') or per run; `keys` narrows to some domains or runs.
 */
export async function complaintFigures(
  db: Queryable,
  by: 'domain' | 'run',
  keys: readonly (string | number)[] | null,
): Promise<Map<string, ComplaintFigures>> {
  // Counted per template (or run) first, then keyed: the From domain is read from each template
  // once, not from every send of 30 days (issue 17: per send, the regular expression cost a run's
  // preparation 1.7 s at 100,000 sends of history, growing with the history).
  const unit = by === 'domain' ? 's.template_id' : 's.run_id';
  const key = by === 'domain' ? FROM_DOMAIN_SQL : 'g.unit::text';
  const res = await db.query<{
    key: string;
    delivered_7d: number;
    complaints_7d: number;
    delivered_30d: number;
    complaints_30d: number;
  }>(
    `WITH x AS (
       SELECT ${unit} AS unit, 'd' AS kind, s.delivered_at AS at
         FROM send s
        WHERE s.channel = 'email' AND s.result = 'delivered' AND s.delivered_at > now() - interval '30 days'
          AND ($2::int[] IS NULL OR s.run_id = ANY($2::int[]))
       UNION ALL
       SELECT ${unit}, 'c', r.received_at
         FROM inbound_report r JOIN send s ON s.id = r.send_id
        WHERE r.action = 'complaint' AND r.received_at > now() - interval '30 days'
          AND ($2::int[] IS NULL OR s.run_id = ANY($2::int[]))
     ), g AS (
       SELECT unit,
              count(*) FILTER (WHERE kind = 'd' AND at > now() - interval '7 days') AS delivered_7d,
              count(*) FILTER (WHERE kind = 'c' AND at > now() - interval '7 days') AS complaints_7d,
              count(*) FILTER (WHERE kind = 'd') AS delivered_30d,
              count(*) FILTER (WHERE kind = 'c') AS complaints_30d
         FROM x GROUP BY unit
     ), keyed AS (
       SELECT ${key} AS key, g.* FROM g${by === 'domain' ? ' JOIN template t ON t.id = g.unit' : ''}
     )
     SELECT key, sum(delivered_7d)::int AS delivered_7d, sum(complaints_7d)::int AS complaints_7d,
            sum(delivered_30d)::int AS delivered_30d, sum(complaints_30d)::int AS complaints_30d
       FROM keyed WHERE key IS NOT NULL AND ($1::text[] IS NULL OR key = ANY($1::text[]))
      GROUP BY key`,
    [
      keys === null ? null : keys.map(String),
      // A run's figures read only its own sends, not every email of 30 days.
      by === 'run' && keys !== null ? keys.map(Number) : null,
    ],
  );
  return new Map(
    res.rows.map((r) => [
      r.key,
      {
        delivered7d: r.delivered_7d,
        complaints7d: r.complaints_7d,
        delivered30d: r.delivered_30d,
        complaints30d: r.complaints_30d,
      },
    ]),
  );
}

/** A run's pre-flight check and the pre-error its sends get (null: none). */
export async function saveRunPreflight(
  db: Queryable,
  runId: number,
  preflight: unknown,
  block: { code: number; detail: string } | null,
): Promise<void> {
  await db.query(
    `UPDATE wizard_run SET preflight = $2, sender_auth_code = $3, sender_auth_detail = $4, updated_at = now()
      WHERE id = $1`,
    [runId, JSON.stringify(preflight), block?.code ?? null, block?.detail ?? null],
  );
}

export function sendingDomainRepository(pool: Pool) {
  const byId = async (id: number) =>
    (await pool.query<SendingDomainRow>('SELECT * FROM sending_domain WHERE id = $1', [id])).rows[0] ?? null;
  const keysOf = async (ids: readonly number[]) => {
    const res = await pool.query<PublicKeyRow>(
      `SELECT ${PUBLIC_KEY_COLUMNS} FROM sending_domain_key WHERE domain_id = ANY($1::int[]) ORDER BY id`,
      [ids],
    );
    return res.rows;
  };
  return {
    byId,
    keysOf,

    async list(): Promise<SendingDomainRow[]> {
      return (await pool.query<SendingDomainRow>('SELECT * FROM sending_domain ORDER BY domain')).rows;
    },

    async byDomain(domain: string): Promise<SendingDomainRow | null> {
      const res = await pool.query<SendingDomainRow>('SELECT * FROM sending_domain WHERE domain = $1', [
        domain,
      ]);
      return res.rows[0] ?? null;
    },

    /** Null when the domain is registered already. Its first keys are active at once (nothing signed before). */
    async insert(domain: string, keys: readonly NewKey[]): Promise<SendingDomainRow | null> {
      return inTransaction(pool, async (client) => {
        const ins = await client.query<SendingDomainRow>(
          `INSERT INTO sending_domain (domain) VALUES ($1) ON CONFLICT (domain) DO NOTHING RETURNING *`,
          [domain],
        );
        const row = ins.rows[0];
        if (!row) return null;
        for (const k of keys) await insertKey(client, row.id, k, 'active');
        return row;
      });
    },

    /** A rotation: the new key waits (pending) until its record verifies; the current one keeps signing. */
    async addPendingKey(domainId: number, key: NewKey): Promise<boolean> {
      return inTransaction(pool, async (client) => {
        // The domain may have been deleted while the key was generated: locked, or false (a 404).
        const domain = await client.query(`SELECT 1 FROM sending_domain WHERE id = $1 FOR UPDATE`, [
          domainId,
        ]);
        if (domain.rowCount === 0) return false;
        // One rotation at a time per algorithm: a pending key not yet published is replaced.
        await client.query(
          `DELETE FROM sending_domain_key WHERE domain_id = $1 AND algorithm = $2 AND state = 'pending'`,
          [domainId, key.algorithm],
        );
        await insertKey(client, domainId, key, 'pending');
        return true;
      });
    },

    /**
     * Store a verification. Pending keys whose record was found promote: each becomes active and
     * the active key of its algorithm retires.
     */
    async saveVerification(
      domainId: number,
      status: Exclude<DomainStatus, 'pending'>,
      checks: readonly CheckResult[],
      promote: readonly string[],
    ): Promise<SendingDomainRow | null> {
      return inTransaction(pool, async (client) => {
        for (const selector of promote) {
          const k = await client.query<{ algorithm: string }>(
            `UPDATE sending_domain_key SET state = 'active', activated_at = now()
              WHERE domain_id = $1 AND selector = $2 AND state = 'pending' RETURNING algorithm`,
            [domainId, selector],
          );
          if (k.rows[0])
            await client.query(
              `UPDATE sending_domain_key SET state = 'retired', retired_at = now()
                WHERE domain_id = $1 AND algorithm = $2 AND state = 'active' AND selector <> $3`,
              [domainId, k.rows[0].algorithm, selector],
            );
        }
        const res = await client.query<SendingDomainRow>(
          `UPDATE sending_domain SET status = $2, checks = $3, checked_at = now(), updated_at = now(),
                  verified_at = CASE WHEN $2 = 'verified' THEN now() ELSE verified_at END
            WHERE id = $1 RETURNING *`,
          [domainId, status, JSON.stringify(checks)],
        );
        return res.rows[0] ?? null;
      });
    },

    async delete(id: number): Promise<boolean> {
      return ((await pool.query('DELETE FROM sending_domain WHERE id = $1', [id])).rowCount ?? 0) > 0;
    },

    async allIds(): Promise<number[]> {
      return (await pool.query<{ id: number }>('SELECT id FROM sending_domain ORDER BY id')).rows.map(
        (r) => r.id,
      );
    },

    complaints: (by: 'domain' | 'run', keys: readonly (string | number)[] | null) =>
      complaintFigures(pool, by, keys),
  };
}

async function insertKey(db: Queryable, domainId: number, k: NewKey, state: 'active' | 'pending') {
  await db.query(
    `INSERT INTO sending_domain_key (domain_id, selector, algorithm, public_key, private_key_enc, state, activated_at)
     VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $6 = 'active' THEN now() END)`,
    [domainId, k.selector, k.algorithm, k.publicKey, k.privateKeyEnc, state],
  );
}

export type SendingDomainRepository = ReturnType<typeof sendingDomainRepository>;
