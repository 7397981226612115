// Leads as the API reads and changes them: one place for their SQL.
import type { Pool } from 'pg';
import { escapeLike } from '../../domain/history-search';
import { getLead, insertLead, resetEmailValidity, type LeadRow, type NewLead } from '../lead-queries';
import { inTransaction } from '../pool';

export type BlankableLeadField = 'name' | 'email' | 'line_user_id';

export interface LeadListQuery {
  name?: string;
  email?: string;
  blank?: BlankableLeadField[];
  includeRemoved?: boolean;
  cursor?: number;
  /** Rows wanted; one more is read to tell whether a next page exists. */
  limit: number;
}

/** Fields a PATCH may change; `undefined` leaves a field alone, `null` clears a nullable one. */
export interface LeadChange {
  name?: string;
  email?: string | null;
  phones?: Record<string, string>;
  lineUserId?: string | null;
  smsPermission?: boolean;
  dmPermission?: boolean;
  attributes?: Record<string, unknown>;
}

export function leadRepository(pool: Pool) {
  return {
    get: (id: number) => getLead(pool, id),
    insert: (lead: NewLead) => insertLead(pool, lead),
    resetEmailValidity: (id: number) => resetEmailValidity(pool, id),

    /** Up to limit + 1 leads by id (the extra row only says that a next page exists). */
    async list(q: LeadListQuery): Promise<LeadRow[]> {
      const params: unknown[] = [];
      const add = (v: unknown) => (params.push(v), `$${params.length}`);
      const where = ['TRUE'];
      if (!q.includeRemoved) where.push('deleted_at IS NULL AND merged_into_id IS NULL');
      if (q.name !== undefined) where.push(`name LIKE ${add(`%${escapeLike(q.name)}%`)}`);
      if (q.email !== undefined) where.push(`email LIKE ${add(`%${escapeLike(q.email)}%`)}`);
      for (const b of q.blank ?? []) where.push(`coalesce(${b}, '') = ''`);
      if (q.cursor !== undefined) where.push(`id > ${add(q.cursor)}`);
      const res = await pool.query<LeadRow>(
        `SELECT * FROM lead WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${add(q.limit + 1)}`,
        params,
      );
      return res.rows;
    },

    async change(id: number, c: LeadChange): Promise<LeadRow | null> {
      const res = await pool.query<LeadRow>(
        `UPDATE lead SET name = coalesce($2, name), email = CASE WHEN $3 THEN $4 ELSE email END,
                phones = coalesce($5::jsonb, phones), line_user_id = CASE WHEN $6 THEN $7 ELSE line_user_id END,
                sms_permission = coalesce($8, sms_permission), dm_permission = coalesce($9, dm_permission),
                attributes = coalesce($10::jsonb, attributes), updated_at = now()
          WHERE id = $1 RETURNING *`,
        [
          id,
          c.name ?? null,
          c.email !== undefined,
          c.email ? c.email.trim() : null,
          c.phones ? JSON.stringify(c.phones) : null,
          c.lineUserId !== undefined,
          c.lineUserId ?? null,
          c.smsPermission ?? null,
          c.dmPermission ?? null,
          c.attributes ? JSON.stringify(c.attributes) : null,
        ],
      );
      return res.rows[0] ?? null;
    },

    /** Soft delete (sends and figures keep the lead); false when there is no such lead. */
    async softDelete(id: number): Promise<boolean> {
      const res = await pool.query(
        'UPDATE lead SET deleted_at = coalesce(deleted_at, now()), updated_at = now() WHERE id = $1',
        [id],
      );
      return (res.rowCount ?? 0) > 0;
    },

    /**
     * Merge lead `id` into `intoId` with both rows locked; `check` sees them
     * first and throws to refuse. Returns the lead merged into.
     */
    merge(
      id: number,
      intoId: number,
      check: (from: LeadRow | undefined, into: LeadRow | undefined) => void,
    ): Promise<LeadRow> {
      return inTransaction(pool, async (client) => {
        const rows = await client.query<LeadRow>(
          'SELECT * FROM lead WHERE id = ANY($1) ORDER BY id FOR UPDATE',
          [[id, intoId]],
        );
        const from = rows.rows.find((r) => r.id === id);
        const into = rows.rows.find((r) => r.id === intoId);
        check(from, into);
        await client.query('UPDATE lead SET merged_into_id = $2, updated_at = now() WHERE id = $1', [
          id,
          intoId,
        ]);
        return into!;
      });
    },

    /**
     * All or nothing, row by row in file order. `insert` adds every row (even
     * with an email a lead already has); `update` and `skip` look for the live
     * lead with the same email (case aside, the oldest when several): `update`
     * changes the columns the file has (phones and attributes merged in),
     * `skip` leaves it. A repeat inside the file meets the lead its first row made.
     */
    importRows(
      rows: (NewLead & { row: number })[],
      onDuplicate: 'insert' | 'update' | 'skip',
      columns: string[],
    ): Promise<{ inserted: number[]; updated: number[]; skipped: { row: number; leadId: number }[] }> {
      return inTransaction(pool, async (client) => {
        const out = {
          inserted: [] as number[],
          updated: [] as number[],
          skipped: [] as { row: number; leadId: number }[],
        };
        const has = (c: string) => columns.includes(c);
        const phones = columns.some((c) => c.startsWith('phone_'));
        for (const l of rows) {
          const externalId = l.externalId ?? null;
          if (onDuplicate !== 'insert' && (l.email || externalId)) {
            // The same external id is the same lead (it is unique); else the same email.
            const found = await client.query<{ id: number }>(
              `SELECT id FROM lead
                WHERE CASE WHEN $2::text IS NOT NULL THEN external_id = $2
                           ELSE lower(email) = lower($1) AND deleted_at IS NULL AND merged_into_id IS NULL END
                ORDER BY id LIMIT 1 FOR UPDATE`,
              [l.email, externalId],
            );
            const id = found.rows[0]?.id;
            if (id !== undefined && onDuplicate === 'skip') {
              out.skipped.push({ row: l.row, leadId: id });
              continue;
            }
            if (id !== undefined) {
              await client.query(
                `UPDATE lead SET name = CASE WHEN $2 THEN $3 ELSE name END,
                        phones = CASE WHEN $4 THEN phones || $5::jsonb ELSE phones END,
                        line_user_id = CASE WHEN $6 THEN $7 ELSE line_user_id END,
                        sms_permission = CASE WHEN $8 THEN $9 ELSE sms_permission END,
                        dm_permission = CASE WHEN $10 THEN $11 ELSE dm_permission END,
                        attributes = attributes || $12::jsonb, updated_at = now()
                  WHERE id = $1`,
                [
                  id,
                  has('name'),
                  l.name,
                  phones,
                  JSON.stringify(l.phones),
                  has('line_user_id'),
                  l.lineUserId,
                  has('sms_permission'),
                  l.smsPermission,
                  has('dm_permission'),
                  l.dmPermission,
                  JSON.stringify(l.attributes),
                ],
              );
              out.updated.push(id);
              continue;
            }
          }
          out.inserted.push((await insertLead(client, l)).id);
        }
        return out;
      });
    },

    /** Live leads by id, `batch` at a time (keyset pages: memory stays flat whatever the count). */
    async *liveInBatches(batch = 1000): AsyncGenerator<LeadRow[]> {
      let after = 0;
      for (;;) {
        const res = await pool.query<LeadRow>(
          `SELECT * FROM lead WHERE deleted_at IS NULL AND merged_into_id IS NULL AND id > $1 ORDER BY id LIMIT $2`,
          [after, batch],
        );
        if (res.rows.length === 0) return;
        yield res.rows;
        after = res.rows[res.rows.length - 1]!.id;
        if (res.rows.length < batch) return;
      }
    },

    async exists(id: number): Promise<boolean> {
      const res = await pool.query('SELECT 1 FROM lead WHERE id = $1', [id]);
      return (res.rowCount ?? 0) > 0;
    },
  };
}

export type LeadRepository = ReturnType<typeof leadRepository>;
