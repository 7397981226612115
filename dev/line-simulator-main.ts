// Standalone local LINE Messaging API: `tsx dev/line-simulator-main.ts` (port from LINE_SIM_PORT, default 8090).
// Channels come from LINE_SIM_CHANNELS, "accessToken:channelSecret" pairs separated by commas; without it one
// development channel is registered (the pair below, which is no secret: it only opens this simulator).
// LINE_SIM_MONTHLY_QUOTA sets a monthly message quota. See dev/line-simulator.ts for the user-id prefixes that make
// it fail on purpose. Logs one line per request, never a token.
import { LineSimulator } from './line-simulator';
import { stopOnSignal } from './stop-on-signal';

const DEV_CHANNELS = 'dev-line-access-token:dev-line-channel-secret';

function parseChannels(raw: string): Array<{ accessToken: string; channelSecret: string }> {
  return raw
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const at = pair.indexOf(':');
      if (at <= 0 || at === pair.length - 1) {
        throw new Error('LINE_SIM_CHANNELS must be "accessToken:channelSecret" pairs separated by commas');
      }
      return { accessToken: pair.slice(0, at), channelSecret: pair.slice(at + 1) };
    });
}

function parseNonNegativeInt(name: string, raw: string, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new Error(`${name} must be an integer from 0 to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

async function main(): Promise<void> {
  const port = parseNonNegativeInt('LINE_SIM_PORT', process.env.LINE_SIM_PORT ?? '8090', 65535);
  const channels = parseChannels(process.env.LINE_SIM_CHANNELS ?? DEV_CHANNELS);
  if (channels.length === 0) throw new Error('LINE_SIM_CHANNELS names no channel');
  const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);

  // Only the latest pushes are needed for a long-running dev simulator; the log has the rest.
  const sim = new LineSimulator({ port, host: process.env.LINE_SIM_HOST, logger: log, keep: 1000 });
  for (const c of channels) {
    const { destination } = sim.addChannel(c);
    log(`channel registered, destination ${destination}`);
  }
  if (process.env.LINE_SIM_MONTHLY_QUOTA) {
    sim.setMonthlyQuota(
      parseNonNegativeInt(
        'LINE_SIM_MONTHLY_QUOTA',
        process.env.LINE_SIM_MONTHLY_QUOTA,
        Number.MAX_SAFE_INTEGER,
      ),
    );
  }
  const { baseUrl } = await sim.start();
  log(`LINE simulator ready at ${baseUrl}`);

  stopOnSignal(() => sim.stop(), log);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
