// Worker process entry: real dependencies in, task queues per channel.
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { createEmailTransport } from '../channels/email';
import { describeConfig, loadConfig } from '../config/config';
import { createPool } from '../db/pool';
import { createWorkers, runWorkers } from './create-workers';

async function main() {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel, name: 'worker' });
  if (!config.databaseUrl || !config.temporalAddress || !config.smtpUrl) {
    throw new Error('the worker needs DATABASE_URL, TEMPORAL_ADDRESS and SMTP_URL (or use `npm start` for the embedded stack)');
  }
  logger.info({ config: describeConfig(config) }, 'starting worker');
  const pool = createPool(config.databaseUrl, config.workerMaxConcurrentActivities * 2 + 2);
  const email = createEmailTransport({ url: config.smtpUrl, maxConnections: config.smtpMaxConnections, maxMessages: config.smtpMaxMessages });
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const workers = await createWorkers({ connection, namespace: config.temporalNamespace, pool, email, logger, config });
  await runWorkers(workers);
  email.close();
  await connection.close();
  await pool.end();
  logger.info('worker stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
