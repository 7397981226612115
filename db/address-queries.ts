// Address validity maintenance. Mailbox-full is a soft, temporary state: after
// 30 days without a new error the address is presumed emptied (SPEC 4; the
// rules are MAILBOX_FULL_RELEASE_RULES in domain/validity.ts).
import type { Pool } from 'pg';
import { compileRule } from '../domain/rule-expr';
import {
  MAILBOX_FULL_REASON,
  MAILBOX_FULL_RELEASE_DAYS,
  MAILBOX_FULL_RELEASE_RULES,
} from '../domain/validity';
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
  days = MAILBOX_FULL_RELEASE_DAYS,
): Promise<MailboxFullRelease> {
  const addressReleased = compileRule(MAILBOX_FULL_RELEASE_RULES.address, {
    reason: 'reason',
    status: 'status',
    lastErrorAt: 'last_error_at',
    now: '$1::timestamptz',
    days: '$2::int',
  });
  const leadReleased = compileRule(MAILBOX_FULL_RELEASE_RULES.lead, {
    valid: 'l.email_valid',
    consecutiveErrors: 'l.email_error_count',
    otherErrorSinceDelivery: `EXISTS (
            SELECT 1 FROM send s
             WHERE s.lead_id = l.id AND s.channel = 'email' AND s.result = 'error'
               AND coalesce(s.error_reason, '') <> $2
               AND s.updated_at > coalesce((SELECT max(d.delivered_at) FROM send d WHERE d.lead_id = l.id AND d.channel = 'email'), '-infinity'))`,
  });
  return inTransaction(pool, async (client) => {
    const freed = await client.query<{ address: string }>(
      `UPDATE address_status SET status = 'valid', error_count = 0, updated_at = now()
        WHERE channel = 'email' AND ${addressReleased}
        RETURNING address`,
      [now.toISOString(), days],
    );
    if (freed.rows.length === 0) return { addresses: 0, leads: 0 };
    const leads = await client.query(
      `UPDATE lead l SET email_valid = true, email_error_count = 0, updated_at = now()
        WHERE lower(l.email) = ANY($1::text[]) AND ${leadReleased}`,
      [freed.rows.map((r) => r.address), MAILBOX_FULL_REASON],
    );
    return { addresses: freed.rows.length, leads: leads.rowCount ?? 0 };
  });
}
