// Individual sends, their attempts and the status of addresses, as the API reads them.
import type { Pool, PoolClient } from 'pg';
import { inTransaction } from '../pool';
import type { Row } from '../rows';
import { unreachedSend } from '../run-queries';

/** A send as stored. */
export type SendRow = Row<'send'>;

export interface NewSingleSend {
  leadId: number;
  address: string;
  templateId: number;
  templateTitle: string;
  channel: string;
}

export function sendRepository(pool: Pool) {
  return {
    async get(id: string | number): Promise<SendRow | null> {
      return (await pool.query<SendRow>('SELECT * FROM send WHERE id = $1', [id])).rows[0] ?? null;
    },

    /** A run's resends: attempts that repeated a message possibly sent before (README: what can be sent twice). */
    async resentCount(runId: number): Promise<number> {
      const res = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM send_attempt a JOIN send s ON s.id = a.send_id
          WHERE s.run_id = $1 AND s.resends > 0 AND a.resend_reason IS NOT NULL`,
        [runId],
      );
      return res.rows[0]?.n ?? 0;
    },

    /** Every attempt of a send: its attempt rows and the first attempt its row may carry (send_attempt_history). */
    async attempts(sendId: string | number): Promise<Omit<Row<'send_attempt'>, 'id'>[]> {
      return (
        await pool.query<Omit<Row<'send_attempt'>, 'id'>>(
          'SELECT * FROM send_attempt_history WHERE send_id = $1 ORDER BY attempt',
          [sendId],
        )
      ).rows;
    },

    /** A lead's sends, newest first, up to limit + 1. */
    async ofLead(
      leadId: number,
      q: { channel?: string; cursor?: string | number; limit: number },
    ): Promise<SendRow[]> {
      const res = await pool.query<SendRow>(
        `SELECT * FROM send s WHERE lead_id = $1 AND ($2::text IS NULL OR channel = $2) AND ($3::bigint IS NULL OR id < $3)
            AND NOT ${unreachedSend('s')}
          ORDER BY id DESC LIMIT $4`,
        [leadId, q.channel ?? null, q.cursor ?? null, q.limit + 1],
      );
      return res.rows;
    },

    /** A run's sends by id, up to limit + 1, each saying whether its lead has left the lists. */
    async ofRun(
      runId: number,
      q: { cursor?: string | number; limit: number },
    ): Promise<(SendRow & { lead_deleted: boolean })[]> {
      const res = await pool.query<SendRow & { lead_deleted: boolean }>(
        `SELECT s.*, (l.id IS NULL OR l.deleted_at IS NOT NULL OR l.merged_into_id IS NOT NULL) AS lead_deleted
           FROM send s LEFT JOIN lead l ON l.id = s.lead_id
          WHERE s.run_id = $1 AND ($2::bigint IS NULL OR s.id > $2) AND NOT ${unreachedSend('s')}
          ORDER BY s.id LIMIT $3`,
        [runId, q.cursor ?? null, q.limit + 1],
      );
      return res.rows;
    },

    async addressStatus(channel: string, address: string): Promise<Row<'address_status'> | null> {
      const res = await pool.query<Row<'address_status'>>(
        'SELECT * FROM address_status WHERE channel = $1 AND address = lower($2)',
        [channel, address],
      );
      return res.rows[0] ?? null;
    },

    /**
     * A pending single send (no run); `alongside` runs in the same transaction
     * (the idempotency record). Returns the send's id.
     */
    insertSingle(s: NewSingleSend, alongside: (client: PoolClient, sendId: string) => Promise<void>) {
      return inTransaction(pool, async (client) => {
        const ins = await client.query<{ id: string }>(
          `INSERT INTO send (run_id, channel, lead_id, address, template_id, template_title, token, result, attempts)
           VALUES (NULL, $5, $1, $2, $3, $4, NULL, 'pending', 0) RETURNING id`,
          [s.leadId, s.address, s.templateId, s.templateTitle, s.channel],
        );
        await alongside(client, ins.rows[0]!.id);
        return ins.rows[0]!.id;
      });
    },

    /** Withdraw a single send that never went out (its workflow did not start). */
    async withdrawUnattempted(sendId: string): Promise<void> {
      await pool.query('DELETE FROM send WHERE id = $1 AND attempts = 0', [sendId]);
    },
  };
}

export type SendRepository = ReturnType<typeof sendRepository>;
