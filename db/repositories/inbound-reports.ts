// What reached the bounce mailbox, as the API reads it: one entry per recipient
// of a report (the statements and the decision vocabulary: db/inbound-report-queries.ts).
import type { Pool } from 'pg';
import {
  getInboundReport,
  searchInboundReports,
  type InboundReportDetail,
  type InboundReportFilter,
  type InboundReportRow,
} from '../inbound-report-queries';

export function inboundReportRepository(pool: Pool) {
  return {
    /** Newest first, one page; `more` tells whether there is a next one. */
    search: (f: InboundReportFilter): Promise<{ rows: InboundReportRow[]; more: boolean }> =>
      searchInboundReports(pool, f),
    /** One entry with its raw message and the other recipients of the same message. */
    get: (id: string): Promise<InboundReportDetail | null> => getInboundReport(pool, id),
  };
}

export type InboundReportRepository = ReturnType<typeof inboundReportRepository>;
