// The API key cannot be skipped by spelling a path differently (issue 14 §1).
// Requests go over a raw socket, not fetch: fetch (and curl without
// --path-as-is) normalise the target, and the point is to send exactly the
// bytes an attacker would. Authentication is decided by the route the router
// matched, so every spelling that reaches a protected route needs a key, and
// the per-key rate limit counts it.
import { connect } from 'node:net';
import pino from 'pino';
import { buildApp } from '../../api/app';
import { createApiKey } from '../../db/api-key-queries';
import { createConsoleUser, createSession, type ConsoleRole } from '../../db/console-user-queries';
import { startHarness, uniqueSuffix, type Harness } from '../support/harness';
import { registeredRoutes } from '../support/fixtures';

let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startHarness();
  port = Number(new URL(h.baseUrl).port);
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

/** One HTTP/1.1 request with the request target sent byte for byte as given. */
function raw(
  method: string,
  target: string,
  opts: { port?: number; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = {
    host: `127.0.0.1:${opts.port ?? port}`,
    connection: 'close',
    ...(opts.body === undefined
      ? {}
      : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(opts.body)) }),
    ...opts.headers,
  };
  const head =
    `${method} ${target} HTTP/1.1\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n';
  return new Promise((resolve, reject) => {
    const socket = connect(opts.port ?? port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const statusLine = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!statusLine) return reject(new Error(`no HTTP response to ${method} ${target}: ${text}`));
      resolve({
        status: Number(statusLine[1]),
        headers: split < 0 ? text : text.slice(0, split),
        body: split < 0 ? '' : text.slice(split + 4),
      });
    });
    socket.write(head + (opts.body ?? ''));
  });
}

/** Every spelling of `/v1/<rest>` the router might take for the real route. */
function spellings(rest: string, p: number): string[] {
  const [first, ...others] = rest.split('/');
  const tail = others.length ? `/${others.join('/')}` : '';
  const enc = (s: string, upper: boolean) => {
    const hex = s.charCodeAt(0).toString(16);
    return `%${upper ? hex.toUpperCase() : hex}${s.slice(1)}`;
  };
  return [
    `/${enc('v', false)}1/${rest}`, // /%761/leads (0x76 has no letter digit: case shows below)
    `/v%31/${rest}`,
    `/%76%31/${rest}`,
    `/v1/${enc(first!, false)}${tail}`, // /v1/%6ceads
    `/v1/${enc(first!, true)}${tail}`, // /v1/%6Ceads
    `/%76%31/${[...first!].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join('')}${tail}`,
    `//v1/${rest}`,
    `/v1//${rest}`,
    `/./v1/${rest}`,
    `/v1/./${rest}`,
    `/x/../v1/${rest}`,
    `/v1/x/../${rest}`,
    `/v1/%2e/${rest}`,
    `/v1/${rest}/`,
    `/v1;x=1/${rest}`,
    `/v1/${rest};x=1`,
    `/%761/${rest};`,
    `http://127.0.0.1:${p}/v1/${rest}`,
    `HTTP://127.0.0.1:${p}/%761/${rest}`,
    `http://attacker.example/v1/${rest}`,
    `http://127.0.0.1:${p}//v1/${rest}`,
  ];
}

const NOT_SERVED = [400, 401, 404, 414, 431];

describe('the API key is decided by the route that matched', () => {
  test('when a lead list is asked for by any spelling of its path without a key, then it is refused and no lead is shown', async () => {
    const marker = `secret-${uniqueSuffix()}`;
    expect((await h.api('POST', '/v1/leads', { name: marker })).status).toBe(201);
    const served: string[] = [];
    for (const target of spellings('leads', port)) {
      const res = await raw('GET', target);
      if (!NOT_SERVED.includes(res.status) || res.body.includes(marker))
        served.push(`${target} -> ${res.status} ${res.body.slice(0, 80)}`);
    }
    expect(served).toEqual([]);
    // HEAD, which Fastify derives from each GET route, is decided the same way.
    for (const target of ['/v1/leads', '/%761/leads', '/v%31/leads', `http://127.0.0.1:${port}/v1/leads`])
      expect([target, (await raw('HEAD', target)).status]).toEqual([target, 401]);
    // The plain spelling is refused as well, with a 401 that says how to send a key.
    const plain = await raw('GET', '/v1/leads');
    expect(plain.status).toBe(401);
    expect(plain.body).toContain('Authorization: Bearer');
  });

  test('when a lead is read by id through encoded and absolute-form paths without a key, then 401', async () => {
    const lead = await h.api('POST', '/v1/leads', { name: `by-id-${uniqueSuffix()}` });
    for (const target of [
      `/%761/leads/${lead.body.id}`,
      `/v%31/leads/${lead.body.id}`,
      `/v1/%6Ceads/${lead.body.id}`,
      `/V%31/leads/${lead.body.id}`,
      `http://127.0.0.1:${port}/v1/leads/${lead.body.id}`,
    ]) {
      const res = await raw('GET', target);
      expect([target, NOT_SERVED.includes(res.status), res.body.includes(lead.body.name)]).toEqual([
        target,
        true,
        false,
      ]);
    }
  });

  test('when a lead is created or an admin rule is added through an encoded path without a key, then 401 and nothing is stored', async () => {
    const name = `posted-${uniqueSuffix()}`;
    for (const target of ['/%761/leads', '/v%31/leads', `http://127.0.0.1:${port}/v1/leads`]) {
      const res = await raw('POST', target, { body: JSON.stringify({ name }) });
      expect([target, res.status]).toEqual([target, 401]);
    }
    expect((await h.pool.query('SELECT 1 FROM lead WHERE name = $1', [name])).rowCount).toBe(0);

    const domain = `bypass-${uniqueSuffix()}.example`;
    for (const target of [
      '/%761/domain-rules',
      '/v%31/domain-rules',
      '/v1/%64omain-rules',
      `http://127.0.0.1:${port}/v1/domain-rules`,
    ]) {
      const res = await raw('POST', target, { body: JSON.stringify({ domain }) });
      expect([target, res.status]).toEqual([target, 401]);
    }
    expect((await h.pool.query('SELECT 1 FROM domain_rule WHERE domain = $1', [domain])).rowCount).toBe(0);
  });

  test('when a path is very long or carries odd bytes, then the answer is a 4xx without data', async () => {
    for (const target of [
      `/%761/leads/${'1'.repeat(5_000)}`,
      `/v1/leads?${'a=1&'.repeat(3_000)}`,
      `/%761/${'leads/'.repeat(2_000)}`,
      `/v1/leads%00`,
      `/%761/leads%2f`,
      '*',
    ]) {
      const res = await raw('GET', target);
      expect([target.slice(0, 40), res.status >= 400 && res.status < 500]).toEqual([
        target.slice(0, 40),
        true,
      ]);
      expect(res.body).not.toContain('"items"');
    }
  });

  test('when every registered route is called without a key, then only the routes declared public answer', async () => {
    const publicRoutes = new Set([
      'GET /health',
      'GET /openapi.json',
      'GET /c/:token',
      'GET /o/:token',
      'GET /u/:token',
      'POST /u/:token',
      'GET /s/:code',
      'POST /v1/line/webhook/:accountId',
      // The console's login, session and logout check the session cookie themselves (test/e2e/console-auth).
      'GET /v1/console/session',
      'POST /v1/console/session',
      'DELETE /v1/console/session',
      // The console's page and its script and stylesheet hold no data (api/routes/console.ts).
      'GET /',
      'GET /console/:file',
    ]);
    const refused: string[] = [];
    const open: string[] = [];
    for (const r of registeredRoutes(h.app.printRoutes({ commonPrefix: false }))) {
      if (r.path.startsWith('/docs')) continue; // the documentation UI is public, checked below
      const target = r.path.replace(/:\w+/g, '1').replace(/\*/g, 'x');
      const res = await raw(r.method, target, r.method === 'GET' ? {} : { body: '{}' });
      const name = `${r.method} ${r.path}`;
      // The LINE webhook answers 401 for its own reason (no signature); only a demand for a key counts here.
      const keyDemanded = res.status === 401 && res.body.includes('an API key is required');
      if (publicRoutes.has(name)) {
        if (keyDemanded || res.status === 403) refused.push(`${name} -> ${res.status}`);
      } else if (!keyDemanded) open.push(`${name} -> ${res.status}`);
    }
    expect({ refused, open }).toEqual({ refused: [], open: [] });
    for (const [target, status] of [
      ['/docs', 200],
      ['/docs/static/swagger-ui.css', 200],
      ['/docs/json', 200],
    ] as const)
      expect([target, (await raw('GET', target)).status]).toEqual([target, status]);
    // An unmatched path says only that nothing is there.
    const missing = await raw('GET', '/v1/no-such-thing');
    expect(missing.status).toBe(404);
  });

  test('when a key is spent through encoded and absolute-form spellings, then the per-key rate limit counts them', async () => {
    const app = await buildApp({
      pool: h.pool,
      temporal: h.temporal,
      config: { ...h.config, apiRateLimitPerMinute: 3 },
      logger: pino({ level: 'silent' }),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const addr = app.server.address();
      const p = typeof addr === 'object' && addr ? addr.port : 0;
      const { key } = await createApiKey(h.pool, `limited-${uniqueSuffix()}`, ['read']);
      const headers = { authorization: `Bearer ${key}` };
      const statuses: number[] = [];
      for (const target of [
        '/%761/leads?limit=1',
        '/v%31/leads?limit=1',
        `http://127.0.0.1:${p}/v1/leads?limit=1`,
        '/v1/%6Ceads?limit=1',
      ])
        statuses.push((await raw('GET', target, { port: p, headers })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      // Public routes stay outside the per-key limit.
      expect((await raw('GET', '/health', { port: p, headers })).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});

/** A console user of this role with a live session: its cookie header and CSRF token. */
async function consoleSession(role: ConsoleRole): Promise<{ cookie: string; csrf: string; token: string }> {
  const user = await createConsoleUser(
    h.pool,
    `${role}-${uniqueSuffix()}`,
    role,
    `pw-${uniqueSuffix()}-long`,
  );
  const { token, session } = await createSession(h.pool, user!, 3600);
  return { cookie: `console_session=${token}`, csrf: session.csrfToken, token };
}

describe('the console session cookie is decided by the route that matched too', () => {
  test('when a forged, expired or idle session cookie is sent on any spelling, then 401 and no lead is shown', async () => {
    const marker = `cookie-secret-${uniqueSuffix()}`;
    expect((await h.api('POST', '/v1/leads', { name: marker })).status).toBe(201);
    const expired = await consoleSession('admin');
    await h.pool.query(
      `UPDATE console_session SET expires_at = now() - interval '1 second' WHERE token_hash = encode(sha256($1::bytea), 'hex')`,
      [expired.token],
    );
    const idle = await consoleSession('admin');
    await h.pool.query(
      `UPDATE console_session SET last_seen_at = now() - make_interval(mins => $2) WHERE token_hash = encode(sha256($1::bytea), 'hex')`,
      [idle.token, h.config.consoleSessionIdleMinutes],
    );
    const cookies = {
      forged: `console_session=${'A'.repeat(43)}`,
      expired: expired.cookie,
      idle: idle.cookie,
      'too long': `console_session=${'A'.repeat(5_000)}`,
    };
    const served: string[] = [];
    for (const [what, cookie] of Object.entries(cookies))
      for (const target of ['/v1/leads', ...spellings('leads', port)]) {
        const res = await raw('GET', target, { headers: { cookie } });
        if (!NOT_SERVED.includes(res.status) || res.body.includes(marker))
          served.push(`${what} ${target} -> ${res.status} ${res.body.slice(0, 80)}`);
      }
    expect(served).toEqual([]);
    const res = await raw('GET', '/v1/leads', { headers: { cookie: cookies.expired } });
    expect(res.status).toBe(401);
    expect(res.body).toContain('log in again');
  });

  test('when a viewer or a cookie without its CSRF token posts through encoded paths, then 403 and nothing is stored', async () => {
    const viewer = await consoleSession('viewer');
    const operator = await consoleSession('operator');
    const name = `cookie-post-${uniqueSuffix()}`;
    const domain = `cookie-${uniqueSuffix()}.example`;
    const statuses: string[] = [];
    for (const target of ['/v1/leads', '/%761/leads', '/v%31/leads', `http://127.0.0.1:${port}/v1/%6Ceads`]) {
      const body = JSON.stringify({ name });
      const asViewer = await raw('POST', target, {
        body,
        headers: { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf },
      });
      const withoutToken = await raw('POST', target, { body, headers: { cookie: operator.cookie } });
      statuses.push(`${target} ${asViewer.status} ${withoutToken.status}`);
    }
    for (const target of ['/v1/domain-rules', '/%761/domain-rules', '/v1/%64omain-rules']) {
      const res = await raw('POST', target, {
        body: JSON.stringify({ domain }),
        headers: { cookie: operator.cookie, 'x-csrf-token': operator.csrf },
      });
      statuses.push(`${target} ${res.status}`);
    }
    expect(statuses).toEqual([
      '/v1/leads 403 403',
      '/%761/leads 403 403',
      '/v%31/leads 403 403',
      `http://127.0.0.1:${port}/v1/%6Ceads 403 403`,
      '/v1/domain-rules 403',
      '/%761/domain-rules 403',
      '/v1/%64omain-rules 403',
    ]);
    expect((await h.pool.query('SELECT 1 FROM lead WHERE name = $1', [name])).rowCount).toBe(0);
    expect((await h.pool.query('SELECT 1 FROM domain_rule WHERE domain = $1', [domain])).rowCount).toBe(0);
  });

  test('when a console user spends requests through encoded spellings, then the per-user rate limit counts them', async () => {
    const app = await buildApp({
      pool: h.pool,
      temporal: h.temporal,
      config: { ...h.config, apiRateLimitPerMinute: 3 },
      logger: pino({ level: 'silent' }),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const addr = app.server.address();
      const p = typeof addr === 'object' && addr ? addr.port : 0;
      const { cookie } = await consoleSession('viewer');
      const statuses: number[] = [];
      for (const target of [
        '/%761/leads?limit=1',
        '/v%31/leads?limit=1',
        '/v1/leads?limit=1',
        '/v1/%6Ceads?limit=1',
      ])
        statuses.push((await raw('GET', target, { port: p, headers: { cookie } })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await app.close();
    }
  });
});

describe('the OpenAPI document says which routes need a key', () => {
  test('when the document is read, then public operations have no security and the others name the bearer scheme', async () => {
    const doc = (await (await fetch(`${h.baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown[]; responses?: Record<string, unknown> }>>;
    };
    const security = (path: string, method: string) => doc.paths[path]?.[method]?.security;
    for (const [path, method] of [
      ['/v1/console/session', 'post'],
      ['/v1/console/session', 'get'],
      ['/v1/console/session', 'delete'],
      ['/c/{token}', 'get'],
      ['/o/{token}', 'get'],
      ['/u/{token}', 'post'],
      ['/s/{code}', 'get'],
      ['/v1/line/webhook/{accountId}', 'post'],
    ] as const)
      expect([path, method, security(path, method)]).toEqual([path, method, []]);
    for (const [path, method] of [
      ['/v1/leads', 'get'],
      ['/v1/leads', 'post'],
      ['/v1/domain-rules', 'post'],
      ['/v1/wizard-runs/{id}', 'get'],
    ] as const) {
      expect([path, method, security(path, method)]).toEqual([
        path,
        method,
        [{ bearer: [] }, { consoleSession: [] }],
      ]);
      expect(Object.keys(doc.paths[path]![method]!.responses ?? {})).toEqual(
        expect.arrayContaining(['401', '403', '429']),
      );
    }
  });
});
