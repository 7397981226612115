// The one way the processes (api/server.ts, worker/main.ts, dev/start.ts) make
// their pino logger: same shape everywhere, and secrets never reach a log line.
// `redact` censors API keys in request headers and credentials wherever an
// object carrying them is logged one level deep (e.g. `{ account: { password } }`).
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  '*.password',
  '*.accessToken',
  '*.channelSecret',
  '*.apiKey',
];

export function createLogger(name: string, level: string, destination?: DestinationStream): Logger {
  const options = { name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
