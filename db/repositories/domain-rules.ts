// Per-domain sending rules and the breaker state beside them (SPEC: MX management).
import type { Pool } from 'pg';
import type { Row } from '../rows';

/** A rule joined with its domain's current state (state columns null while the domain has none). */
export type DomainRuleWithState = Row<'domain_rule'> & {
  messages: number | null;
  errors: number | null;
  blocked_until: Date | null;
  hour_count: number | null;
};

export type DomainStateRow = Row<'domain_state'>;

export interface DomainRuleFields {
  errorRateThreshold: number;
  minMessages: number;
  blockSeconds: number;
  maxConnections: number;
  maxPerHour: number | null;
}

const SELECT = `SELECT d.*, s.messages, s.errors, s.blocked_until, s.hour_count
                  FROM domain_rule d LEFT JOIN domain_state s ON s.domain = d.domain`;

export function domainRuleRepository(pool: Pool) {
  const byId = async (id: number) =>
    (await pool.query<DomainRuleWithState>(`${SELECT} WHERE d.id = $1`, [id])).rows[0] ?? null;
  return {
    byId,

    async list(): Promise<DomainRuleWithState[]> {
      return (await pool.query<DomainRuleWithState>(`${SELECT} ORDER BY d.domain`)).rows;
    },

    async states(blockedOnly: boolean): Promise<DomainStateRow[]> {
      const res = await pool.query<DomainStateRow>(
        `SELECT * FROM domain_state WHERE NOT $1 OR blocked_until > now() ORDER BY domain LIMIT 1000`,
        [blockedOnly],
      );
      return res.rows;
    },

    /** Null when the domain has a rule already. */
    async insert(domain: string, d: DomainRuleFields): Promise<DomainRuleWithState | null> {
      const ins = await pool.query<{ id: number }>(
        `INSERT INTO domain_rule (domain, error_rate_threshold, min_messages, block_seconds, max_connections, max_per_hour)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (domain) DO NOTHING RETURNING id`,
        [domain, d.errorRateThreshold, d.minMessages, d.blockSeconds, d.maxConnections, d.maxPerHour],
      );
      return ins.rows[0] ? byId(ins.rows[0].id) : null;
    },

    /** Absent fields stay; `maxPerHour` present (even null) replaces. Null when there is no such rule. */
    async change(id: number, c: Partial<DomainRuleFields>): Promise<DomainRuleWithState | null> {
      const res = await pool.query(
        `UPDATE domain_rule SET error_rate_threshold = coalesce($2, error_rate_threshold), min_messages = coalesce($3, min_messages),
                block_seconds = coalesce($4, block_seconds), max_connections = coalesce($5, max_connections),
                max_per_hour = CASE WHEN $7 THEN $6 ELSE max_per_hour END, updated_at = now()
          WHERE id = $1 RETURNING id`,
        [
          id,
          c.errorRateThreshold ?? null,
          c.minMessages ?? null,
          c.blockSeconds ?? null,
          c.maxConnections ?? null,
          c.maxPerHour ?? null,
          'maxPerHour' in c,
        ],
      );
      return res.rows[0] ? byId(id) : null;
    },

    async delete(id: number): Promise<boolean> {
      const res = await pool.query('DELETE FROM domain_rule WHERE id = $1', [id]);
      return (res.rowCount ?? 0) > 0;
    },

    /** Lift a domain's breaker by hand; false when the domain has no state. */
    async unblock(domain: string): Promise<boolean> {
      const res = await pool.query(
        `UPDATE domain_state SET blocked_until = NULL, messages = 0, errors = 0, window_started_at = now() WHERE domain = lower($1)`,
        [domain],
      );
      return (res.rowCount ?? 0) > 0;
    },
  };
}

export type DomainRuleRepository = ReturnType<typeof domainRuleRepository>;
