// API keys, management routes and the OpenAPI contract over real HTTP.
import { spawnSync } from 'node:child_process';
import pino from 'pino';
import { buildApp } from '../../api/app';
import { createApiKey, hashApiKey, revokeApiKey } from '../../db/api-key-queries';
import { startHarness, uniqueSuffix, type Harness } from '../support/harness';
import { registeredRoutes } from '../support/fixtures';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

const newLead = async (name = `n-${uniqueSuffix()}`) =>
  (await h.api('POST', '/v1/leads', { name, email: `${uniqueSuffix()}@x.jp` })).body;

describe('auth', () => {
  test('when no key is sent, then a /v1 route answers 401 and says how to send one', async () => {
    const res = await h.api('GET', '/v1/leads', undefined, { key: null });
    expect(res.status).toBe(401);
    expect(res.body.message).toContain('Authorization: Bearer');
  });

  test('when the key is revoked, then it is refused with 401', async () => {
    const { key, row } = await createApiKey(h.pool, 'gone', ['read']);
    expect((await h.api('GET', '/v1/leads?limit=1', undefined, { key })).status).toBe(200);
    await revokeApiKey(h.pool, row.id);
    const res = await h.api('GET', '/v1/leads?limit=1', undefined, { key });
    expect(res.status).toBe(401);
    expect(res.body.message).toContain('revoked');
  });

  test('when a read-only key posts, then it gets 403 and nothing is created', async () => {
    const { key } = await createApiKey(h.pool, 'reader', ['read']);
    const name = `ro-${uniqueSuffix()}`;
    const res = await h.api('POST', '/v1/leads', { name }, { key });
    expect(res.status).toBe(403);
    const found = await h.pool.query('SELECT 1 FROM lead WHERE name = $1', [name]);
    expect(found.rowCount).toBe(0);
  });

  test('when the key comes as X-Api-Key, then it is accepted; an unknown key gets 401', async () => {
    expect(
      (await h.api('GET', '/v1/leads?limit=1', undefined, { key: null, headers: { 'x-api-key': h.apiKey } }))
        .status,
    ).toBe(200);
    expect((await h.api('GET', '/v1/leads?limit=1', undefined, { key: 'dk_nope' })).status).toBe(401);
  });

  test('when public routes are called without a key, then they answer without 401', async () => {
    for (const path of ['/health', '/openapi.json', '/c/unknown-token']) {
      const res = await fetch(`${h.baseUrl}${path}`, { redirect: 'manual' });
      expect([path, res.status === 401 || res.status === 403]).toEqual([path, false]);
    }
    expect((await fetch(`${h.baseUrl}/docs`, { redirect: 'manual' })).status).toBeLessThan(400);
  });
});

describe('leads management', () => {
  test('when a lead is patched, deleted and listed, then the list leaves it but the row stays', async () => {
    const lead = await newLead();
    const patched = await h.api('PATCH', `/v1/leads/${lead.id}`, { name: 'renamed', smsPermission: false });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'renamed', smsPermission: false });
    expect((await h.api('DELETE', `/v1/leads/${lead.id}`)).status).toBe(204);
    expect((await h.api('DELETE', `/v1/leads/${lead.id}`)).status).toBe(204);
    const list = await h.api('GET', `/v1/leads?email=${encodeURIComponent(lead.email)}`);
    expect(list.body.items).toEqual([]);
    const all = await h.api('GET', `/v1/leads?email=${encodeURIComponent(lead.email)}&includeRemoved=true`);
    expect(all.body.items[0].deletedAt).not.toBeNull();
    expect((await h.api('PATCH', `/v1/leads/${lead.id}`, { name: 'x' })).status).toBe(404);
  });

  test('when a lead is merged, then it leaves the list, its sends stay under its id, and a second merge is a conflict', async () => {
    const a = await newLead();
    const b = await newLead();
    await h.pool.query(
      `INSERT INTO send (channel, lead_id, address, token, result, created_at, updated_at) VALUES ('email', $1, $2, $3, 'delivered', now(), now())`,
      [a.id, a.email, uniqueSuffix()],
    );
    const res = await h.api('POST', `/v1/leads/${a.id}/merge`, { intoId: b.id });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(b.id);
    expect((await h.api('GET', `/v1/sends?leadId=${a.id}`)).body.items).toHaveLength(1);
    expect((await h.api('GET', `/v1/leads?email=${encodeURIComponent(a.email)}`)).body.items).toEqual([]);
    expect((await h.api('POST', `/v1/leads/${a.id}/merge`, { intoId: b.id })).status).toBe(409);
    expect((await h.api('POST', `/v1/leads/${b.id}/merge`, { intoId: b.id })).status).toBe(400);
    const missing = await h.api('POST', `/v1/leads/${b.id}/merge`, { intoId: 2147483000 });
    expect([missing.status, missing.body.field]).toEqual([400, 'body.intoId']);
  });

  test('when a CSV mixes valid and invalid rows, then valid rows go in and each bad row is reported with its field', async () => {
    const tag = uniqueSuffix();
    const csv = [
      'name,email,phone_mobile,sms_permission,dm_permission,plan',
      `ok1-${tag},a-${tag}@x.jp,090-1234-5678,true,no,gold`,
      `bad-${tag},not-an-email,,true,true,`,
      `"ok2, quoted-${tag}",,,,,silver`,
      `bad2-${tag},b-${tag}@x.jp,,maybe,true,`,
    ].join('\n');
    const res = await h.api('POST', '/v1/leads/import', csv, { headers: { 'content-type': 'text/csv' } });
    expect(res.status).toBe(200);
    expect(res.body.inserted).toBe(2);
    expect(res.body.errors).toEqual([
      { row: 3, field: 'email', message: expect.any(String) },
      { row: 5, field: 'sms_permission', message: expect.any(String) },
    ]);
    const rows = await h.pool.query(
      'SELECT name, phones, dm_permission, attributes FROM lead WHERE id = ANY($1) ORDER BY id',
      [res.body.ids],
    );
    expect(rows.rows[0]).toMatchObject({
      phones: { mobile: '090-1234-5678' },
      dm_permission: false,
      attributes: { plan: 'gold' },
    });
    expect(rows.rows[1].name).toBe(`ok2, quoted-${tag}`);
  });

  test('when bad input reaches the lead routes, then they answer 4xx and never 5xx', async () => {
    expect((await h.api('PATCH', '/v1/leads/1', { colour: 'red' })).status).toBe(400);
    expect((await h.api('PATCH', '/v1/leads/1', {})).status).toBe(400);
    expect((await h.api('PATCH', '/v1/leads/2147483000', { name: 'x' })).status).toBe(404);
    expect((await h.api('DELETE', '/v1/leads/abc')).status).toBe(400);
    expect((await h.api('GET', '/v1/leads?limit=501')).status).toBe(400);
    expect((await h.api('GET', '/v1/leads?cursor=-1')).status).toBe(400);
    expect(
      (await h.api('GET', `/v1/leads?name=${encodeURIComponent("'; DROP TABLE lead; --")}`)).status,
    ).toBe(200);
    const big = 'name\n' + 'x\n'.repeat(1_100_000);
    expect(
      (await h.api('POST', '/v1/leads/import', big, { headers: { 'content-type': 'text/csv' } })).status,
    ).toBe(413);
  });
});

describe('templates and segments management', () => {
  test('when a template is patched, then it is checked as a whole and listed', async () => {
    const t = await h.api('POST', '/v1/templates', {
      channel: 'email',
      title: `T-${uniqueSuffix()}`,
      subject: 's',
      from: 'a@x.jp',
      bodyText: 'hi',
    });
    expect(t.status).toBe(201);
    const p = await h.api('PATCH', `/v1/templates/${t.body.id}`, { memo: 'new memo' });
    expect(p.status).toBe(200);
    expect(p.body.memo).toBe('new memo');
    expect((await h.api('PATCH', `/v1/templates/${t.body.id}`, { format: 'html' })).status).toBe(400);
    expect((await h.api('PATCH', `/v1/templates/${t.body.id}`, { channel: 'sms' })).status).toBe(400);
    const list = await h.api('GET', `/v1/templates?title=${encodeURIComponent(t.body.title)}`);
    expect(list.body.items.map((i: { id: number }) => i.id)).toEqual([t.body.id]);
  });

  test('when a segment is patched and deleted, then a bad filter is refused and the delete is final', async () => {
    const s = await h.api('POST', '/v1/segments', {
      name: `S-${uniqueSuffix()}`,
      channel: 'email',
      filter: {},
    });
    expect(
      (await h.api('PATCH', `/v1/segments/${s.body.id}`, { filter: { field: 'nope', op: 'eq', value: 1 } }))
        .status,
    ).toBe(400);
    expect((await h.api('PATCH', `/v1/segments/${s.body.id}`, { name: 'renamed' })).body.name).toBe(
      'renamed',
    );
    const list = await h.api('GET', `/v1/segments?name=renamed&limit=500`);
    expect(list.body.items.some((i: { id: number }) => i.id === s.body.id)).toBe(true);
    expect((await h.api('DELETE', `/v1/segments/${s.body.id}`)).status).toBe(204);
    expect((await h.api('DELETE', `/v1/segments/${s.body.id}`)).status).toBe(404);
  });
});

describe('OpenAPI document', () => {
  test('when the document is read, then every /v1 route Fastify serves is in it with every method, its statuses and the bearer scheme', async () => {
    const doc = (await (await fetch(`${h.baseUrl}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          {
            responses?: Record<string, unknown>;
            security?: unknown[];
            parameters?: unknown[];
            requestBody?: unknown;
          }
        >
      >;
      components: { securitySchemes: Record<string, { scheme?: string }> };
      security: unknown[];
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearer?.scheme).toBe('bearer');
    expect(doc.security).toEqual([{ bearer: [] }]);
    const routes = registeredRoutes(h.app.printRoutes({ commonPrefix: false })).filter((r) =>
      r.path.startsWith('/v1/'),
    );
    expect(routes.length).toBeGreaterThan(20);
    const missing: string[] = [];
    for (const r of routes) {
      const op = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
      if (!op) {
        missing.push(`${r.method} ${r.path}: not in the document`);
        continue;
      }
      const statuses = Object.keys(op.responses ?? {});
      if (!statuses.some((st) => st.startsWith('2'))) missing.push(`${r.method} ${r.path}: no 2xx response`);
      const takesInput = (op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined;
      if (takesInput && !statuses.includes('400'))
        missing.push(`${r.method} ${r.path}: takes input but declares no 400`);
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      if (!isPublic && !['401', '403', '429'].every((st) => statuses.includes(st)))
        missing.push(`${r.method} ${r.path}: no 401/403/429`);
    }
    expect(missing).toEqual([]);
  });
});

describe('rate limit and logs', () => {
  test('when one key exceeds the per-minute limit, then it gets 429 while another key goes on, and no key reaches the log', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const app = await buildApp({
      pool: h.pool,
      temporal: h.temporal,
      config: { ...h.config, apiRateLimitPerMinute: 3 },
      logger,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const addr = app.server.address();
      const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
      const { key: other } = await createApiKey(h.pool, 'other', ['read']);
      const get = (key: string) =>
        fetch(`${base}/v1/leads?limit=1`, { headers: { authorization: `Bearer ${key}` } });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await get(h.apiKey)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = (await (await get(h.apiKey)).json()) as { message: string };
      expect(limited.message).toContain('rate limit');
      expect((await get(other)).status).toBe(200);
      expect((await fetch(`${base}/health`)).status).toBe(200);
    } finally {
      await app.close();
    }
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(h.apiKey.slice(10));
  });
});

describe('api-key CLI', () => {
  const cli = (...args: string[]) =>
    spawnSync('npx', ['tsx', 'api/cli/api-key.ts', ...args], {
      env: { ...process.env, DATABASE_URL: process.env.TEST_DATABASE_URL_READY },
      encoding: 'utf8',
    });

  test('when a key is created, listed and revoked by the CLI, then the API accepts it, then refuses it', async () => {
    const name = `cli-${uniqueSuffix()}`;
    const created = cli('create', '--name', name, '--scopes', 'read');
    expect(created.status).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^dk_[A-Za-z0-9_-]{43}$/);
    expect((await h.api('GET', '/v1/leads?limit=1', undefined, { key })).status).toBe(200);
    const row = await h.pool.query<{ id: number; hash: string }>(
      'SELECT id, hash FROM api_key WHERE name = $1',
      [name],
    );
    expect(row.rows[0]!.hash).toBe(hashApiKey(key));
    const listed = cli('list');
    expect(listed.stdout).toContain(name);
    expect(listed.stdout).not.toContain(key);
    expect(cli('revoke', String(row.rows[0]!.id)).status).toBe(0);
    expect((await h.api('GET', '/v1/leads?limit=1', undefined, { key })).status).toBe(401);
    expect(cli('create', '--name', 'x', '--scopes', 'root').status).toBe(2);
  }, 60_000);
});
