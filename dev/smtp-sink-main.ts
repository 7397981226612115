// Standalone local mail sink: `tsx dev/smtp-sink-main.ts` (port from SMTP_SINK_PORT,
// default 2525). Logs one line per accepted message; see dev/smtp-sink.ts for the
// local-part conventions that make it fail on purpose.
import { SmtpSink } from './smtp-sink';
import { stopOnSignal } from './stop-on-signal';

async function main(): Promise<void> {
  const raw = process.env.SMTP_SINK_PORT ?? '2525';
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`SMTP_SINK_PORT must be a port number, got ${JSON.stringify(raw)}`);
  }
  const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
  // Only the latest messages are needed for a long-running dev sink; the log has the rest.
  const sink = new SmtpSink({ port, host: process.env.SMTP_SINK_HOST, logger: log, keepMessages: 1000 });
  sink.onMessage((m) =>
    log(`received #${sink.receivedCount()} to ${m.to.join(', ')}: ${JSON.stringify(m.subject)}`),
  );
  const { url } = await sink.start();
  log(`smtp sink ready at ${url}`);

  stopOnSignal(() => sink.stop(), log);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
