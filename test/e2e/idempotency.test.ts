// Repeats are harmless (issue 14, item 7): an Idempotency-Key on single sends
// and wizard runs, against the real API, Temporal, PostgreSQL and SMTP sink.
import { requestFingerprint } from '../../api/idempotency';
import { createApiKey, findApiKey } from '../../db/api-key-queries';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

async function lead(tag: string, i = 0): Promise<{ id: number; email: string }> {
  const email = `idem${i}.${tag}@example.test`;
  const res = await h.api('POST', '/v1/leads', { name: `I${i}`, email });
  expect(res.status).toBe(201);
  return { id: res.body.id, email };
}

async function template(tag: string): Promise<number> {
  const res = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Idem ${tag}`,
    format: 'text',
    subject: 'Once',
    from: 'news@example.test',
    bodyText: 'Only once',
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

const withKey = (key: string) => ({ headers: { 'idempotency-key': key } });
const sendsTo = async (leadId: number) =>
  Number((await h.pool.query('SELECT count(*) FROM send WHERE lead_id = $1', [leadId])).rows[0].count);

describe('POST /v1/messages with an Idempotency-Key', () => {
  test('when a client repeats a send with the same key, then it gets the first answer and one mail arrives', async () => {
    const tag = uniqueSuffix();
    const l = await lead(tag);
    const templateId = await template(tag);
    const key = `send-${tag}`;
    const first = await h.api('POST', '/v1/messages', { leadId: l.id, templateId }, withKey(key));
    expect(first.status).toBe(201);
    const again = await h.api('POST', '/v1/messages', { templateId, leadId: l.id }, withKey(key));
    expect(again).toEqual(first);
    await h.sink.waitFor(() => h.sink.messagesTo(l.email).length >= 1, 30_000);
    expect(h.sink.messagesTo(l.email)).toHaveLength(1);
    expect(await sendsTo(l.id)).toBe(1);
  });

  test('when the same key comes with a different body, then the answer is 422 naming the key and nothing is sent', async () => {
    const tag = uniqueSuffix();
    const a = await lead(tag, 0);
    const b = await lead(tag, 1);
    const templateId = await template(tag);
    const key = `reuse-${tag}`;
    expect((await h.api('POST', '/v1/messages', { leadId: a.id, templateId }, withKey(key))).status).toBe(
      201,
    );
    const other = await h.api('POST', '/v1/messages', { leadId: b.id, templateId }, withKey(key));
    expect(other.status).toBe(422);
    expect(other.body.message).toContain(
      `Idempotency-Key "${key}" was already used with a different request`,
    );
    expect(await sendsTo(b.id)).toBe(0);
  });

  test('when five identical requests arrive at once, then one mail is sent and all get the same answer', async () => {
    const tag = uniqueSuffix();
    const l = await lead(tag);
    const templateId = await template(tag);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        h.api('POST', '/v1/messages', { leadId: l.id, templateId }, withKey(`burst-${tag}`)),
      ),
    );
    expect(answers[0]!.status).toBe(201);
    for (const a of answers) expect(a).toEqual(answers[0]);
    expect(await sendsTo(l.id)).toBe(1);
    expect(h.sink.messagesTo(l.email)).toHaveLength(1);
  });

  test('when another API key uses the same key, then its request is its own', async () => {
    const tag = uniqueSuffix();
    const l = await lead(tag);
    const templateId = await template(tag);
    const { key: otherKey } = await createApiKey(h.pool, `other-${tag}`, ['read', 'write']);
    const key = `shared-${tag}`;
    const mine = await h.api('POST', '/v1/messages', { leadId: l.id, templateId }, withKey(key));
    const theirs = await h.api(
      'POST',
      '/v1/messages',
      { leadId: l.id, templateId },
      { key: otherKey, ...withKey(key) },
    );
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(await sendsTo(l.id)).toBe(2);
  });

  test('when the request holding a key died before creating anything, then a retry ten minutes on runs; one still within that time is waited for, not run beside it', async () => {
    const tag = uniqueSuffix();
    const l = await lead(tag);
    const templateId = await template(tag);
    const apiKeyId = (await findApiKey(h.pool, h.apiKey))!.id;
    const hash = requestFingerprint('POST /v1/messages', { leadId: l.id, templateId });
    const held = (key: string, resource: string | null, minutesAgo: number) =>
      h.pool.query(
        `INSERT INTO idempotency_key (api_key_id, key, route, request_hash, resource, created_at)
         VALUES ($1, $2, 'POST /v1/messages', $3, $4, now() - make_interval(mins => $5))`,
        [apiKeyId, key, hash, resource, minutesAgo],
      );
    await held(`died-${tag}`, null, 11);
    const retried = await h.api('POST', '/v1/messages', { leadId: l.id, templateId }, withKey(`died-${tag}`));
    expect(retried.status).toBe(201);
    expect(await sendsTo(l.id)).toBe(1);
    // A request that is only slow (held a moment ago) is waited for, not run beside it.
    await held(`slow-${tag}`, null, 0);
    const waiting = h.api('POST', '/v1/messages', { leadId: l.id, templateId }, withKey(`slow-${tag}`));
    await h.pool.query(
      `UPDATE idempotency_key SET status_code = 201, response_body = $3, completed_at = now() WHERE api_key_id = $1 AND key = $2`,
      [apiKeyId, `slow-${tag}`, JSON.stringify(retried.body)],
    );
    expect(await waiting).toEqual(retried);
    expect(await sendsTo(l.id)).toBe(1);
  });

  test('when the key is not printable ASCII or too long, then the answer is 400 naming the header', async () => {
    const tag = uniqueSuffix();
    const l = await lead(tag);
    const templateId = await template(tag);
    const res = await h.api('POST', '/v1/messages', { leadId: l.id, templateId }, withKey('x'.repeat(256)));
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('idempotency-key');
    expect(await sendsTo(l.id)).toBe(0);
  });
});

describe('POST /v1/wizard-runs with an Idempotency-Key', () => {
  test('when a client repeats a run with the same key, then one run exists, the answer is the same and each lead gets one mail', async () => {
    const tag = uniqueSuffix();
    const leads = [await lead(tag, 0), await lead(tag, 1)];
    const templateId = await template(tag);
    const body = { templateId, leadIds: leads.map((l) => l.id) };
    const first = await h.api('POST', '/v1/wizard-runs', body, withKey(`run-${tag}`));
    expect(first.status).toBe(201);
    const again = await h.api('POST', '/v1/wizard-runs', body, withKey(`run-${tag}`));
    expect(again).toEqual(first);
    const runs = await h.pool.query('SELECT id FROM wizard_run WHERE template_id = $1', [templateId]);
    expect(runs.rows.map((r) => r.id)).toEqual([first.body.id]);
    await waitFor('the run to complete', async () => {
      const r = await h.api('GET', `/v1/wizard-runs/${first.body.id}`);
      return r.body.status === 'completed';
    });
    for (const l of leads) expect(h.sink.messagesTo(l.email)).toHaveLength(1);

    const changed = await h.api(
      'POST',
      '/v1/wizard-runs',
      { ...body, leadIds: [leads[0]!.id] },
      withKey(`run-${tag}`),
    );
    expect(changed.status).toBe(422);
  });
});

test('the OpenAPI document describes the Idempotency-Key header of both routes', async () => {
  const doc = (await h.api('GET', '/openapi.json')).body;
  for (const path of ['/v1/messages', '/v1/wizard-runs']) {
    const op = doc.paths[path].post;
    expect(op.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ in: 'header', name: 'idempotency-key', required: false }),
      ]),
    );
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['409', '422']));
  }
});
