// LOG_LEVEL governs the Temporal SDK's own lines too (worker/temporal-runtime.ts):
// a worker process at `warn` prints none of the SDK's INFO lines (worker state
// changes), and at `info` they come through our pino logger as JSON.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { SmtpSink } from '../../dev/smtp-sink';
import { uniqueSuffix, waitFor } from '../support/harness';

const root = join(__dirname, '..', '..');

async function workerOutput(level: string): Promise<string[]> {
  const sink = new SmtpSink({ port: 0 });
  const { url } = await sink.start();
  const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  const client = new Client({ connection });
  const queue = `log-level-${uniqueSuffix()}`;
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'worker/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: process.env.TEST_DATABASE_URL_READY!,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
      SMTP_URL: url,
      TASK_QUEUE_WIZARD: queue,
      TASK_QUEUE_EMAIL: `${queue}-email`,
      LOG_LEVEL: level,
      WORKER_METRICS_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    // Running: the server sees its pollers on the wizard queue.
    await waitFor('the worker to poll', async () => {
      const d = await client.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: queue },
        taskQueueType: 1,
      });
      return (d.pollers ?? []).length > 0;
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await connection.close();
    await sink.stop();
  }
  return out.split('\n').filter((l) => l.trim() !== '');
}

test('when LOG_LEVEL is warn, then the worker prints none of the Temporal SDK INFO lines', async () => {
  const lines = await workerOutput('warn');
  const sdkInfo = lines.filter((l) => /Worker state changed|"sdkLevel":"INFO"|\[INFO\]|INFO /.test(l));
  expect(sdkInfo).toEqual([]);
}, 180_000);

test('when LOG_LEVEL is info, then the Temporal SDK lines come through the product logger as JSON', async () => {
  const lines = await workerOutput('info');
  const sdk = lines.filter((l) => l.includes('"component":"temporal-sdk"'));
  expect(sdk.length).toBeGreaterThan(0);
  for (const l of sdk) expect(JSON.parse(l)).toMatchObject({ name: 'worker', component: 'temporal-sdk' });
}, 180_000);
