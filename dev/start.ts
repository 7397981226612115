// `npm start`: the whole product on its embedded defaults, in one process
// tree: Temporal dev server (UI on 8233), PostgreSQL (embedded unless
// DATABASE_URL), the local SMTP sink (unless SMTP_URL), migrations, one worker
// and the API on 3000. Ctrl-C stops everything, children included.
import { NativeConnection, type Worker } from '@temporalio/worker';
import { installTemporalRuntime } from '../worker/temporal-runtime';
import { createLogger } from '../observability/logger';
import { resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describeConfig, loadConfig } from '../config/config';
import { migrateUp, openOrm } from '../db/orm';
import { createPool } from '../db/pool';
import { createEmailTransport } from '../channels/email/transport';
import { createWorkers, runWorkers, startSmsReceipts } from '../worker/create-workers';
import { startApi } from '../api/server';
import { startEmbeddedPostgres } from './embedded-postgres';
import { startTemporalServer } from './temporal-server';
import { SmtpSink } from './smtp-sink';
import { SmscSimulator } from './smsc-simulator';
import { createSmsTransport } from '../channels/sms/transport';
import { smppOptionsFromUrl } from '../channels/sms/smpp-url';
import { LineSimulator } from './line-simulator';
import { stopWhenOrphaned } from './reaper';
import { LocalDnsServer } from './dns-server';
import { DEV_DKIM_KEY_SECRET, setUpDevSendingDomains } from './dev-sending-domains';

async function main() {
  const config = loadConfig();
  const logger = createLogger('dev', config.logLevel);
  const stops: Array<[string, () => Promise<unknown>]> = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping…');
    for (const [name, stop] of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.warn({ err }, `could not stop ${name} cleanly`);
      }
    }
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  // Started through a launcher (tsx, a supervisor) that is killed: do not outlive it.
  // Our own children end with us in any case (dev/reaper.ts).
  stopWhenOrphaned(() => void shutdown(1));
  // We stop the workers ourselves, in order, on the signals above; the SDK logs through ours, at LOG_LEVEL.
  installTemporalRuntime(logger, { shutdownSignals: [] });

  try {
    const dataDir = resolve(config.dataDir);
    mkdirSync(dataDir, { recursive: true });

    if (!config.databaseUrl) {
      const pg = await startEmbeddedPostgres({
        dataDir,
        port: config.embeddedPostgresPort,
        database: 'delivery',
        persistent: true,
        log: (l) => logger.debug({ component: 'postgres' }, l),
      });
      stops.push(['postgres', () => pg.stop()]);
      config.databaseUrl = pg.url;
      logger.info({ port: config.embeddedPostgresPort }, 'embedded PostgreSQL ready');
    }
    if (!config.temporalAddress) {
      const temporal = await startTemporalServer({
        port: config.temporalDevPort,
        uiPort: config.temporalUiPort,
        dbFilename: resolve(dataDir, 'temporal.db'),
        log: (l) => logger.debug({ component: 'temporal' }, l),
      });
      stops.push(['temporal', () => temporal.stop()]);
      config.temporalAddress = temporal.address;
      logger.info({ ui: temporal.uiUrl }, 'Temporal dev server ready');
    }
    if (!config.smtpUrl) {
      const sink = new SmtpSink({ port: config.smtpSinkPort, keepMessages: 1000 });
      const { url } = await sink.start();
      sink.onMessage((m) => logger.info({ to: m.to, subject: m.subject }, 'sink received mail'));
      stops.push(['smtp sink', () => sink.stop()]);
      config.smtpUrl = url;
      logger.info({ url }, 'local SMTP sink ready');
    }
    if (!config.lineApiBaseUrl) {
      // One dev channel: register it with POST /v1/official-accounts using these (dev-only) credentials.
      const line = new LineSimulator({ logger: (l) => logger.debug({ component: 'line' }, l) });
      const dev = line.addChannel({
        accessToken: 'dev-line-access-token',
        channelSecret: 'dev-line-channel-secret',
      });
      const { baseUrl } = await line.start();
      stops.push(['LINE simulator', () => line.stop()]);
      config.lineApiBaseUrl = baseUrl;
      logger.info(
        {
          baseUrl,
          accessToken: 'dev-line-access-token',
          channelSecret: 'dev-line-channel-secret',
          destination: dev.destination,
        },
        'local LINE simulator ready (dev channel credentials shown; they are not secrets)',
      );
    }

    if (!config.smppUrl) {
      // Port 0: a free one; the log shows it. Numbers ending 0001, 0002, … fail on purpose (dev/smsc-simulator).
      const smsc = new SmscSimulator({
        keepSubmits: 1000,
        logger: (l) => logger.debug({ component: 'smsc' }, l),
      });
      const { host, port } = await smsc.start();
      smsc.onSubmit((m) =>
        logger.info(
          { to: m.destination, text: m.text, messageId: m.messageId },
          'SMSC simulator received an SMS',
        ),
      );
      stops.push(['SMSC simulator', () => smsc.stop()]);
      config.smppUrl = `smpp://orchestrator:secret@${host}:${port}`;
      logger.info({ host, port }, 'local SMSC simulator ready');
    }

    const orm = await openOrm(config.databaseUrl, 2);
    const applied = await migrateUp(orm);
    await orm.close();
    logger.info({ applied }, 'schema migrated');

    const pool = createPool(config.databaseUrl, config.workerMaxConcurrentActivities * 2 + 2);
    // Issue 19: without DNS_RESOLVER, a local DNS server serves the development domains, registered
    // and verified here so mail from them is signed and sent at once (README: sending domains).
    if (!config.dnsResolver) {
      const dns = new LocalDnsServer();
      config.dnsResolver = (await dns.start()).address;
      stops.push(['DNS server', () => dns.stop()]);
      config.dkimKeySecret ||= DEV_DKIM_KEY_SECRET;
      const domains = ['example.jp', config.notifyFrom.split('@').pop()!];
      await setUpDevSendingDomains(pool, config, dns, domains, logger);
      logger.info({ dnsResolver: config.dnsResolver, domains }, 'local DNS server ready');
    }
    const email = createEmailTransport({
      url: config.smtpUrl,
      maxConnections: config.smtpMaxConnections,
      maxMessages: config.smtpMaxMessages,
    });
    const connection = await NativeConnection.connect({ address: config.temporalAddress });
    const sms = createSmsTransport({
      ...smppOptionsFromUrl(config.smppUrl),
      logger: (l) => logger.info({ component: 'smpp' }, l),
    });
    const receipts = startSmsReceipts({
      pool,
      sms,
      logger: logger.child({ component: 'sms-receipts' }),
      config,
    });
    const workers: Worker[] = await createWorkers({
      connection,
      namespace: config.temporalNamespace,
      pool,
      email,
      logger: logger.child({ component: 'worker' }),
      config,
      sms,
    });
    // No worker metrics server here (WORKER_METRICS_PORT is for a standalone worker): the worker shares
    // this process and its metrics registry with the API, whose metrics listener (METRICS_PORT) shows both.
    const running = runWorkers(workers);
    stops.push([
      'worker',
      async () => {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await running;
        await receipts.stop();
        await sms.close();
        email.close();
        await connection.close();
        await pool.end();
      },
    ]);
    running.catch((err) => {
      logger.error({ err }, 'worker failed');
      void shutdown(1);
    });

    // The console's files, rebuilt from console/src so an edit shows on the next start (esbuild: well under a second).
    execFileSync(process.execPath, [resolve(__dirname, '..', 'scripts', 'build-console.mjs')], {
      stdio: 'inherit',
    });
    const app = await startApi(config, logger.child({ component: 'api' }));
    stops.push(['api', () => app.close()]);
    logger.info(
      { config: describeConfig(config) },
      `ready: API on http://localhost:${config.port}, Temporal UI on http://localhost:${config.temporalUiPort}`,
    );
  } catch (err) {
    logger.fatal({ err }, 'start failed');
    await shutdown(1);
  }
}

void main();
