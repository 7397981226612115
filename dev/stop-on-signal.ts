// The local simulators' CLIs stop the same way: on SIGINT or SIGTERM, once,
// then exit 0 (or 1 if stopping failed).
export function stopOnSignal(stop: () => Promise<unknown>, log: (line: string) => void): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received, stopping`);
    stop().then(
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
