// API process entry: builds the app, listens, closes gracefully.
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { createLogger } from '../observability/logger';
import { describeConfig, loadConfig, type AppConfig } from '../config/config';
import { createPool } from '../db/pool';
import { buildApp } from './app';
import { BounceMailbox } from '../inbound/bounce-mailbox';
import { ensureMailboxCleanupSchedule } from '../lifecycle/mailbox-cleanup';
import { startMetricsServer, type MetricsServer } from '../worker/metrics-server';

declare module 'fastify' {
  interface FastifyInstance {
    /** The process's Prometheus listener (METRICS_HOST:METRICS_PORT), when METRICS_PORT is not 0. */
    metricsServer: MetricsServer | null;
  }
}

export async function startApi(config: AppConfig, logger: Logger) {
  const pool = createPool(config.databaseUrl, 20);
  const connection = await Connection.connect({ address: config.temporalAddress });
  const temporal = new Client({ connection, namespace: config.temporalNamespace });
  const app = await buildApp({ pool, temporal, config, logger });
  await ensureMailboxCleanupSchedule(temporal, config.taskQueueWizard);
  // The API process owns the bounce mailbox: it already holds the pool and the Temporal client the pipeline needs.
  const mailbox =
    config.bounceSmtpPort > 0
      ? new BounceMailbox(
          {
            pool,
            temporal,
            bounceDomain: config.bounceDomain,
            invalidAfterErrors: config.invalidAfterErrors,
            quarantineAfterErrors: config.quarantineAfterErrors,
            logger,
          },
          {
            port: config.bounceSmtpPort,
            host: config.host,
            maxMessageBytes: config.bounceSmtpMaxMessageBytes,
            maxClients: config.bounceSmtpMaxClients,
            maxClientsPerAddress: config.bounceSmtpMaxClientsPerAddress,
            connectionsPerMinutePerAddress: config.bounceSmtpConnectionsPerMinute,
            idleTimeoutMs: config.bounceSmtpIdleTimeoutSeconds * 1000,
          },
        )
      : null;
  await mailbox?.start();
  // GET /metrics has no API key, so it is never on the API's port: a listener of its own, loopback by default.
  const metrics =
    config.metricsPort > 0 ? await startMetricsServer(config.metricsPort, config.metricsHost) : null;
  if (metrics) logger.info({ host: metrics.host, port: metrics.port }, 'Prometheus metrics on /metrics');
  app.decorate('metricsServer', metrics);
  app.addHook('onClose', async () => {
    await metrics?.close();
    await mailbox?.stop();
    await connection.close();
    await pool.end();
  });
  await app.listen({ port: config.port, host: config.host });
  return app;
}

if (require.main === module) {
  const config = loadConfig();
  const logger = createLogger('api', config.logLevel);
  if (!config.databaseUrl || !config.temporalAddress) {
    console.error(
      'the API needs DATABASE_URL and TEMPORAL_ADDRESS (or use `npm start` for the embedded stack)',
    );
    process.exit(1);
  }
  logger.info({ config: describeConfig(config) }, 'starting API');
  startApi(config, logger)
    .then((app) => {
      const stop = () => {
        app.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((err) => {
      logger.fatal({ err }, 'API failed to start');
      process.exit(1);
    });
}
