// Operators' view of what reached the bounce mailbox (issue 16): stored
// reports, one row per recipient, searched and cursor-paged, and one report
// with its raw message, its reading and the decision's evidence.
import type { Queryable } from './pool';

/** What the pipeline decided for a row, as operators search it. */
export const INBOUND_DECISIONS = [
  'against-recipient',
  'refused-by-policy',
  'undefined',
  'complaint',
  'not-a-failure',
  'none',
] as const;
export type InboundDecision = (typeof INBOUND_DECISIONS)[number];

// One definition of the decision, used for the column shown and for the filter.
const DECISION_SQL = `CASE
  WHEN r.action = 'bounce' AND coalesce(r.error_reason, 'undefined') = 'undefined' THEN 'undefined'
  WHEN r.action = 'bounce' AND r.fault IN ('ours', 'rate', 'content') THEN 'refused-by-policy'
  WHEN r.action = 'bounce' THEN 'against-recipient'
  WHEN r.action = 'complaint' THEN 'complaint'
  WHEN r.action IN ('delayed', 'delivered', 'relayed', 'expanded', 'feedback', 'auto-reply') THEN 'not-a-failure'
  ELSE 'none' END`;

export interface InboundReportRow {
  id: string;
  message_report_id: string | null;
  position: number;
  received_at: Date;
  applied_at: Date | null;
  kind: string;
  format: string | null;
  status: string;
  action: string | null;
  decision: InboundDecision;
  recipient: string | null;
  send_id: string | null;
  run_id: number | null;
  remote_text: string | null;
  status_code: string | null;
  code: number | null;
  error_type: string | null;
  error_reason: string | null;
  fault: string | null;
  evidence: string[] | null;
  reading: unknown;
  detail: string | null;
}

const COLUMNS = `r.id, r.message_report_id, r.position, r.received_at, r.applied_at, r.kind, r.format, r.status, r.action,
  ${DECISION_SQL} AS decision, r.recipient, r.send_id, r.run_id, r.remote_text, r.status_code, r.code, r.error_type,
  r.error_reason, r.fault, r.evidence, r.reading, r.detail`;

export interface InboundReportFilter {
  kind?: readonly string[];
  decision?: readonly string[];
  status?: readonly string[];
  /** Exact address, case-insensitive. */
  recipient?: string;
  runId?: number;
  sendId?: string;
  receivedFrom?: Date;
  receivedTo?: Date;
  /** Rows with an id below this one (the cursor). */
  beforeId?: string;
  limit: number;
}

/** Newest first; one more row than asked tells whether there is a next page. */
export async function searchInboundReports(
  db: Queryable,
  f: InboundReportFilter,
): Promise<{ rows: InboundReportRow[]; more: boolean }> {
  const res = await db.query<InboundReportRow>(
    `SELECT * FROM (SELECT ${COLUMNS} FROM inbound_report r) r
      WHERE ($1::text[] IS NULL OR r.kind = ANY($1))
        AND ($2::text[] IS NULL OR r.decision = ANY($2))
        AND ($3::text[] IS NULL OR r.status = ANY($3))
        AND ($4::text IS NULL OR lower(r.recipient) = lower($4))
        AND ($5::int IS NULL OR r.run_id = $5)
        AND ($6::bigint IS NULL OR r.send_id = $6)
        AND ($7::timestamptz IS NULL OR r.received_at >= $7)
        AND ($8::timestamptz IS NULL OR r.received_at <= $8)
        AND ($9::bigint IS NULL OR r.id < $9)
      ORDER BY r.id DESC LIMIT $10`,
    [
      f.kind?.length ? f.kind : null,
      f.decision?.length ? f.decision : null,
      f.status?.length ? f.status : null,
      f.recipient ?? null,
      f.runId ?? null,
      f.sendId ?? null,
      f.receivedFrom ?? null,
      f.receivedTo ?? null,
      f.beforeId ?? null,
      f.limit + 1,
    ],
  );
  return { rows: res.rows.slice(0, f.limit), more: res.rows.length > f.limit };
}

export interface InboundReportDetail extends InboundReportRow {
  raw: string | null;
  fingerprint: string;
  /** The other recipient rows of the same message, in order. */
  siblings: InboundReportRow[];
}

/** One row with the raw message it came in (kept on the message's first row) and its sibling rows. */
export async function getInboundReport(db: Queryable, id: string): Promise<InboundReportDetail | null> {
  const res = await db.query<InboundReportRow & { fingerprint: string; raw: string | null }>(
    `SELECT ${COLUMNS}, r.fingerprint, m.raw FROM inbound_report r
       JOIN inbound_report m ON m.id = coalesce(r.message_report_id, r.id)
      WHERE r.id = $1`,
    [id],
  );
  const row = res.rows[0];
  if (!row) return null;
  const siblings = await db.query<InboundReportRow>(
    `SELECT ${COLUMNS} FROM inbound_report r
      WHERE coalesce(r.message_report_id, r.id) = coalesce($2::bigint, $1::bigint) AND r.id <> $1 ORDER BY r.position`,
    [row.id, row.message_report_id],
  );
  return { ...row, siblings: siblings.rows };
}
