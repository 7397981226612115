// Address statuses as operators read and set them (issue 18): one place for their SQL.
import type { Pool } from 'pg';
import { escapeLike } from '../../domain/history-search';
import type { AddressChannel, OperatorStatus } from '../../domain/address-status';
import type { Row } from '../rows';

export type AddressStatusRow = Row<'address_status'>;

export interface AddressListQuery {
  channel?: AddressChannel;
  status?: string;
  /** A part of the address (case aside for email). */
  address?: string;
  cursor?: number;
  limit: number;
}

export function addressRepository(pool: Pool) {
  return {
    async get(channel: AddressChannel, address: string): Promise<AddressStatusRow | null> {
      const res = await pool.query<AddressStatusRow>(
        'SELECT * FROM address_status WHERE channel = $1 AND address = $2',
        [channel, address],
      );
      return res.rows[0] ?? null;
    },

    /**
     * An operator's decision: the status, why, and which API key. Releasing
     * (`valid`) also restarts the error count; the other statuses keep it.
     */
    async set(
      channel: AddressChannel,
      address: string,
      status: OperatorStatus,
      note: string | null,
      changedBy: string | null,
    ): Promise<{ row: AddressStatusRow; created: boolean }> {
      const res = await pool.query<AddressStatusRow & { created: boolean }>(
        `INSERT INTO address_status AS a (channel, address, status, error_count, source, note, changed_by, updated_at)
         VALUES ($1, $2, $3, 0, 'manual', $4, $5, now())
         ON CONFLICT (channel, address) DO UPDATE SET
           status = excluded.status, source = 'manual', note = excluded.note, changed_by = excluded.changed_by,
           error_count = CASE WHEN excluded.status = 'valid' THEN 0 ELSE a.error_count END,
           updated_at = now()
         RETURNING *, (xmax = 0) AS created`,
        [channel, address, status, note, changedBy],
      );
      const { created, ...row } = res.rows[0]!;
      return { row: row as AddressStatusRow, created };
    },

    /** Up to limit + 1 statuses by id (the extra row only says that a next page exists). */
    async list(q: AddressListQuery): Promise<AddressStatusRow[]> {
      const params: unknown[] = [];
      const add = (v: unknown) => (params.push(v), `$${params.length}`);
      const where = ['TRUE'];
      if (q.channel !== undefined) where.push(`channel = ${add(q.channel)}`);
      if (q.status !== undefined) where.push(`status = ${add(q.status)}`);
      if (q.address !== undefined)
        where.push(`address LIKE ${add(`%${escapeLike(q.address.trim().toLowerCase())}%`)}`);
      if (q.cursor !== undefined) where.push(`id > ${add(q.cursor)}`);
      const res = await pool.query<AddressStatusRow>(
        `SELECT * FROM address_status WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${add(q.limit + 1)}`,
        params,
      );
      return res.rows;
    },
  };
}

export type AddressRepository = ReturnType<typeof addressRepository>;
