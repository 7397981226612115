// Observability end to end: the API process serves Prometheus text on a
// listener of its own (METRICS_HOST:METRICS_PORT, loopback by default), never
// on the API's port; after a small email wizard run it shows the run's
// messages, its batch latency and the HTTP timing of the wizard-runs route by
// its pattern. The harness runs the worker in the API's process, as `npm
// start` does, so one registry holds both.
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { startApi } from '../../api/server';
import { loadConfig } from '../../config/config';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { freePort } from '../support/stack-main';

let h: Harness;
/** The API as `npm run start:api` starts it, with its metrics listener on the default host. */
let api: FastifyInstance;
let metricsPort: number;

beforeAll(async () => {
  h = await startHarness();
  metricsPort = await freePort();
  const defaults = loadConfig({});
  api = await startApi(
    {
      ...h.config,
      port: 0,
      host: '127.0.0.1',
      bounceSmtpPort: 0,
      metricsPort,
      metricsHost: defaults.metricsHost,
    },
    pino({ level: 'silent' }),
  );
});

afterAll(async () => {
  await api?.close();
  await h?.stop();
});

/** The value of one sample line, e.g. `name{a="b"} 12`; 0 when the series is absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function scrape(): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

/** Can a TCP connection to host:port be opened? */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('GET /metrics', () => {
  test('when the API process starts, then its metrics listen on loopback on a port of their own and the API port serves none', async () => {
    expect(api.metricsServer).toMatchObject({ host: '127.0.0.1', port: metricsPort });
    const m = await scrape();
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain/);
    expect(m.text).toContain('# TYPE process_cpu_user_seconds_total counter');

    // Not on the API's port, with or without a key, and not in the contract.
    const addr = api.server.address();
    const apiBase = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    for (const base of [apiBase, h.baseUrl]) {
      const anonymous = await fetch(`${base}/metrics`);
      expect(anonymous.status).toBe(404);
      expect(await anonymous.text()).not.toContain('process_cpu_user_seconds_total');
      const keyed = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${h.apiKey}` } });
      expect(keyed.status).toBe(404);
    }
    const doc = await h.api('GET', '/openapi.json');
    expect(Object.keys(doc.body.paths)).not.toContain('/metrics');

    // Another interface of this machine does not reach it (where the machine has one).
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) expect(await reachable(external.address, metricsPort)).toBe(false);
    expect(await reachable('127.0.0.1', metricsPort)).toBe(true);
  });

  test('when an email run completes, then its messages, batch latency and the wizard-runs route timing show', async () => {
    const tag = uniqueSuffix();
    for (let i = 0; i < 3; i++) {
      const res = await h.api('POST', '/v1/leads', {
        name: `Lead ${i}`,
        email: `m${i}.${tag}@example.test`,
        attributes: { tag },
      });
      expect(res.status).toBe(201);
    }
    const template = await h.api('POST', '/v1/templates', {
      channel: 'email',
      title: `Metrics ${tag}`,
      format: 'text',
      subject: 'Hello {{name}}',
      from: 'news@example.test',
      bodyText: 'Hi {{name}}',
    });
    expect(template.status).toBe(201);
    const segment = await h.api('POST', '/v1/segments', {
      name: `metrics ${tag}`,
      channel: 'email',
      filter: { all: [{ attribute: 'tag', op: 'eq', value: tag }] },
    });
    expect(segment.status).toBe(201);
    const created = await h.api('POST', '/v1/wizard-runs', {
      templateId: template.body.id,
      segmentId: segment.body.id,
    });
    expect(created.status).toBe(201);
    const runId: number = created.body.id;
    const final = await waitFor(
      'the run to complete',
      async () => {
        const r = (await h.api('GET', `/v1/wizard-runs/${runId}`)).body;
        return r.status === 'completed' ? r : null;
      },
      90_000,
      50,
    );
    expect(final.counters.delivered).toBe(3);

    const { text } = await scrape();
    expect(
      sample(text, 'delivery_messages_total{channel="email",result="delivered"}'),
    ).toBeGreaterThanOrEqual(final.counters.delivered);
    expect(sample(text, 'delivery_batch_seconds_count{channel="email"}')).toBeGreaterThan(0);
    expect(sample(text, 'delivery_queue_lag_seconds_count{channel="email"}')).toBeGreaterThan(0);
    // By route pattern, never the raw URL (which would carry the run id).
    expect(
      sample(
        text,
        'http_request_duration_seconds_count{method="POST",route="/v1/wizard-runs",status_code="201"}',
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(
        text,
        'http_request_duration_seconds_count{method="GET",route="/v1/wizard-runs/:id",status_code="200"}',
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(`route="/v1/wizard-runs/${runId}"`);
  });
});
