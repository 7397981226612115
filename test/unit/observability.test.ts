// The standalone worker's metrics endpoint and the shared logger's redaction:
// no servers besides the one under test.
import { Writable } from 'node:stream';
import { createLogger } from '../../observability/logger';
import {
  countRelayHeldSends,
  recordMessages,
  setBreakerState,
  setRelayFault,
} from '../../observability/metrics';
import { startMetricsServer, type MetricsServer } from '../../worker/metrics-server';

describe('the worker metrics server', () => {
  let server: MetricsServer;

  beforeAll(async () => {
    server = await startMetricsServer(0, '127.0.0.1');
  });

  afterAll(async () => {
    await server?.close();
  });

  test('when /metrics is scraped, then it answers Prometheus text with the delivery and process metrics', async () => {
    recordMessages('sms', { delivered: 2, errors: 1, preErrors: 0 });
    setBreakerState('Example.COM', true);
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('delivery_messages_total{channel="sms",result="delivered"} 2');
    expect(text).toContain('delivery_messages_total{channel="sms",result="error"} 1');
    expect(text).not.toContain('result="pre_error"');
    expect(text).toContain('delivery_domain_breaker_open{domain="example.com"} 1');
    expect(text).toContain('# TYPE delivery_batch_seconds histogram');
    expect(text).toContain('# TYPE delivery_queue_lag_seconds histogram');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  test('when the breaker of a domain closes, then its gauge goes back to 0', async () => {
    setBreakerState('example.com', false);
    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(text).toContain('delivery_domain_breaker_open{domain="example.com"} 0');
  });

  test('when our relay fails, then its reason is 1 and the held sends are counted, and every reason is 0 once it works again', async () => {
    setRelayFault('relay_auth');
    countRelayHeldSends('relay_auth', 7);
    let text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(text).toContain('delivery_relay_fault{reason="relay_auth"} 1');
    expect(text).toContain('delivery_relay_fault{reason="relay_dns"} 0');
    expect(text).toContain('delivery_relay_held_sends_total{reason="relay_auth"} 7');
    setRelayFault(null);
    text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(text).toContain('delivery_relay_fault{reason="relay_auth"} 0');
    expect(text).not.toMatch(/delivery_relay_fault\{[^}]*\} 1/);
  });

  test('when another path is asked for, then it answers 404', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(res.status).toBe(404);
    await res.text();
  });
});

describe('the shared logger', () => {
  function captured() {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    return { lines, logger: createLogger('test', 'info', stream) };
  }

  test('when a request with an Authorization header is logged, then the API key is not printed', () => {
    const { lines, logger } = captured();
    const key = 'dok_live_0123456789abcdefSECRET';
    logger.info(
      {
        req: {
          method: 'GET',
          url: '/v1/leads',
          headers: { authorization: `Bearer ${key}`, 'x-api-key': key, host: 'x' },
        },
      },
      'request',
    );
    const out = lines.join('');
    expect(out).not.toContain(key);
    expect(JSON.parse(out).req.headers).toMatchObject({
      authorization: '[redacted]',
      'x-api-key': '[redacted]',
      host: 'x',
    });
  });

  test('when credentials are logged inside an object, then passwords, tokens, channel secrets and API keys are masked', () => {
    const { lines, logger } = captured();
    logger.info(
      {
        account: { password: 'pw-1', user: 'u' },
        channel: { accessToken: 'tok-2', channelSecret: 'sec-3' },
        client: { apiKey: 'key-4' },
      },
      'x',
    );
    const out = lines.join('');
    for (const secret of ['pw-1', 'tok-2', 'sec-3', 'key-4']) expect(out).not.toContain(secret);
    expect(out).toContain('"user":"u"');
  });
});
