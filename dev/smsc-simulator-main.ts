// Standalone local SMSC: `tsx dev/smsc-simulator-main.ts` (port from SMSC_PORT, default
// 2775; credentials from SMSC_SYSTEM_ID / SMSC_PASSWORD, default orchestrator / secret).
// Logs one line per submit_sm; see dev/smsc-simulator.ts for the number conventions that
// make it fail on purpose.
import { SmscSimulator } from './smsc-simulator';
import { stopOnSignal } from './stop-on-signal';

async function main(): Promise<void> {
  const raw = process.env.SMSC_PORT ?? '2775';
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`SMSC_PORT must be a port number, got ${JSON.stringify(raw)}`);
  }
  const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
  // Only the latest submits are needed for a long-running dev SMSC; the log has the rest.
  const smsc = new SmscSimulator({
    port,
    host: process.env.SMSC_HOST,
    systemId: process.env.SMSC_SYSTEM_ID,
    password: process.env.SMSC_PASSWORD,
    logger: log,
    keepSubmits: 1000,
  });
  smsc.onSubmit((s) => {
    const part = s.udh ? ` part ${s.udh.seq}/${s.udh.total}` : '';
    const answer = s.messageId !== null ? `id ${s.messageId}` : `status ${s.status}`;
    log(`submit_sm #${smsc.submitCount()} to ${s.destination}${part} dcs ${s.dataCoding}: ${answer}`);
  });
  const { host, port: bound } = await smsc.start();
  log(`smsc simulator ready at smpp://${host}:${bound}`);

  stopOnSignal(() => smsc.stop(), log);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
