// Standalone local mail sink: `tsx dev/smtp-sink-main.ts` (port from SMTP_SINK_PORT,
// default 2525). Logs one line per accepted message; see dev/smtp-sink.ts for the
// local-part conventions that make it fail on purpose.
import { SmtpSink } from './smtp-sink';

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

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received, stopping`);
    sink.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
