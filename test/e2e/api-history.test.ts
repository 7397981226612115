// History search (SPEC 9) over real HTTP and the real database: the API's
// answers are compared with a plain JS filter over the same generated rows.
import { startHarness, uniqueSuffix, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 600_000);
afterAll(async () => {
  await h?.stop();
});

const ALPHABET = ['a', 'A', 'b', 'B', '%', '_', '\\', 'x', ' ', "'"];
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const word = (n: number) => Array.from({ length: n }, () => pick(ALPHABET)).join('');

interface GenRun {
  id: number;
  title: string;
  memo: string;
  status: string;
  channel: string;
  createdAt: Date;
}

async function insertRuns(base: Date, n: number, channel?: string): Promise<GenRun[]> {
  const out: GenRun[] = [];
  for (let i = 0; i < n; i++) {
    const r = {
      title: word(1 + Math.floor(Math.random() * 6)),
      memo: word(3),
      status: pick(['completed', 'error', 'cancelled']),
      channel: channel ?? pick(['email', 'sms']),
    };
    const createdAt = new Date(base.getTime() + Math.floor(Math.random() * 5) * 1000);
    const res = await h.pool.query<{ id: number }>(
      `INSERT INTO wizard_run (channel, template_id, template_title, template_memo, target_kind, status, workflow_id, created_at, updated_at, sent_count, delivered_count)
       VALUES ($1, 1, $2, $3, 'list', $4, $6, $5, $5, 4, 3) RETURNING id`,
      [r.channel, r.title, r.memo, r.status, createdAt, `test-${uniqueSuffix()}-${i}`],
    );
    out.push({ ...r, id: res.rows[0]!.id, createdAt });
  }
  return out;
}

async function allPages(path: string, limit: number): Promise<number[]> {
  const ids: number[] = [];
  let cursor: string | null = null;
  for (let guard = 0; guard < 100; guard++) {
    const res: { status: number; body: any } = await h.api(
      'GET',
      `${path}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect([path, res.status, res.body.message]).toEqual([path, 200, undefined]);
    ids.push(...res.body.items.map((i: { id: number | string }) => Number(i.id)));
    cursor = res.body.nextCursor;
    if (!cursor) return ids;
  }
  throw new Error('pagination did not end');
}

describe('run search', () => {
  test('when random runs are searched with random queries, then the API returns exactly what a plain filter returns, across pages', async () => {
    const base = new Date(
      Date.UTC(1990 + Math.floor(Math.random() * 30), 0, 1) + Math.floor(Math.random() * 1e9),
    );
    const runs = await insertRuns(base, 40);
    const window = `createdFrom=${base.toISOString()}&createdTo=${new Date(base.getTime() + 10_000).toISOString()}`;
    for (let k = 0; k < 25; k++) {
      let needle = word(1 + Math.floor(Math.random() * 2));
      if (needle.trim() === '') needle = 'a';
      const statuses = ['completed', 'error', 'cancelled'].filter(() => Math.random() < 0.5);
      const channel = Math.random() < 0.5 ? pick(['email', 'sms']) : null;
      // Simple search (q) matches title or memo; detailed search the title alone.
      const simple = Math.random() < 0.3;
      const asc = Math.random() < 0.5;
      const expected = runs
        .filter((r) => r.title.includes(needle) || (simple && r.memo.includes(needle)))
        .filter((r) => statuses.length === 0 || statuses.includes(r.status))
        .filter((r) => channel === null || r.channel === channel)
        .sort((a, b) => (asc ? -1 : 1) * (b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id))
        .map((r) => r.id);
      const qs = [
        `${simple ? 'q' : 'title'}=${encodeURIComponent(needle)}`,
        `order=${asc ? 'asc' : 'desc'}`,
        ...statuses.map((s) => `status=${s}`),
        ...(channel ? [`channel=${channel}`] : []),
      ];
      const got = await allPages(
        `/v1/wizard-runs?${window}&${qs.join('&')}`,
        1 + Math.floor(Math.random() * 7),
      );
      expect({ needle, ids: got }).toEqual({ needle, ids: expected });
    }
  }, 600_000);

  test('when sorted by id ascending and paged, then every run appears once in order and items carry counters and figures', async () => {
    const base = new Date(Date.UTC(1970, 0, 2) + Math.floor(Math.random() * 1e9));
    // Email: an SMS run counts message parts as sent (SPEC 6), not sent_count.
    const runs = await insertRuns(base, 7, 'email');
    const window = `createdFrom=${base.toISOString()}&createdTo=${new Date(base.getTime() + 10_000).toISOString()}`;
    const got = await allPages(`/v1/wizard-runs?${window}&sort=id&order=asc`, 2);
    expect(got).toEqual(runs.map((r) => r.id).sort((a, b) => a - b));
    const one = await h.api('GET', `/v1/wizard-runs?${window}&limit=1`);
    expect(one.body.items[0].counters.sent).toBe(4);
    expect(one.body.items[0].figures.deliveryRate).toBe(75);
  });

  test.each([
    ['an empty title', 'title=', 'blank'],
    ['a malformed cursor', 'cursor=%%%', 'cursor'],
    [
      'a cursor of another sort',
      'sort=id&cursor=' +
        Buffer.from(JSON.stringify({ s: 'createdAt', o: 'desc', v: null, i: '5' })).toString('base64url'),
      'sort',
    ],
    ['a huge page', 'limit=100000', 'limit'],
    ['an unknown field', 'colour=red', 'unknown field'],
    ['a time without zone', 'createdFrom=2026-01-01T00:00:00', 'zone'],
    ['a reversed range', 'createdFrom=2026-02-01T00:00:00Z&createdTo=2026-01-01T00:00:00Z', 'after'],
    ['an unknown sort', 'sort=title', 'sort'],
  ])('when the run search gets %s, then it answers 400 saying what is wrong', async (_what, qs, words) => {
    const res = await h.api('GET', `/v1/wizard-runs?${qs}`);
    expect(res.status).toBe(400);
    expect(res.body.message).toContain(words);
  });

  test('when the search text looks like SQL, then it is matched literally and nothing changes', async () => {
    const before = await h.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM lead');
    const res = await h.api('GET', `/v1/wizard-runs?title=${encodeURIComponent("'; DROP TABLE lead; --")}`);
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([]);
    const after = await h.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM lead');
    expect(after.rows[0]!.n).toBeGreaterThanOrEqual(before.rows[0]!.n);
  });
});

describe('send search', () => {
  test('when random sends are searched by address, result and code, then the API agrees with a plain filter', async () => {
    const lead = await h.pool.query<{ id: number }>(
      `INSERT INTO lead (name, created_at, updated_at) VALUES ('s', now(), now()) RETURNING id`,
    );
    const leadId = lead.rows[0]!.id;
    const sends: Array<{ id: number; address: string; result: string; code: number }> = [];
    for (let i = 0; i < 30; i++) {
      const s = {
        address: `${word(3)}@${pick(['x.jp', 'X.jp'])}`,
        result: pick(['delivered', 'error', 'sent']),
        code: pick([200, 550, 421]),
      };
      const res = await h.pool.query<{ id: string }>(
        `INSERT INTO send (channel, lead_id, address, template_title, token, result, code, created_at, updated_at)
         VALUES ('email', $1, $2, 't', $3, $4, $5, now(), now()) RETURNING id`,
        [leadId, s.address, uniqueSuffix() + i, s.result, s.code],
      );
      sends.push({ ...s, id: Number(res.rows[0]!.id) });
    }
    for (let k = 0; k < 15; k++) {
      const needle = pick(['@x', '@X', 'a', '%', '_', '\\', 'A@']);
      const results = ['delivered', 'error', 'sent'].filter(() => Math.random() < 0.5);
      const codes = [200, 550, 421].filter(() => Math.random() < 0.5);
      const expected = sends
        .filter(
          (s) =>
            s.address.includes(needle) &&
            (!results.length || results.includes(s.result)) &&
            (!codes.length || codes.includes(s.code)),
        )
        .map((s) => s.id)
        .sort((a, b) => b - a);
      const qs = [
        `leadId=${leadId}`,
        'channel=email',
        `address=${encodeURIComponent(needle)}`,
        ...results.map((r) => `result=${r}`),
        ...codes.map((c) => `code=${c}`),
      ];
      expect(await allPages(`/v1/sends?${qs.join('&')}`, 4)).toEqual(expected);
    }
  }, 600_000);

  test.each([
    ['an empty address', 'address='],
    ['a result that does not exist', 'result=bounced'],
    ['a malformed cursor', 'cursor=eyJ4Ijox'],
    ['a non-numeric lead id', 'leadId=abc'],
  ])('when the send search gets %s, then it answers 400', async (_w, qs) => {
    const res = await h.api('GET', `/v1/sends?${qs}`);
    expect(res.status).toBe(400);
    expect(res.body.statusCode).toBe(400);
  });
});
