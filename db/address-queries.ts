// Address validity maintenance. Mailbox-full is a soft, temporary state: after
// 30 days without a new error the address is presumed emptied (SPEC 4).
import type { Pool } from 'pg';
import { inTransaction } from './pool';

export interface MailboxFullRelease {
  addresses: number;
  leads: number;
}

/**
 * Addresses whose last error was "mailbox full" more than `days` days before
 * `now` return to valid with a zero counter. Their leads become valid again
 * only when nothing but mailbox-full errors happened since their last
 * delivery: an address also invalidated by, say, unknown-user stays invalid.
 */
export async function releaseMailboxFullAddresses(
  pool: Pool,
  now: Date = new Date(),
  days = 30,
): Promise<MailboxFullRelease> {
  return inTransaction(pool, async (client) => {
    const freed = await client.query<{ address: string }>(
      `UPDATE address_status SET status = 'valid', error_count = 0, updated_at = now()
        WHERE channel = 'email' AND reason = 'mailbox_full' AND status IN ('erroneous', 'quarantined')
          AND last_error_at < $1::timestamptz - make_interval(days => $2)
        RETURNING address`,
      [now.toISOString(), days],
    );
    if (freed.rows.length === 0) return { addresses: 0, leads: 0 };
    const leads = await client.query(
      `UPDATE lead l SET email_valid = true, email_error_count = 0, updated_at = now()
        WHERE lower(l.email) = ANY($1::text[]) AND (NOT l.email_valid OR l.email_error_count > 0)
          AND NOT EXISTS (
            SELECT 1 FROM send s
             WHERE s.lead_id = l.id AND s.channel = 'email' AND s.result = 'error'
               AND coalesce(s.error_reason, '') <> 'mailbox_full'
               AND s.updated_at > coalesce((SELECT max(d.delivered_at) FROM send d WHERE d.lead_id = l.id AND d.channel = 'email'), '-infinity'))`,
      [freed.rows.map((r) => r.address)],
    );
    return { addresses: freed.rows.length, leads: leads.rowCount ?? 0 };
  });
}
