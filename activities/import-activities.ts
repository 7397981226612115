// The background CSV import (issue 23; addresses: issue 18). One activity
// reads the uploaded file chunk by chunk from the database, decodes it as a
// stream (iconv-lite), parses it as a stream (csv-parse), checks each row with
// domain/, and writes batches (db/import-queries.ts): memory holds one chunk
// and one batch, whatever the file's size. It heartbeats after every batch; a
// retry resumes after the last committed batch (the job's committed_row).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import iconv from 'iconv-lite';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { addressCsvHeaderErrors, readAddressRow, type ImportedAddress } from '../domain/address-status';
import {
  csvRecords,
  leadCsvHeaderErrors,
  readLeadRow,
  type ImportedLead,
  type RowError,
} from '../domain/lead-csv';
import {
  beginImportJob,
  endImportJob,
  getImportJob,
  importChunks,
  setImportColumns,
  writeAddressBatch,
  writeLeadBatch,
  type ImportBatch,
  type ImportJobRow,
  type ImportOnDuplicate,
  type RejectedRow,
} from '../db/import-queries';

export interface ImportDeps {
  pool: Pool;
  logger: Logger;
  /** Rows per batch (one COPY and one INSERT … ON CONFLICT each). */
  batchRows?: number;
  /** The country of national phone numbers in address files. */
  countryCallingCode?: string;
}

export interface ImportSummary {
  status: string;
  rowsRead: number;
  inserted: number;
  updated: number;
  skipped: number;
  rejected: number;
}

const ENCODING_NAMES: Record<string, string> = {
  'utf-8': 'UTF-8',
  'utf-16le': 'UTF-16LE',
  'utf-16be': 'UTF-16BE',
  cp932: 'Shift_JIS (CP932)',
};

function summary(job: ImportJobRow): ImportSummary {
  return {
    status: job.status,
    rowsRead: job.rows_read,
    inserted: job.inserted,
    updated: job.updated,
    skipped: job.skipped,
    rejected: job.rejected,
  };
}

/** The problems of one row merged into one rejected entry (the report has a line per row). */
function rejectedOf(cells: string[], rowErrors: RowError[]): RejectedRow {
  return {
    row: rowErrors[0]!.row,
    field: rowErrors[0]!.field,
    reason: rowErrors.map((e) => (rowErrors.length > 1 ? `${e.field}: ${e.message}` : e.message)).join('; '),
    cells,
  };
}

export function createImportActivities(deps: ImportDeps) {
  const batchRows = deps.batchRows ?? 5000;

  async function runImport(importId: number): Promise<ImportSummary> {
    const job = await beginImportJob(deps.pool, importId);
    if (!job) {
      const done = await getImportJob(deps.pool, importId);
      if (!done) throw ApplicationFailure.nonRetryable(`import ${importId} does not exist`);
      return summary(done);
    }
    const encoding = job.encoding ?? 'utf-8';
    const ctx = Context.current();
    const decoder = iconv.getDecoder(encoding);
    async function* text(): AsyncGenerator<string> {
      for await (const chunk of importChunks(deps.pool, importId)) {
        const t = decoder.write(chunk);
        if (t) yield t;
      }
      const rest = decoder.end();
      if (rest) yield rest;
    }

    const client = await deps.pool.connect();
    let broken: Error | undefined;
    client.on('error', (e: Error) => (broken ??= e));
    let last: ImportJobRow = job;
    try {
      let names: string[] | null = null;
      let rowNo = 0;
      let batch: ImportBatch<(ImportedLead | ImportedAddress) & { cells: string[] }> = newBatch();
      const leadColumns = {
        name: false,
        email: false,
        phones: false,
        lineUserId: false,
        smsPermission: false,
        dmPermission: false,
      };
      const flush = async (): Promise<boolean> => {
        if (batch.rowsRead === 0) return true;
        const written =
          job.kind === 'leads'
            ? await writeLeadBatch(
                client,
                importId,
                batch as ImportBatch<ImportedLead & { cells: string[] }>,
                job.on_duplicate as ImportOnDuplicate,
                leadColumns,
              )
            : await writeAddressBatch(
                client,
                importId,
                batch as ImportBatch<ImportedAddress & { cells: string[] }>,
                job.created_by,
              );
        batch = newBatch();
        if (written === 'cancelled') return false;
        last = written;
        ctx.heartbeat({ committedRow: written.committed_row });
        return !ctx.cancellationSignal.aborted;
      };
      try {
        for await (const cells of csvRecords(text())) {
          rowNo++;
          if (names === null) {
            names = cells.map((h) => h.trim().replace(/^\uFEFF/, ''));
            const problems =
              job.kind === 'leads' ? leadCsvHeaderErrors(names) : addressCsvHeaderErrors(names);
            if (problems.length > 0) {
              const p = problems[0]!;
              const ended = await endImportJob(
                deps.pool,
                importId,
                'failed',
                `row 1, ${p.field}: ${p.message}; nothing was imported`,
              );
              return summary(ended ?? last);
            }
            await setImportColumns(deps.pool, importId, names);
            leadColumns.name = names.includes('name');
            leadColumns.email = names.includes('email');
            leadColumns.phones = names.some((n) => n.startsWith('phone_'));
            leadColumns.lineUserId = names.includes('line_user_id');
            leadColumns.smsPermission = names.includes('sms_permission');
            leadColumns.dmPermission = names.includes('dm_permission');
            continue;
          }
          if (rowNo <= job.committed_row) continue; // committed before an interruption
          batch.rowsRead++;
          batch.lastRow = rowNo;
          const rowErrors: RowError[] = [];
          const bad = cells.findIndex((c) => c.includes('\uFFFD'));
          if (bad >= 0) {
            rowErrors.push({
              row: rowNo,
              field: names[bad] ?? `column ${bad + 1}`,
              message: `holds bytes that are not valid ${ENCODING_NAMES[encoding] ?? encoding}`,
            });
          } else {
            const row =
              job.kind === 'leads'
                ? readLeadRow(cells, names, rowNo, rowErrors)
                : readAddressRow(cells, names, rowNo, rowErrors, deps.countryCallingCode);
            if (row) batch.valid.push({ ...row, cells });
          }
          if (rowErrors.length > 0) batch.rejected.push(rejectedOf(cells, rowErrors));
          if (batch.rowsRead >= batchRows && !(await flush())) return await cancelled();
        }
      } catch (e) {
        if (e instanceof ApplicationFailure) throw e;
        const code = (e as { code?: string }).code;
        if (typeof code === 'string' && code.startsWith('CSV_')) {
          const ended = await endImportJob(
            deps.pool,
            importId,
            'failed',
            `row ${rowNo + 1}: the CSV cannot be read past here (${(e as Error).message}); the rows before it were imported`,
          );
          return summary(ended ?? last);
        }
        throw e;
      }
      if (!(await flush())) return await cancelled();
      if (names === null) {
        const ended = await endImportJob(
          deps.pool,
          importId,
          'failed',
          'row 1, header: the CSV is empty; the first row names the columns',
        );
        return summary(ended ?? last);
      }
      const ended = await endImportJob(deps.pool, importId, 'completed');
      return summary(ended ?? last);
    } finally {
      client.release(broken);
    }

    async function cancelled(): Promise<ImportSummary> {
      const ended = await endImportJob(deps.pool, importId, 'cancelled');
      return summary(ended ?? last);
    }
  }

  return {
    /** Import the job's file; heartbeats per batch; the job's status says how it ended. */
    runImport,
    /** A cancelled job before or without its activity: its status and scratch data. */
    async cancelImport(importId: number): Promise<void> {
      await endImportJob(deps.pool, importId, 'cancelled');
    },
  };
}

function newBatch<T>(): ImportBatch<T> {
  return { rowsRead: 0, lastRow: 0, valid: [], rejected: [] };
}

export type ImportActivities = ReturnType<typeof createImportActivities>;
