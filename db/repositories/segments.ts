// Segments (saved search conditions) and the questions the API asks about them.
import type { Pool } from 'pg';
import { escapeLike } from '../../domain/history-search';
import type { CompiledFilter } from '../../domain/segment-filter';
import type { Row } from '../rows';

/** A segment as stored (declared in db/rows.ts, checked against the migrations). */
export type SegmentRow = Row<'segment'>;

export interface SegmentListQuery {
  channels?: string[];
  name?: string;
  cursor?: number;
  limit: number;
}

export function segmentRepository(pool: Pool) {
  return {
    async insert(name: string, channel: string, filter: Record<string, unknown>): Promise<SegmentRow> {
      const res = await pool.query<SegmentRow>(
        'INSERT INTO segment (name, channel, filter) VALUES ($1, $2, $3) RETURNING *',
        [name, channel, JSON.stringify(filter)],
      );
      return res.rows[0]!;
    },

    async get(id: number): Promise<SegmentRow | null> {
      const res = await pool.query<SegmentRow>('SELECT * FROM segment WHERE id = $1', [id]);
      return res.rows[0] ?? null;
    },

    /** How many live leads a compiled filter selects now. */
    async countLiveLeads(compiled: CompiledFilter): Promise<number> {
      const res = await pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM lead l WHERE l.deleted_at IS NULL AND l.merged_into_id IS NULL AND (${compiled.sql})`,
        compiled.params,
      );
      return res.rows[0]?.count ?? 0;
    },

    /** Up to limit + 1 segments by id. */
    async list(q: SegmentListQuery): Promise<SegmentRow[]> {
      const res = await pool.query<SegmentRow>(
        `SELECT * FROM segment WHERE ($1::text[] IS NULL OR channel = ANY($1)) AND ($2::text IS NULL OR name LIKE $2)
            AND ($3::int IS NULL OR id > $3) ORDER BY id LIMIT $4`,
        [
          q.channels ?? null,
          q.name !== undefined ? `%${escapeLike(q.name)}%` : null,
          q.cursor ?? null,
          q.limit + 1,
        ],
      );
      return res.rows;
    },

    async change(
      id: number,
      c: { name?: string; filter?: Record<string, unknown> },
    ): Promise<SegmentRow | null> {
      const res = await pool.query<SegmentRow>(
        'UPDATE segment SET name = coalesce($2, name), filter = coalesce($3::jsonb, filter), updated_at = now() WHERE id = $1 RETURNING *',
        [id, c.name ?? null, c.filter !== undefined ? JSON.stringify(c.filter) : null],
      );
      return res.rows[0] ?? null;
    },

    /** Up to five runs still to send (reserved, preparing, running) that target the segment. */
    async runsStillToSend(id: number): Promise<number[]> {
      const res = await pool.query<{ id: number }>(
        `SELECT id FROM wizard_run WHERE segment_id = $1 AND status IN ('reserved', 'preparing', 'running') ORDER BY id LIMIT 5`,
        [id],
      );
      return res.rows.map((r) => r.id);
    },

    /** False when there is no such segment. */
    async delete(id: number): Promise<boolean> {
      const res = await pool.query('DELETE FROM segment WHERE id = $1', [id]);
      return (res.rowCount ?? 0) > 0;
    },
  };
}

export type SegmentRepository = ReturnType<typeof segmentRepository>;
