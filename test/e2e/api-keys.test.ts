// API keys over HTTP (issue 20): an admin lists, creates and revokes keys;
// the new key is in the creation's answer only, works at once with exactly
// its scopes, and is refused once revoked. Keys without the admin scope get
// 403 and see no key.
import { createApiKey } from '../../db/api-key-queries';
import { startHarness, uniqueSuffix, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

test('when an admin creates a key, then it is shown once, works with its scopes, and is refused after revoking', async () => {
  const name = `partner-${uniqueSuffix()}`;
  const created = await h.api('POST', '/v1/api-keys', { name, scopes: ['read'] });
  expect(created.status).toBe(201);
  const { key, apiKey } = created.body;
  expect(key).toMatch(/^dk_/);
  expect(apiKey).toMatchObject({ name, scopes: ['read'], status: 'active', revokedAt: null });
  expect(key.startsWith(apiKey.prefix)).toBe(true);

  // Listed without the key itself.
  const list = await h.api('GET', '/v1/api-keys');
  expect(list.status).toBe(200);
  const listed = list.body.items.find((k: any) => k.id === apiKey.id);
  expect(listed).toEqual(apiKey);
  expect(JSON.stringify(list.body)).not.toContain(key);

  // The new key reads, cannot write.
  expect((await h.api('GET', '/v1/leads?limit=1', undefined, { key })).status).toBe(200);
  expect((await h.api('POST', '/v1/leads', { name: 'x' }, { key })).status).toBe(403);

  const revoked = await h.api('POST', `/v1/api-keys/${apiKey.id}/revoke`);
  expect(revoked.status).toBe(200);
  expect(revoked.body).toMatchObject({ id: apiKey.id, status: 'revoked' });
  expect(revoked.body.revokedAt).not.toBeNull();
  const refused = await h.api('GET', '/v1/leads?limit=1', undefined, { key });
  expect(refused.status).toBe(401);
  expect(refused.body.message).toContain('revoked');

  // Revoking again is harmless and keeps the first time.
  const again = await h.api('POST', `/v1/api-keys/${apiKey.id}/revoke`);
  expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
});

test('when a key without the admin scope asks, then every API-key route answers 403', async () => {
  const { key } = await createApiKey(h.pool, `writer-${uniqueSuffix()}`, ['read', 'write']);
  expect((await h.api('GET', '/v1/api-keys', undefined, { key })).status).toBe(403);
  const created = await h.api('POST', '/v1/api-keys', { name: 'sneaky', scopes: ['admin'] }, { key });
  expect(created.status).toBe(403);
  expect((await h.pool.query(`SELECT 1 FROM api_key WHERE name = 'sneaky'`)).rowCount).toBe(0);
  expect((await h.api('POST', '/v1/api-keys/1/revoke', undefined, { key })).status).toBe(403);
});

test.each([
  [{ name: 'x', scopes: [] }, 'body.scopes'],
  [{ name: 'x', scopes: ['root'] }, 'body.scopes'],
  [{ name: '  ', scopes: ['read'] }, 'body.name'],
  [{ scopes: ['read'] }, 'body.name'],
])('when the body is bad (%j), then 400 names %s', async (body, field) => {
  const res = await h.api('POST', '/v1/api-keys', body);
  expect(res.status).toBe(400);
  expect(res.body.message).toContain(field);
});

test('when an unknown key is revoked, then 404', async () => {
  const res = await h.api('POST', '/v1/api-keys/2147483000/revoke');
  expect(res.status).toBe(404);
  expect(res.body.message).toContain('API key 2147483000');
});

test('when an admin key tries to revoke itself, then 409 and the key still works', async () => {
  const created = await h.api('POST', '/v1/api-keys', {
    name: `self-${uniqueSuffix()}`,
    scopes: ['read', 'write', 'admin'],
  });
  expect(created.status).toBe(201);
  const { key, apiKey } = created.body;
  const self = await h.api('POST', `/v1/api-keys/${apiKey.id}/revoke`, undefined, { key });
  expect(self.status).toBe(409);
  expect(self.body.message).toContain('another admin key');
  expect((await h.api('GET', '/v1/api-keys', undefined, { key })).status).toBe(200);
  // Another admin key can.
  expect((await h.api('POST', `/v1/api-keys/${apiKey.id}/revoke`)).status).toBe(200);
  expect((await h.api('GET', '/v1/api-keys', undefined, { key })).status).toBe(401);
});
