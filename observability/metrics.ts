// Prometheus metrics: one registry per process, served at GET /metrics by
// worker/metrics-server.ts on a listener of its own (METRICS_HOST, loopback by
// default): the API process on METRICS_PORT, a standalone worker on
// WORKER_METRICS_PORT; under `npm start` API and worker share a process, so
// the API's listener shows both.
//
// Labels stay bounded: channel (email|sms|line), result, relay fault reason (a fixed list), receiving domain (only
// the blocked ones are set to 1; they go back to 0 when the breaker closes),
// and, on the API, the route pattern (never the raw URL).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RELAY_FAULT_REASONS } from '../domain/relay-faults';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const messages = new Counter({
  name: 'delivery_messages_total',
  help: 'Messages handled by send batches, by channel and result (delivered, error, pre_error)',
  labelNames: ['channel', 'result'] as const,
  registers: [registry],
});

const batchSeconds = new Histogram({
  name: 'delivery_batch_seconds',
  help: 'Latency of one send batch activity (first sends and retry waves), by channel',
  labelNames: ['channel'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  registers: [registry],
});

const queueLag = new Histogram({
  name: 'delivery_queue_lag_seconds',
  help: 'Time from a send batch activity attempt being scheduled to a worker starting it, by channel',
  labelNames: ['channel'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
  registers: [registry],
});

const breakerOpen = new Gauge({
  name: 'delivery_domain_breaker_open',
  help: '1 while sends to a receiving domain are blocked by its circuit breaker, 0 once it closes again',
  labelNames: ['domain'] as const,
  registers: [registry],
});

const relayFault = new Gauge({
  name: 'delivery_relay_fault',
  help: '1 while this worker holds email sends because of a fault of our SMTP relay, by reason (relay_unreachable, relay_dns, relay_tls, relay_auth, relay_refused, relay_sender_refused, relay_unavailable); 0 once the relay works again',
  labelNames: ['reason'] as const,
  registers: [registry],
});

const relayHeldSends = new Counter({
  name: 'delivery_relay_held_sends_total',
  help: 'Email sends put back to wait because of a fault of our SMTP relay (no lead or address changed), by reason',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const httpRequestSeconds = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'API request duration, by method, route pattern and status code',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

const sweepRepairs = new Counter({
  name: 'delivery_run_sweep_repairs_total',
  help: 'Runs the consistency sweep found disagreeing with their workflow, by repair (start, error, cancelled)',
  labelNames: ['repair'] as const,
  registers: [registry],
});

export function recordSweepRepair(repair: string): void {
  sweepRepairs.inc({ repair });
}

export interface MessageCounts {
  delivered: number;
  errors: number;
  preErrors: number;
}

export function recordMessages(channel: string, counts: MessageCounts): void {
  if (counts.delivered > 0) messages.inc({ channel, result: 'delivered' }, counts.delivered);
  if (counts.errors > 0) messages.inc({ channel, result: 'error' }, counts.errors);
  if (counts.preErrors > 0) messages.inc({ channel, result: 'pre_error' }, counts.preErrors);
}

export function observeBatch(channel: string, seconds: number): void {
  batchSeconds.observe({ channel }, seconds);
}

export function observeQueueLag(channel: string, seconds: number): void {
  // Clocks of server and worker can disagree a little: never a negative lag.
  if (Number.isFinite(seconds)) queueLag.observe({ channel }, Math.max(0, seconds));
}

export function setBreakerState(domain: string, open: boolean): void {
  breakerOpen.set({ domain: domain.toLowerCase() }, open ? 1 : 0);
}

/** The relay's current fault (null: it works); every other reason goes back to 0. */
export function setRelayFault(reason: string | null): void {
  for (const r of RELAY_FAULT_REASONS) relayFault.set({ reason: r }, r === reason ? 1 : 0);
}

export function countRelayHeldSends(reason: string, sends: number): void {
  if (sends > 0) relayHeldSends.inc({ reason }, sends);
}

export function observeHttpRequest(method: string, route: string, statusCode: number, seconds: number): void {
  httpRequestSeconds.observe({ method, route, status_code: String(statusCode) }, seconds);
}

export const metricsContentType: string = registry.contentType;

export function metricsText(): Promise<string> {
  return registry.metrics();
}
