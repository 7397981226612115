// Worker process entry: real dependencies in, task queues per channel.
import { NativeConnection } from '@temporalio/worker';
import { createLogger } from '../observability/logger';
import { startMetricsServer } from './metrics-server';
import { createEmailTransport } from '../channels/email/transport';
import { describeConfig, loadConfig } from '../config/config';
import { createPool } from '../db/pool';
import { createWorkers, runWorkers, startSmsReceipts } from './create-workers';
import { createSmsTransport } from '../channels/sms/transport';
import { smppOptionsFromUrl } from '../channels/sms/smpp-url';
import { installTemporalRuntime } from './temporal-runtime';
import { startMemoryLog } from './memory-log';

async function main() {
  const config = loadConfig();
  const logger = createLogger('worker', config.logLevel);
  if (!config.databaseUrl || !config.temporalAddress || !config.smtpUrl) {
    throw new Error(
      'the worker needs DATABASE_URL, TEMPORAL_ADDRESS and SMTP_URL (or use `npm start` for the embedded stack)',
    );
  }
  logger.info({ config: describeConfig(config) }, 'starting worker');
  // The SDK's own lines through our logger, at LOG_LEVEL; it stops the workers on SIGINT/SIGTERM.
  installTemporalRuntime(logger);
  const memoryLog = startMemoryLog(config.workerMemoryLogSeconds);
  const pool = createPool(config.databaseUrl, config.workerMaxConcurrentActivities * 2 + 2);
  const email = createEmailTransport({
    url: config.smtpUrl,
    maxConnections: config.smtpMaxConnections,
    maxMessages: config.smtpMaxMessages,
  });
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  // Without SMPP_URL this worker takes no SMS work (no SMS queue is polled).
  const sms = config.smppUrl
    ? createSmsTransport({
        ...smppOptionsFromUrl(config.smppUrl),
        logger: (l) => logger.info({ component: 'smpp' }, l),
      })
    : undefined;
  const receipts = sms ? startSmsReceipts({ pool, sms, logger, config }) : undefined;
  const workers = await createWorkers({
    connection,
    namespace: config.temporalNamespace,
    pool,
    email,
    logger,
    config,
    sms,
  });
  const metrics =
    config.workerMetricsPort > 0
      ? await startMetricsServer(config.workerMetricsPort, config.metricsHost)
      : undefined;
  if (metrics) logger.info({ host: metrics.host, port: metrics.port }, 'Prometheus metrics on /metrics');
  memoryLog.mark('ready');
  await runWorkers(workers);
  memoryLog.stop();
  await metrics?.close();
  await receipts?.stop();
  await sms?.close();
  email.close();
  await connection.close();
  await pool.end();
  logger.info('worker stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
