// The app's database pools as a named plugin ('database'): the API's pool from
// AppDeps (its owner, api/server.ts or a test, ends it), and the tracking
// recorder pool: clicks and opens commit without waiting for the WAL flush, on
// connections of their own so a burst of hits never queues the API's work.
// A recorder pool handed in through AppDeps is its giver's to end; one opened
// here is ended when the app closes.
import type { Pool } from 'pg';
import { createTrackingRecorderPool } from '../../db/tracking-queries';
import { sharedPlugin } from './named-plugin';

/** Connections of the recorder pool the app opens when AppDeps gives none. */
export const TRACKING_RECORDER_CONNECTIONS = 10;

export interface DatabasePools {
  /** Durable commits: everything but click and open recording. */
  pool: Pool;
  /** Click and open recording (synchronous_commit off); the API's pool when there is no database URL. */
  trackingRecorder: Pool;
}

declare module 'fastify' {
  interface FastifyInstance {
    db: DatabasePools;
  }
}

export const databasePlugin = sharedPlugin({ name: 'database' }, async (app) => {
  const { pool, config, trackingRecorderPool } = app.deps;
  let trackingRecorder = trackingRecorderPool ?? pool;
  if (!trackingRecorderPool && config.databaseUrl) {
    const opened = createTrackingRecorderPool(config.databaseUrl, TRACKING_RECORDER_CONNECTIONS);
    app.addHook('onClose', async () => opened.end());
    trackingRecorder = opened;
  }
  app.decorate('db', { pool, trackingRecorder });
});
