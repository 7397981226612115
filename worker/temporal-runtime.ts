// The Temporal SDK's own logs (worker state changes, the Rust core's lines)
// go through the product's pino logger at its level, so LOG_LEVEL governs them
// like every other line. Call once per process, before the first
// NativeConnection or Worker.
import { DefaultLogger, Runtime, type LogLevel, type LogEntry } from '@temporalio/worker';
import type { Logger } from 'pino';

/** pino's level names to the SDK's; anything quieter than error (fatal, silent) keeps only errors. */
export function sdkLogLevel(pinoLevel: string): LogLevel {
  switch (pinoLevel) {
    case 'trace':
      return 'TRACE';
    case 'debug':
      return 'DEBUG';
    case 'info':
      return 'INFO';
    case 'warn':
      return 'WARN';
    default:
      return 'ERROR';
  }
}

export interface TemporalRuntimeOptions {
  /**
   * Signals on which the SDK shuts the process's workers down; [] when the
   * process stops them itself (dev/start.ts). The SDK's default otherwise.
   */
  shutdownSignals?: NodeJS.Signals[];
}

export function installTemporalRuntime(logger: Logger, opts: TemporalRuntimeOptions = {}): void {
  const sdk = logger.child({ component: 'temporal-sdk' });
  const level = sdkLogLevel(logger.level);
  const write = (entry: LogEntry) => {
    const meta = { ...(entry.meta ?? {}), sdkLevel: entry.level };
    switch (entry.level) {
      case 'TRACE':
        return sdk.trace(meta, entry.message);
      case 'DEBUG':
        return sdk.debug(meta, entry.message);
      case 'INFO':
        return sdk.info(meta, entry.message);
      case 'WARN':
        return sdk.warn(meta, entry.message);
      default:
        return sdk.error(meta, entry.message);
    }
  };
  // pino drops what is below its own level; 'silent' and 'fatal' drop the SDK's errors too.
  const silent = logger.level === 'silent' || logger.level === 'fatal';
  Runtime.install({
    ...(opts.shutdownSignals ? { shutdownSignals: opts.shutdownSignals } : {}),
    // The core's (Rust) lines are forwarded to the same logger instead of stderr.
    telemetryOptions: { logging: { filter: { core: level, other: level }, forward: {} } },
    logger: new DefaultLogger(level, silent ? () => undefined : write),
  });
}
