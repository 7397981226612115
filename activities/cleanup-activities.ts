// Housekeeping activities run by schedules, not by runs.
import type { Pool } from 'pg';
import { releaseMailboxFullAddresses, type MailboxFullRelease } from '../db/address-queries';

export interface CleanupDeps {
  pool: Pool;
}

export function createCleanupActivities(deps: CleanupDeps) {
  return {
    /** Mailbox-full addresses back to valid after 30 days (SPEC 4). `nowIso` lets a test pick the day. */
    async releaseMailboxFull(nowIso?: string): Promise<MailboxFullRelease> {
      return releaseMailboxFullAddresses(deps.pool, nowIso === undefined ? new Date() : new Date(nowIso));
    },
  };
}

export type CleanupActivities = ReturnType<typeof createCleanupActivities>;
