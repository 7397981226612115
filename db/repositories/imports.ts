// Background CSV imports as the API sees them: create and fill a job, read its
// progress and its rejected rows, cancel it. The SQL is in db/import-queries.ts.
import type { Pool } from 'pg';
import {
  appendImportChunk,
  createImportJob,
  endImportJob,
  getImportJob,
  markImportReceived,
  rejectedRows,
  type ImportKind,
  type ImportOnDuplicate,
} from '../import-queries';

export function importRepository(pool: Pool) {
  return {
    create: (kind: ImportKind, onDuplicate: ImportOnDuplicate, createdBy: string | null) =>
      createImportJob(pool, { kind, onDuplicate, createdBy }),
    appendChunk: (id: number, seq: number, data: Buffer) => appendImportChunk(pool, id, seq, data),
    received: (id: number, encoding: string, bytes: number) => markImportReceived(pool, id, encoding, bytes),
    get: (id: number, kind: ImportKind) => getImportJob(pool, id, kind),
    fail: (id: number, error: string) => endImportJob(pool, id, 'failed', error),
    /** The job as cancelled when it was still open; null when it had already ended. */
    cancel: (id: number) => endImportJob(pool, id, 'cancelled'),
    rejected: (id: number) => rejectedRows(pool, id),
  };
}

export type ImportRepository = ReturnType<typeof importRepository>;
