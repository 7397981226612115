// Issue 17: the open image's and the unsubscribe URL's tokens are derived from
// the send (encrypted under the database's tracking key), no longer stored one
// row per message. What a recipient must notice: the URLs in a mail work as
// before, a token stored before the change (a mail already in inboxes) still
// works, and a token nobody issued, or one of another part, finds nothing.
import { randomBytes } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

const PUBLIC_BASE = 'https://track.example.test';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ publicBaseUrl: PUBLIC_BASE });
});

afterAll(async () => {
  await h?.stop();
});

function hit(publicUrl: string, init: RequestInit = {}): Promise<Response> {
  expect(publicUrl.startsWith(PUBLIC_BASE)).toBe(true);
  return fetch(h.baseUrl + publicUrl.slice(PUBLIC_BASE.length), { redirect: 'manual', ...init });
}

const oneClick = (url: string) =>
  hit(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });

async function sentTo(n: number) {
  const tag = uniqueSuffix();
  const leads: Array<{ id: number; email: string }> = [];
  for (let i = 0; i < n; i++) {
    const email = `reader${i}.${tag}@example.test`;
    const res = await h.api('POST', '/v1/leads', { name: `Reader ${i}`, email });
    expect(res.status).toBe(201);
    leads.push({ id: res.body.id, email });
  }
  const tpl = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Derived tokens ${tag}`,
    subject: 'News',
    from: 'news@example.test',
    format: 'html',
    openTracking: true,
    bodyHtml: '<html><body><p>Hi</p><a href="{{unsubscribe_url}}">Unsubscribe</a></body></html>',
  });
  expect(tpl.status).toBe(201);
  const run = await h.api('POST', '/v1/wizard-runs', {
    templateId: tpl.body.id,
    leadIds: leads.map((l) => l.id),
  });
  expect(run.status).toBe(201);
  await waitFor(
    `run ${run.body.id} to complete`,
    async () => (await h.api('GET', `/v1/wizard-runs/${run.body.id}`)).body.status === 'completed',
    90_000,
  );
  const out = [];
  for (const l of leads) {
    const [mail] = h.sink.messagesTo(l.email);
    expect(mail).toBeDefined();
    const unsubscribe = /^<(https:\/\/track\.example\.test\/u\/[A-Za-z0-9_-]{22})>$/.exec(
      mail!.headers.get('list-unsubscribe') ?? '',
    )?.[1];
    const parsed = await simpleParser(mail!.raw);
    const html = typeof parsed.html === 'string' ? parsed.html : '';
    const open = /<img src="(https:\/\/track\.example\.test\/o\/[A-Za-z0-9_-]{22})"/.exec(html)?.[1];
    expect(unsubscribe).toBeDefined();
    expect(open).toBeDefined();
    out.push({ ...l, runId: run.body.id as number, unsubscribe: unsubscribe!, open: open! });
  }
  return out;
}

const unsubscribedAt = async (leadId: number) =>
  (await h.api('GET', `/v1/leads/${leadId}`)).body.unsubscribed.email as string | null;

describe('derived open and unsubscribe tokens', () => {
  test('when a run sends, then no token row is stored per message, and each mail has its own open and unsubscribe URL that work', async () => {
    const [a, b] = await sentTo(2);
    const stored = await h.pool.query(
      `SELECT count(*)::int AS n FROM tracked_link l JOIN send s ON s.id = l.send_id WHERE s.run_id = $1`,
      [a!.runId],
    );
    expect(stored.rows[0].n).toBe(0);
    expect(new Set([a!.unsubscribe, b!.unsubscribe, a!.open, b!.open]).size).toBe(4);

    expect((await hit(a!.open)).status).toBe(200);
    expect((await oneClick(a!.unsubscribe)).status).toBe(200);
    expect(await unsubscribedAt(a!.id)).toEqual(expect.any(String));
    expect(await unsubscribedAt(b!.id)).toBeNull();
    const counters = (await h.api('GET', `/v1/wizard-runs/${a!.runId}`)).body.counters;
    expect(counters).toMatchObject({ unsubscribes: 1 });
  });

  test('when an open token is used as an unsubscribe token, or a token nobody issued is used, then nothing is found and nobody is unsubscribed', async () => {
    const [c] = await sentTo(1);
    const openToken = c!.open.slice(c!.open.lastIndexOf('/') + 1);
    expect((await oneClick(`${PUBLIC_BASE}/u/${openToken}`)).status).toBe(404);
    const forged = randomBytes(16).toString('base64url');
    expect((await oneClick(`${PUBLIC_BASE}/u/${forged}`)).status).toBe(404);
    expect((await hit(`${PUBLIC_BASE}/o/${forged}`, { method: 'HEAD' })).status).toBe(404);
    expect(await unsubscribedAt(c!.id)).toBeNull();
  });

  test('when a mail sent before carries a stored token (tracked_link), then its unsubscribe URL still works', async () => {
    const [d] = await sentTo(1);
    const send = await h.pool.query<{ id: string }>('SELECT id FROM send WHERE run_id = $1', [d!.runId]);
    const stored = randomBytes(16).toString('base64url');
    await h.pool.query(
      `INSERT INTO tracked_link (send_id, part, url, token) VALUES ($1, 'unsubscribe', '', $2)`,
      [send.rows[0]!.id, stored],
    );
    expect((await oneClick(`${PUBLIC_BASE}/u/${stored}`)).status).toBe(200);
    expect(await unsubscribedAt(d!.id)).toEqual(expect.any(String));
  });
});
