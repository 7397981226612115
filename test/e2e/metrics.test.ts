// Observability end to end: after a small email wizard run, the API's GET
// /metrics (public, Prometheus text) shows the run's messages, its batch
// latency and the HTTP timing of the wizard-runs route by its pattern. The
// harness runs the worker in the API's process, as `npm start` does, so one
// registry holds both.
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

/** The value of one sample line, e.g. `name{a="b"} 12`; 0 when the series is absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function scrape(): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${h.baseUrl}/metrics`);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('GET /metrics', () => {
  test('when scraped without an API key, then it answers Prometheus text and is not in the OpenAPI document', async () => {
    const m = await scrape();
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain/);
    expect(m.text).toContain('# TYPE process_cpu_user_seconds_total counter');
    const doc = await h.api('GET', '/openapi.json');
    expect(Object.keys(doc.body.paths)).not.toContain('/metrics');
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
