// Background CSV imports (leads, addresses): the job row and its counters, the
// uploaded file as ordered chunks of bytes, rejected rows, and the per-batch
// writes. A batch is one transaction that also moves the job's counters and
// its committed row, so a retried activity resumes after the last batch that
// committed and nothing is counted twice. A batch first locks the job row: a
// cancel (which changes the status under the same lock) stops the import
// between two batches, never inside one.
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { ImportedLead } from '../domain/lead-csv';
import type { ImportedAddress } from '../domain/address-status';
import type { Row } from './rows';

export type ImportJobRow = Row<'import_job'>;
export type ImportKind = 'leads' | 'addresses';
export type ImportStatus = 'receiving' | 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
export type ImportOnDuplicate = 'update' | 'skip';

/** Statuses in which a job can still change; the others are final. */
export const OPEN_IMPORT_STATUSES: readonly ImportStatus[] = ['receiving', 'queued', 'running'];

export async function createImportJob(
  pool: Pool,
  job: { kind: ImportKind; onDuplicate: ImportOnDuplicate; createdBy: string | null },
): Promise<ImportJobRow> {
  const res = await pool.query<ImportJobRow>(
    `INSERT INTO import_job (kind, status, on_duplicate, created_by) VALUES ($1, 'receiving', $2, $3) RETURNING *`,
    [job.kind, job.onDuplicate, job.createdBy],
  );
  return res.rows[0]!;
}

export async function appendImportChunk(pool: Pool, importId: number, seq: number, data: Buffer) {
  await pool.query('INSERT INTO import_job_chunk (import_id, seq, data) VALUES ($1, $2, $3)', [
    importId,
    seq,
    data,
  ]);
}

/** The upload ended: the job waits for its workflow, with the file's encoding decided. */
export async function markImportReceived(
  pool: Pool,
  importId: number,
  encoding: string,
  bytes: number,
): Promise<ImportJobRow> {
  const res = await pool.query<ImportJobRow>(
    `UPDATE import_job SET status = 'queued', encoding = $2, bytes = $3, updated_at = now()
      WHERE id = $1 RETURNING *`,
    [importId, encoding, bytes],
  );
  return res.rows[0]!;
}

export async function getImportJob(pool: Pool, importId: number, kind?: ImportKind) {
  const res = await pool.query<ImportJobRow>(
    'SELECT * FROM import_job WHERE id = $1 AND ($2::text IS NULL OR kind = $2)',
    [importId, kind ?? null],
  );
  return res.rows[0] ?? null;
}

/** A job ends early: failed (with the reason) or cancelled; its file and scratch keys go. */
export async function endImportJob(
  pool: Pool,
  importId: number,
  status: 'failed' | 'cancelled' | 'completed',
  error: string | null = null,
): Promise<ImportJobRow | null> {
  const res = await pool.query<ImportJobRow>(
    `UPDATE import_job SET status = $2, error = coalesce($3, error), finished_at = now(), updated_at = now()
      WHERE id = $1 AND status = ANY($4::text[]) RETURNING *`,
    [importId, status, error, OPEN_IMPORT_STATUSES],
  );
  await discardImportScratch(pool, importId);
  return res.rows[0] ?? null;
}

export async function discardImportScratch(pool: Pool, importId: number) {
  await pool.query('DELETE FROM import_job_chunk WHERE import_id = $1', [importId]);
  await pool.query('DELETE FROM import_job_key WHERE import_id = $1', [importId]);
}

/** The worker takes a queued (or interrupted running) job; null when it is no longer open. */
export async function beginImportJob(pool: Pool, importId: number): Promise<ImportJobRow | null> {
  const res = await pool.query<ImportJobRow>(
    `UPDATE import_job SET status = 'running', started_at = coalesce(started_at, now()), updated_at = now()
      WHERE id = $1 AND status IN ('queued', 'running') RETURNING *`,
    [importId],
  );
  return res.rows[0] ?? null;
}

export async function setImportColumns(pool: Pool, importId: number, columns: string[]) {
  await pool.query('UPDATE import_job SET columns = $2 WHERE id = $1', [importId, columns]);
}

/** The file's chunks in order, one at a time (memory holds one chunk, whatever the file's size). */
export async function* importChunks(pool: Pool, importId: number): AsyncGenerator<Buffer> {
  for (let seq = 0; ; seq++) {
    const res = await pool.query<{ data: Buffer }>(
      'SELECT data FROM import_job_chunk WHERE import_id = $1 AND seq = $2',
      [importId, seq],
    );
    const row = res.rows[0];
    if (!row) return;
    yield row.data;
  }
}

export interface RejectedRow {
  row: number;
  field: string;
  reason: string;
  cells: string[];
}

/** Rejected rows by row number, a page at a time (keyset), for the report. */
export async function* rejectedRows(
  pool: Pool,
  importId: number,
  page = 2000,
): AsyncGenerator<RejectedRow[]> {
  let after = 0;
  for (;;) {
    const res = await pool.query<{ row_no: number; field: string; reason: string; cells: string[] }>(
      `SELECT row_no, field, reason, cells FROM import_job_rejected
        WHERE import_id = $1 AND row_no > $2 ORDER BY row_no LIMIT $3`,
      [importId, after, page],
    );
    if (res.rows.length === 0) return;
    yield res.rows.map((r) => ({ row: r.row_no, field: r.field, reason: r.reason, cells: r.cells }));
    after = res.rows[res.rows.length - 1]!.row_no;
    if (res.rows.length < page) return;
  }
}

export interface BatchCounts {
  rowsRead: number;
  inserted: number;
  updated: number;
  skipped: number;
  rejected: number;
}

export interface ImportBatch<T> {
  /** Data rows read in this batch (valid and rejected). */
  rowsRead: number;
  /** The last row number of the batch (1 = the header): a resumed job skips up to it. */
  lastRow: number;
  valid: T[];
  rejected: RejectedRow[];
}

/**
 * One batch in one transaction on `client`; 'cancelled' when the job is no
 * longer running (nothing of the batch is written then).
 */
async function inBatch(
  client: PoolClient,
  importId: number,
  batch: ImportBatch<unknown>,
  write: () => Promise<Omit<BatchCounts, 'rowsRead'>>,
): Promise<ImportJobRow | 'cancelled'> {
  await client.query('BEGIN');
  try {
    const job = await client.query<{ status: string }>(
      'SELECT status FROM import_job WHERE id = $1 FOR UPDATE',
      [importId],
    );
    if (job.rows[0]?.status !== 'running') {
      await client.query('ROLLBACK');
      return 'cancelled';
    }
    if (batch.rejected.length > 0) await insertRejected(client, importId, batch.rejected);
    const c = await write();
    const res = await client.query<ImportJobRow>(
      `UPDATE import_job SET rows_read = rows_read + $2, inserted = inserted + $3, updated = updated + $4,
              skipped = skipped + $5, rejected = rejected + $6, committed_row = $7, updated_at = now()
        WHERE id = $1 RETURNING *`,
      [
        importId,
        batch.rowsRead,
        c.inserted,
        c.updated,
        c.skipped,
        c.rejected + batch.rejected.length,
        batch.lastRow,
      ],
    );
    await client.query('COMMIT');
    return res.rows[0]!;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

async function insertRejected(client: PoolClient, importId: number, rows: RejectedRow[]) {
  await client.query(
    `INSERT INTO import_job_rejected (import_id, row_no, field, reason, cells)
     SELECT $1, r.row_no, r.field, r.reason, ARRAY(SELECT jsonb_array_elements_text(r.cells))
       FROM jsonb_to_recordset($2::jsonb) AS r(row_no int, field text, reason text, cells jsonb)
     ON CONFLICT DO NOTHING`,
    [
      importId,
      JSON.stringify(rows.map((r) => ({ row_no: r.row, field: r.field, reason: r.reason, cells: r.cells }))),
    ],
  );
}

/** COPY text format: backslash escapes, \N for NULL. */
function copyValue(v: string | null): string {
  if (v === null) return '\\N';
  return v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

const STAGE_COLUMNS =
  'row_no, name, email, phones, line_user_id, sms_permission, dm_permission, attributes, external_id, cells';

/**
 * Duplicates inside the file: a row whose email (case aside) or external id an
 * earlier row has, in this batch or an earlier one (import_job_key remembers
 * the first row of each). Such rows leave the stage for the rejected list.
 */
const IN_FILE_DUPLICATES = `
  WITH k AS (
    SELECT row_no, 'e:' || lower(email) AS key FROM lead_import_stage WHERE email IS NOT NULL
    UNION ALL
    SELECT row_no, 'x:' || external_id FROM lead_import_stage WHERE external_id IS NOT NULL
  ), firsts AS (
    SELECT k.row_no, k.key, least(s.first_row, min(k.row_no) OVER (PARTITION BY k.key)) AS first_row
      FROM k LEFT JOIN import_job_key s ON s.import_id = $1 AND s.key = k.key
  ), dup AS (
    SELECT DISTINCT ON (row_no) row_no, key, first_row FROM firsts WHERE first_row < row_no ORDER BY row_no, first_row
  ), remember AS (
    INSERT INTO import_job_key (import_id, key, first_row)
    SELECT $1, key, min(row_no) FROM k WHERE row_no NOT IN (SELECT row_no FROM dup) GROUP BY key
    ON CONFLICT DO NOTHING
  ), gone AS (
    DELETE FROM lead_import_stage st USING dup WHERE st.row_no = dup.row_no
    RETURNING st.row_no, st.cells, dup.key, dup.first_row
  ), rejected AS (
    INSERT INTO import_job_rejected (import_id, row_no, field, reason, cells)
    SELECT $1, row_no, CASE WHEN key LIKE 'e:%' THEN 'email' ELSE 'external_id' END,
           'duplicate in the file: row ' || first_row || ' has the same ' ||
           CASE WHEN key LIKE 'e:%' THEN 'email' ELSE 'external id' END,
           ARRAY(SELECT jsonb_array_elements_text(cells))
      FROM gone
    RETURNING 1
  )
  SELECT count(*)::int AS n FROM rejected`;

/**
 * The live lead each staged row is: the one with its external id, else the
 * oldest live one with its email (and no other external id). Two rows that
 * would change the same lead: the later one is rejected.
 */
const MATCH_LEADS = `
  UPDATE lead_import_stage st SET match_id = coalesce(
    (SELECT l.id FROM lead l WHERE st.external_id IS NOT NULL AND l.external_id = st.external_id),
    (SELECT l.id FROM lead l
      WHERE st.email IS NOT NULL AND lower(l.email) = lower(st.email)
        AND l.deleted_at IS NULL AND l.merged_into_id IS NULL
        AND (st.external_id IS NULL OR l.external_id IS NULL)
      ORDER BY l.id LIMIT 1))`;

const SAME_LEAD_TWICE = `
  WITH later AS (
    SELECT row_no, match_id, min(row_no) OVER (PARTITION BY match_id) AS first_row
      FROM lead_import_stage WHERE match_id IS NOT NULL
  ), gone AS (
    DELETE FROM lead_import_stage st USING later
     WHERE st.row_no = later.row_no AND later.row_no > later.first_row
    RETURNING st.row_no, st.cells, later.first_row, later.match_id
  ), rejected AS (
    INSERT INTO import_job_rejected (import_id, row_no, field, reason, cells)
    SELECT $1, row_no, 'row', 'row ' || first_row || ' already changes lead ' || match_id || ' (same email or external id)',
           ARRAY(SELECT jsonb_array_elements_text(cells)) FROM gone
    RETURNING 1
  )
  SELECT count(*)::int AS n FROM rejected`;

export interface LeadColumns {
  name: boolean;
  email: boolean;
  phones: boolean;
  lineUserId: boolean;
  smsPermission: boolean;
  dmPermission: boolean;
}

/**
 * One batch of leads: COPY into a temporary stage, duplicates inside the file
 * out, existing leads matched, then one INSERT … ON CONFLICT (id): matched
 * rows update their lead (onDuplicate=update: the columns the file has) or are
 * skipped (skip), the others become new leads.
 */
export function writeLeadBatch(
  client: PoolClient,
  importId: number,
  batch: ImportBatch<ImportedLead & { cells: string[] }>,
  onDuplicate: ImportOnDuplicate,
  columns: LeadColumns,
): Promise<ImportJobRow | 'cancelled'> {
  return inBatch(client, importId, batch, async () => {
    await client.query(
      `CREATE TEMP TABLE IF NOT EXISTS lead_import_stage (
         row_no int PRIMARY KEY, name text, email text, phones jsonb, line_user_id text,
         sms_permission boolean, dm_permission boolean, attributes jsonb, external_id text,
         cells jsonb, match_id int) ON COMMIT DELETE ROWS`,
    );
    if (batch.valid.length === 0) return { inserted: 0, updated: 0, skipped: 0, rejected: 0 };
    const lines = function* () {
      for (const l of batch.valid) {
        yield (
          [
            String(l.row),
            copyValue(l.name),
            copyValue(l.email),
            copyValue(JSON.stringify(l.phones)),
            copyValue(l.lineUserId),
            l.smsPermission ? 't' : 'f',
            l.dmPermission ? 't' : 'f',
            copyValue(JSON.stringify(l.attributes)),
            copyValue(l.externalId),
            copyValue(JSON.stringify(l.cells)),
          ].join('\t') + '\n'
        );
      }
    };
    await pipeline(
      Readable.from(lines()),
      client.query(copyFrom(`COPY lead_import_stage (${STAGE_COLUMNS}) FROM STDIN`)),
    );
    const dups = (await client.query<{ n: number }>(IN_FILE_DUPLICATES, [importId])).rows[0]!.n;
    await client.query(MATCH_LEADS);
    const twice = (await client.query<{ n: number }>(SAME_LEAD_TWICE, [importId])).rows[0]!.n;
    let skipped = 0;
    if (onDuplicate === 'skip') {
      const res = await client.query('DELETE FROM lead_import_stage WHERE match_id IS NOT NULL');
      skipped = res.rowCount ?? 0;
    }
    const res = await client.query<{ inserted: number; updated: number }>(
      `WITH up AS (
         INSERT INTO lead AS l (id, name, email, phones, line_user_id, sms_permission, dm_permission, attributes, external_id)
         SELECT coalesce(match_id, nextval('lead_id_seq')), name, email, phones, line_user_id,
                sms_permission, dm_permission, attributes, external_id
           FROM lead_import_stage ORDER BY row_no
         ON CONFLICT (id) DO UPDATE SET
           name = CASE WHEN $1 THEN excluded.name ELSE l.name END,
           email = CASE WHEN $2 AND excluded.email IS NOT NULL THEN excluded.email ELSE l.email END,
           phones = CASE WHEN $3 THEN l.phones || excluded.phones ELSE l.phones END,
           line_user_id = CASE WHEN $4 THEN excluded.line_user_id ELSE l.line_user_id END,
           sms_permission = CASE WHEN $5 THEN excluded.sms_permission ELSE l.sms_permission END,
           dm_permission = CASE WHEN $6 THEN excluded.dm_permission ELSE l.dm_permission END,
           attributes = l.attributes || excluded.attributes,
           external_id = coalesce(excluded.external_id, l.external_id),
           updated_at = now()
         RETURNING (xmax = 0) AS fresh
       )
       SELECT count(*) FILTER (WHERE fresh)::int AS inserted, count(*) FILTER (WHERE NOT fresh)::int AS updated FROM up`,
      [
        columns.name,
        columns.email,
        columns.phones,
        columns.lineUserId,
        columns.smsPermission,
        columns.dmPermission,
      ],
    );
    const { inserted, updated } = res.rows[0]!;
    return { inserted, updated, skipped, rejected: dups + twice };
  });
}

/**
 * One batch of address statuses (operators' CSV): each row sets its address's
 * status (blocklisted, allowlisted, quarantined, valid) with its note and who
 * imported it. A repeat of an address inside the file is rejected.
 */
export function writeAddressBatch(
  client: PoolClient,
  importId: number,
  batch: ImportBatch<ImportedAddress & { cells: string[] }>,
  changedBy: string | null,
): Promise<ImportJobRow | 'cancelled'> {
  return inBatch(client, importId, batch, async () => {
    if (batch.valid.length === 0) return { inserted: 0, updated: 0, skipped: 0, rejected: 0 };
    const res = await client.query<{ inserted: number; updated: number; rejected: number }>(
      `WITH r AS (
         SELECT * FROM jsonb_to_recordset($2::jsonb)
           AS r(row_no int, channel text, address text, status text, note text, cells jsonb)
       ), firsts AS (
         SELECT r.*, least(s.first_row, min(r.row_no) OVER (PARTITION BY r.channel, r.address)) AS first_row
           FROM r LEFT JOIN import_job_key s ON s.import_id = $1 AND s.key = r.channel || ':' || r.address
       ), remember AS (
         INSERT INTO import_job_key (import_id, key, first_row)
         SELECT $1, channel || ':' || address, min(row_no) FROM r GROUP BY channel, address
         ON CONFLICT DO NOTHING
       ), rej AS (
         INSERT INTO import_job_rejected (import_id, row_no, field, reason, cells)
         SELECT $1, row_no, 'address', 'duplicate in the file: row ' || first_row || ' has the same address',
                ARRAY(SELECT jsonb_array_elements_text(cells))
           FROM firsts WHERE first_row < row_no
         RETURNING 1
       ), up AS (
         INSERT INTO address_status AS a (channel, address, status, error_count, source, note, changed_by, updated_at)
         SELECT channel, address, status, 0, 'import', nullif(note, ''), $3, now()
           FROM firsts WHERE first_row = row_no ORDER BY row_no
         ON CONFLICT (channel, address) DO UPDATE SET
           status = excluded.status, source = 'import', note = excluded.note, changed_by = excluded.changed_by,
           error_count = CASE WHEN excluded.status = 'valid' THEN 0 ELSE a.error_count END,
           updated_at = now()
         RETURNING (xmax = 0) AS fresh
       )
       SELECT count(*) FILTER (WHERE fresh)::int AS inserted, count(*) FILTER (WHERE NOT fresh)::int AS updated,
              (SELECT count(*) FROM rej)::int AS rejected
         FROM up`,
      [
        importId,
        JSON.stringify(
          batch.valid.map((a) => ({
            row_no: a.row,
            channel: a.channel,
            address: a.address,
            status: a.status,
            note: a.note,
            cells: a.cells,
          })),
        ),
        changedBy,
      ],
    );
    const r = res.rows[0]!;
    return { inserted: r.inserted, updated: r.updated, skipped: 0, rejected: r.rejected };
  });
}
