import type { Queryable } from './pool';
import type { Row } from './rows';

/** A lead as stored (declared in db/rows.ts, checked against the migrations). */
export type LeadRow = Row<'lead'>;

export interface NewLead {
  name: string;
  email: string | null;
  phones: Record<string, string>;
  lineUserId: string | null;
  smsPermission: boolean;
  dmPermission: boolean;
  attributes: Record<string, unknown>;
  /** The client's own id (unique among leads); absent or null: none. */
  externalId?: string | null;
}

export async function insertLead(db: Queryable, l: NewLead): Promise<LeadRow> {
  const res = await db.query<LeadRow>(
    `INSERT INTO lead (name, email, phones, line_user_id, sms_permission, dm_permission, attributes, external_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
    [
      l.name,
      l.email,
      JSON.stringify(l.phones),
      l.lineUserId,
      l.smsPermission,
      l.dmPermission,
      JSON.stringify(l.attributes),
      l.externalId ?? null,
    ],
  );
  return res.rows[0]!;
}

export async function getLead(db: Queryable, id: number): Promise<LeadRow | null> {
  const res = await db.query<LeadRow>('SELECT * FROM lead WHERE id = $1', [id]);
  return res.rows[0] ?? null;
}

/** A user sets the email flag back to valid (SPEC 4): the counter restarts from 0. */
export async function resetEmailValidity(db: Queryable, id: number): Promise<LeadRow | null> {
  const res = await db.query<LeadRow>(
    `UPDATE lead SET email_valid = true, email_error_count = 0, updated_at = now()
      WHERE id = $1 AND deleted_at IS NULL RETURNING *`,
    [id],
  );
  const lead = res.rows[0] ?? null;
  // The user vouches for the address too: lift its quarantine (a blocklist stays).
  if (lead?.email) {
    await db.query(
      `UPDATE address_status SET status = 'valid', error_count = 0, updated_at = now()
        WHERE channel = 'email' AND address = lower($1) AND status IN ('erroneous', 'quarantined')`,
      [lead.email],
    );
  }
  return lead;
}
