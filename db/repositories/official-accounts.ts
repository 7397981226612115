// LINE official accounts (their secrets stay in the row; the API shows tails only).
import type { Pool } from 'pg';
import type { OfficialAccountRow } from '../line-queries';

export interface OfficialAccountFields {
  name: string;
  channelId: string;
  accessToken: string;
  channelSecret: string;
}

export function officialAccountRepository(pool: Pool) {
  return {
    async insert(a: OfficialAccountFields): Promise<OfficialAccountRow> {
      const res = await pool.query<OfficialAccountRow>(
        `INSERT INTO official_account (name, channel_id, access_token, channel_secret, created_at, updated_at)
         VALUES ($1, $2, $3, $4, now(), now()) RETURNING *`,
        [a.name, a.channelId, a.accessToken, a.channelSecret],
      );
      return res.rows[0]!;
    },

    async list(includeDeleted: boolean): Promise<OfficialAccountRow[]> {
      const res = await pool.query<OfficialAccountRow>(
        'SELECT * FROM official_account WHERE $1 OR deleted_at IS NULL ORDER BY id',
        [includeDeleted],
      );
      return res.rows;
    },

    async get(id: number): Promise<OfficialAccountRow | null> {
      const res = await pool.query<OfficialAccountRow>('SELECT * FROM official_account WHERE id = $1', [id]);
      return res.rows[0] ?? null;
    },

    /** Null when there is no live account of that id. */
    async change(id: number, c: Partial<OfficialAccountFields>): Promise<OfficialAccountRow | null> {
      const res = await pool.query<OfficialAccountRow>(
        `UPDATE official_account
            SET name = coalesce($2, name), channel_id = coalesce($3, channel_id),
                access_token = coalesce($4, access_token), channel_secret = coalesce($5, channel_secret), updated_at = now()
          WHERE id = $1 AND deleted_at IS NULL RETURNING *`,
        [id, c.name ?? null, c.channelId ?? null, c.accessToken ?? null, c.channelSecret ?? null],
      );
      return res.rows[0] ?? null;
    },

    async softDelete(id: number): Promise<boolean> {
      const res = await pool.query(
        'UPDATE official_account SET deleted_at = coalesce(deleted_at, now()), updated_at = now() WHERE id = $1',
        [id],
      );
      return (res.rowCount ?? 0) > 0;
    },
  };
}

export type OfficialAccountRepository = ReturnType<typeof officialAccountRepository>;
