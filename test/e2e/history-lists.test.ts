// Issue 18 through the API on the real stack: a run's lists (未開封者, the
// clickers of one URL) and their CSV exports, a lead's access log with the
// machine-click mark, the lead search by send history saved as a segment a
// run sends to, usage per day and month in the account's time zone, and
// labels in Japanese or English by Accept-Language.
import iconv from 'iconv-lite';
import { randomInt } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

const PUBLIC_BASE = 'https://track.example.test';
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
const URL_SALE = 'https://shop.example.test/sale';
const URL_ABOUT = 'https://example.test/about';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ publicBaseUrl: PUBLIC_BASE, sendBatchSize: 10 });
});

afterAll(async () => {
  await h?.stop();
});

/** The reader's request; every reader here comes from the loopback address, recorded as the IP. */
function hit(publicUrl: string, ua: string): Promise<Response> {
  expect(publicUrl.startsWith(PUBLIC_BASE)).toBe(true);
  return fetch(h.baseUrl + publicUrl.slice(PUBLIC_BASE.length), {
    redirect: 'manual',
    headers: { 'user-agent': ua },
  });
}
const LOOPBACK = expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$|^::1$/);

async function lead(name: string, email: string, extra: Record<string, unknown> = {}): Promise<number> {
  const res = await h.api('POST', '/v1/leads', { name, email, ...extra });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function completedRun(body: Record<string, unknown>): Promise<any> {
  const created = await h.api('POST', '/v1/wizard-runs', body);
  expect(created.status).toBe(201);
  return waitFor(
    `run ${created.body.id} to complete`,
    async () => {
      const r = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
      return r.status === 'completed' ? r : null;
    },
    90_000,
  );
}

async function links(address: string) {
  const got = h.sink.messagesTo(address);
  expect(got).toHaveLength(1);
  const parsed = await simpleParser(got[0]!.raw);
  const html = typeof parsed.html === 'string' ? parsed.html : '';
  const clicks = [...html.matchAll(/href="(https:\/\/track\.example\.test\/c\/[A-Za-z0-9_-]+)"/g)].map(
    (m) => m[1]!,
  );
  const open = /<img src="(https:\/\/track\.example\.test\/o\/[A-Za-z0-9_-]+)"/.exec(html)![1]!;
  return { htmlSale: clicks[0]!, htmlAbout: clicks[1]!, open };
}

/** A CSV export: status, headers and the decoded lines (cells split naively: the test's cells hold no commas). */
async function csv(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(h.baseUrl + path, { headers: { authorization: `Bearer ${h.apiKey}`, ...headers } });
  const bytes = Buffer.from(await res.arrayBuffer());
  const cp932 = (res.headers.get('content-type') ?? '').includes('Shift_JIS');
  const text = cp932 ? iconv.decode(bytes, 'cp932') : bytes.subarray(3).toString('utf8');
  const lines = text.split('\r\n').filter((l) => l !== '');
  return {
    res,
    bytes,
    lines,
    rows: lines.slice(1).map((l) => l.split(',')),
    header: lines[0]?.split(',') ?? [],
  };
}

const leadIds = (items: Array<{ leadId?: number; id?: number }>) =>
  items.map((i) => i.leadId ?? i.id).sort((a, b) => a! - b!);

describe('a tracked campaign: lists, exports, access log, search by history', () => {
  const s = {} as {
    tag: string;
    runId: number;
    ids: { a: number; b: number; c: number; d: number; bad: number };
  };

  beforeAll(async () => {
    const tag = uniqueSuffix();
    s.tag = tag;
    const mail = (n: string) => `${n}.${tag}@example.test`;
    s.ids = {
      a: await lead(`Aiko ${tag}`, mail('aiko')),
      b: await lead(`Ben ${tag}`, mail('ben')),
      c: await lead(`Chika ${tag}`, mail('chika')),
      d: await lead(`Daichi ${tag}`, mail('daichi')),
      bad: await lead(`Eiji ${tag}`, mail('eiji')),
    };
    // Eiji's address failed three times before: his email flag is invalid.
    await h.pool.query('UPDATE lead SET email_valid = false WHERE id = $1', [s.ids.bad]);
    const tpl = await h.api('POST', '/v1/templates', {
      channel: 'email',
      title: `Lists ${tag}`,
      subject: 'News for {{name}}',
      from: 'news@example.test',
      format: 'multipart',
      clickTracking: true,
      openTracking: true,
      bodyText: `Hi {{name}}, ${URL_SALE}\n`,
      bodyHtml: `<html><body><a href="${URL_SALE}">Sale</a> <a href="${URL_ABOUT}">About</a></body></html>`,
    });
    expect(tpl.status).toBe(201);
    const run = await completedRun({ templateId: tpl.body.id, leadIds: Object.values(s.ids) });
    s.runId = run.id;
    const last = await h.pool.query<{ last: Date }>(
      'SELECT max(delivered_at) AS last FROM send WHERE run_id = $1',
      [s.runId],
    );
    h.clock.advanceTo(last.rows[0]!.last.getTime() + 60_000);

    const a = await links(mail('aiko'));
    const b = await links(mail('ben'));
    const d = await links(mail('daichi'));
    // Aiko opens and clicks the sale like a person; Ben only opens; Chika does nothing.
    expect((await hit(a.open, CHROME)).status).toBe(200);
    expect((await hit(a.htmlSale, CHROME)).status).toBe(302);
    expect((await hit(b.open, CHROME)).status).toBe(200);
    // Daichi's mail goes through a scanner posing as Chrome: two URLs within one second.
    expect((await hit(d.htmlSale, CHROME)).status).toBe(302);
    expect((await hit(d.htmlAbout, CHROME)).status).toBe(302);
  });

  test('when the unopened list is read, then it holds the delivered leads who did not open (delivered − openers, as the figures)', async () => {
    const res = await h.api('GET', `/v1/wizard-runs/${s.runId}/unopened`);
    expect(res.status).toBe(200);
    expect(leadIds(res.body.items)).toEqual([s.ids.c, s.ids.d]);
    expect(res.body).toMatchObject({ counted: 2, leftLeads: 0, nextCursor: null });
    const figures = (await h.api('GET', `/v1/wizard-runs/${s.runId}/figures`)).body;
    expect(figures.figures.all.unopened).toBe(res.body.counted);
    // Paged by lead id: one at a time gives the same leads.
    const first = await h.api('GET', `/v1/wizard-runs/${s.runId}/unopened?limit=1`);
    const second = await h.api(
      'GET',
      `/v1/wizard-runs/${s.runId}/unopened?limit=1&cursor=${first.body.nextCursor}`,
    );
    expect([first.body.items[0].leadId, second.body.items[0].leadId]).toEqual([s.ids.c, s.ids.d]);
    expect(second.body.nextCursor).toBeNull();
  });

  test('when the clickers of one URL are asked, then they are the leads who clicked that URL in that part, with and without machines', async () => {
    const q = (url: string, extra = '') =>
      h.api(
        'GET',
        `/v1/wizard-runs/${s.runId}/url-clickers?url=${encodeURIComponent(url)}&part=html${extra}`,
      );
    const sale = await q(URL_SALE);
    expect(sale.status).toBe(200);
    expect(leadIds(sale.body.items)).toEqual([s.ids.a, s.ids.d]);
    const figures = (await h.api('GET', `/v1/wizard-runs/${s.runId}/figures`)).body;
    const saleFigure = figures.urls.find((u: any) => u.url === URL_SALE && u.part === 'html');
    expect(sale.body.counted).toBe(saleFigure.all.clickers);
    expect(leadIds((await q(URL_SALE, '&humanOnly=true')).body.items)).toEqual([s.ids.a]);
    expect(leadIds((await q(URL_ABOUT)).body.items)).toEqual([s.ids.d]);
    expect((await q(URL_SALE.replace('sale', 'nothing'))).body.items).toEqual([]);
    expect((await h.api('GET', `/v1/wizard-runs/${s.runId}/url-clickers?part=html`)).status).toBe(400);
  });

  test('when a scanner clicks two distinct URLs within one second, then both clicks carry the burst mark and its reason in the access log', async () => {
    const res = await h.api('GET', `/v1/leads/${s.ids.d}/access-log`, undefined, {
      headers: { 'accept-language': 'ja' },
    });
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(2);
    expect(res.body.items.map((e: any) => e.url)).toEqual([URL_ABOUT, URL_SALE]);
    for (const e of res.body.items) {
      expect(e).toMatchObject({
        kind: 'click',
        part: 'html',
        partLabel: 'HTML本文',
        ip: LOOPBACK,
        userAgent: CHROME,
        machine: true,
        runId: s.runId,
        channel: 'email',
      });
      expect(e.machineReasons).toContainEqual({
        reason: 'burst_of_urls',
        label: '短期間(1秒以内)で複数のURLに対してクリックされている',
      });
      expect(e.atLocal).toMatch(/\+09:00$/);
      expect(new Date(e.atLocal).getTime()).toBe(new Date(e.at).getTime());
    }
  });

  test("when a person's access log is read, then it lists the open and the click with time, URL, part, IP and user agent, unmarked", async () => {
    const res = await h.api('GET', `/v1/leads/${s.ids.a}/access-log`, undefined, {
      headers: { 'accept-language': 'en' },
    });
    expect(res.body.items).toEqual([
      expect.objectContaining({
        kind: 'click',
        url: URL_SALE,
        part: 'html',
        partLabel: 'HTML body',
        ip: LOOPBACK,
        machine: false,
        machineReasons: [],
      }),
      expect.objectContaining({
        kind: 'open',
        url: null,
        part: null,
        ip: LOOPBACK,
        userAgent: CHROME,
        machine: false,
      }),
    ]);
    const onlyOpens = await h.api('GET', `/v1/leads/${s.ids.a}/access-log?kind=open`);
    expect(onlyOpens.body.items.map((e: any) => e.kind)).toEqual(['open']);
    expect((await h.api('GET', `/v1/leads/${s.ids.c}/access-log`)).body.items).toEqual([]);
    expect((await h.api('GET', '/v1/leads/2147483000/access-log')).status).toBe(404);
  });

  test('when every list is exported, then each CSV holds the same leads as its list, UTF-8 with BOM or CP932, labels in the asked language', async () => {
    const base = `/v1/wizard-runs/${s.runId}/lists`;
    const sent = await csv(`${base}/sent/export`, { 'accept-language': 'ja' });
    expect(sent.res.status).toBe(200);
    expect([...sent.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(sent.header.slice(0, 8)).toEqual([
      'lead_id',
      'name',
      'address',
      'send_id',
      'result',
      'result_label',
      'code',
      'code_meaning',
    ]);
    expect(sent.rows.map((r) => Number(r[0]))).toEqual([s.ids.a, s.ids.b, s.ids.c, s.ids.d]);
    for (const r of sent.rows) {
      expect(r.slice(4, 8)).toEqual(['delivered', '到達', '40000', '正常にメール配信が完了したことを表す。']);
    }

    const unsentJa = await csv(`${base}/unsent/export?charset=cp932`, {
      'accept-language': 'ja-JP,ja;q=0.9',
    });
    expect(unsentJa.res.headers.get('content-type')).toContain('Shift_JIS');
    expect(unsentJa.rows).toEqual([
      [
        String(s.ids.bad),
        `Eiji ${s.tag}`,
        `eiji.${s.tag}@example.test`,
        'invalid_address',
        '無効なアドレス(有効フラグが無効)',
      ],
    ]);
    const unsentEn = await csv(`${base}/unsent/export`, { 'accept-language': 'en-US,en;q=0.8' });
    expect(unsentEn.rows[0]!.slice(3)).toEqual(['invalid_address', 'invalid address (validity flag off)']);

    const ids = async (path: string) => (await csv(path)).rows.map((r) => Number(r[0]));
    expect(await ids(`${base}/openers/export`)).toEqual([s.ids.a, s.ids.b]);
    expect(await ids(`${base}/clickers/export`)).toEqual([s.ids.a, s.ids.d]);
    expect(await ids(`${base}/clickers/export?humanOnly=true`)).toEqual([s.ids.a]);
    expect(await ids(`${base}/unopened/export`)).toEqual([s.ids.c, s.ids.d]);
    expect(await ids(`${base}/url-clickers/export?url=${encodeURIComponent(URL_ABOUT)}&part=html`)).toEqual([
      s.ids.d,
    ]);
    const missing = await fetch(`${h.baseUrl}${base}/url-clickers/export?part=html`, {
      headers: { authorization: `Bearer ${h.apiKey}` },
    });
    expect(missing.status).toBe(400);
    const unknownList = await fetch(`${h.baseUrl}${base}/everyone/export`, {
      headers: { authorization: `Bearer ${h.apiKey}` },
    });
    expect(unknownList.status).toBe(400);
  });

  test('when a list is longer than a cursor batch, then the export streams every row once, in lead order', async () => {
    // 4,500 more unsent leads (2,000 rows per fetch): three batches must join without a gap or a repeat.
    const extra = await h.pool.query<{ id: number }>(
      `INSERT INTO lead (name, email, email_valid) SELECT 'Bulk ' || g, 'bulk' || g || '-' || $1 || '@example.test', false
         FROM generate_series(1, 4500) g RETURNING id`,
      [s.tag],
    );
    await h.pool.query(
      `INSERT INTO run_exclusion (run_id, lead_id, address, reason) SELECT $1, id, email, 'invalid_address' FROM lead WHERE id = ANY($2::int[])`,
      [s.runId, extra.rows.map((r) => r.id)],
    );
    const out = await csv(`/v1/wizard-runs/${s.runId}/lists/unsent/export`);
    const got = out.rows.map((r) => Number(r[0]));
    const want = [s.ids.bad, ...extra.rows.map((r) => r.id)].sort((x, y) => x - y);
    expect(got).toEqual(want);
    await h.pool.query('DELETE FROM run_exclusion WHERE run_id = $1 AND lead_id = ANY($2::int[])', [
      s.runId,
      extra.rows.map((r) => r.id),
    ]);
  });

  test('when leads are searched by send history and lead fields, then the search finds them, and saved as a segment a run sends to exactly them', async () => {
    const search = (filter: unknown) => h.api('POST', '/v1/leads/search', { filter });
    const mine = { field: 'email', op: 'contains', value: `.${s.tag}@` };
    const clicked = await search({ all: [mine, { sends: { runId: s.runId, clicked: true } }] });
    expect(clicked.status).toBe(200);
    expect(leadIds(clicked.body.items)).toEqual([s.ids.a, s.ids.d]);
    expect(clicked.body.total).toBe(2);
    const notOpened = { all: [mine, { sends: { runId: s.runId, result: ['delivered'], opened: false } }] };
    expect(leadIds((await search(notOpened)).body.items)).toEqual([s.ids.c, s.ids.d]);
    // Combined with a lead field, and with a code and a sent time range.
    const since = new Date(Date.now() - 3600_000).toISOString();
    const aikoOnly = await search({
      all: [
        { field: 'name', op: 'eq', value: `Aiko ${s.tag}` },
        { sends: { channel: 'email', code: [40000], sentFrom: since, opened: true } },
      ],
    });
    expect(leadIds(aikoOnly.body.items)).toEqual([s.ids.a]);
    // Never sent to by this run: the invalid-flag lead.
    expect(
      leadIds((await search({ all: [mine, { sends: { runId: s.runId, exists: false } }] })).body.items),
    ).toEqual([s.ids.bad]);
    // Leads whose email flag is invalid can be listed.
    const invalid = await search({ all: [mine, { field: 'email_valid', op: 'eq', value: false }] });
    expect(leadIds(invalid.body.items)).toEqual([s.ids.bad]);
    const wrong = await search({ sends: { runId: s.runId, opened: 'no' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.field).toBe('body.filter.sends.opened');

    // Saved as a segment, a run sends to the same leads the search found.
    const seg = await h.api('POST', '/v1/segments', {
      name: `Unopened ${s.tag}`,
      channel: 'email',
      filter: notOpened,
    });
    expect(seg.status).toBe(201);
    const tpl = await h.api('POST', '/v1/templates', {
      channel: 'email',
      title: `Reminder ${s.tag}`,
      subject: 'Did you see it?',
      from: 'news@example.test',
      bodyText: 'Reminder',
    });
    const before = (addr: string) => h.sink.messagesTo(addr).length;
    const counts = { a: before(`aiko.${s.tag}@example.test`), c: before(`chika.${s.tag}@example.test`) };
    const run = await completedRun({ templateId: tpl.body.id, segmentId: seg.body.id });
    const sent = await h.pool.query<{ lead_id: number }>(
      'SELECT lead_id FROM send WHERE run_id = $1 ORDER BY lead_id',
      [run.id],
    );
    expect(sent.rows.map((r) => r.lead_id)).toEqual([s.ids.c, s.ids.d]);
    expect(h.sink.messagesTo(`chika.${s.tag}@example.test`).length).toBe(counts.c + 1);
    expect(h.sink.messagesTo(`aiko.${s.tag}@example.test`).length).toBe(counts.a);
  });
});

describe('usage per channel, per day and month of the account time zone', () => {
  test('when messages were sent just after midnight in Tokyo, then they count on that Tokyo day and month, SMS in parts', async () => {
    const tag = uniqueSuffix();
    const email = await lead(`Usage ${tag}`, `usage.${tag}@example.test`);
    const emailTpl = await h.api('POST', '/v1/templates', {
      channel: 'email',
      title: `Usage ${tag}`,
      subject: 'Hi',
      from: 'news@example.test',
      bodyText: 'Hi',
    });
    const emailRun = await completedRun({ templateId: emailTpl.body.id, leadIds: [email] });
    const phone = `090-${randomInt(1000, 10000)}-5003`;
    const sms = (await h.api('POST', '/v1/leads', { name: 'Taro', phones: { mobile: phone } })).body.id;
    const smsTpl = await h.api('POST', '/v1/templates', {
      channel: 'sms',
      title: `Usage SMS ${tag}`,
      smsBody: 'Sale! '.repeat(40).trim(),
    });
    const smsRun = await completedRun({ templateId: smsTpl.body.id, leadIds: [sms], allowLongSms: true });
    const smsSend = await h.pool.query('SELECT sms_segments FROM send WHERE run_id = $1', [smsRun.id]);
    expect(smsSend.rows[0].sms_segments).toBe(2);
    // Both were sent at 00:30 on 1 April 2001 in Tokyo, which is still 31 March in UTC.
    await h.pool.query(`UPDATE send SET sent_at = '2001-03-31T15:30:00Z' WHERE run_id = ANY($1::int[])`, [
      [emailRun.id, smsRun.id],
    ]);

    const days = await h.api('GET', '/v1/usage?from=2001-03-31&to=2001-04-01&granularity=day', undefined, {
      headers: { 'accept-language': 'ja' },
    });
    expect(days.status).toBe(200);
    expect(days.body.timeZone).toBe('Asia/Tokyo');
    const byChannel = (p: any) =>
      Object.fromEntries(p.channels.map((c: any) => [c.channel, [c.messages, c.sends]]));
    expect(days.body.periods.map((p: any) => [p.period, p.start, byChannel(p), p.messages])).toEqual([
      ['2001-03-31', '2001-03-31T00:00:00.000+09:00', { email: [0, 0], sms: [0, 0], line: [0, 0] }, 0],
      ['2001-04-01', '2001-04-01T00:00:00.000+09:00', { email: [1, 1], sms: [2, 1], line: [0, 0] }, 3],
    ]);
    expect(days.body.periods[1].channels.find((c: any) => c.channel === 'email').label).toBe('メール');

    const months = await h.api('GET', '/v1/usage?from=2001-03&to=2001-04&granularity=month');
    expect(months.body.periods.map((p: any) => [p.period, byChannel(p)])).toEqual([
      ['2001-03', { email: [0, 0], sms: [0, 0], line: [0, 0] }],
      ['2001-04', { email: [1, 1], sms: [2, 1], line: [0, 0] }],
    ]);
    expect(months.body.totals).toEqual(
      expect.arrayContaining([expect.objectContaining({ channel: 'sms', messages: 2, sends: 1 })]),
    );
    expect((await h.api('GET', '/v1/usage?from=2001-04-02&to=2001-04-01')).status).toBe(400);
    expect((await h.api('GET', '/v1/usage?from=2001-02-30&to=2001-04-01')).status).toBe(400);
  });
});

describe('labels in Japanese or English', () => {
  test('when a send is read, then its codes keep their values and labels in the asked language stand beside them', async () => {
    const id = (await h.api('POST', '/v1/leads', { name: 'Taro', phones: { work: '03-1234-5678' } })).body.id;
    const tpl = await h.api('POST', '/v1/templates', {
      channel: 'sms',
      title: `Label ${uniqueSuffix()}`,
      smsBody: 'Hello',
    });
    const sent = await h.api(
      'POST',
      '/v1/messages',
      { leadId: id, templateId: tpl.body.id },
      { headers: { 'accept-language': 'ja' } },
    );
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({
      result: 'pre_error',
      detail: 'not a mobile phone number',
      labels: { result: '事前エラー', detail: '携帯電話番号の形式ではない為、送信を行いませんでした' },
    });
    const en = await h.api('GET', `/v1/sends/${sent.body.id}`, undefined, {
      headers: { 'accept-language': 'en' },
    });
    expect(en.body).toMatchObject({
      result: 'pre_error',
      labels: { result: 'pre-error', detail: 'not a mobile phone number' },
    });
    const search = await h.api('GET', `/v1/sends?leadId=${id}`);
    expect(search.body.items[0].labels.result).toBe('事前エラー');
  });

  test('when Accept-Language asks for Japanese, English or nothing, then labels follow it (default Japanese) and the codes stay', async () => {
    const ja = await h.api('GET', '/v1/labels', undefined, { headers: { 'accept-language': 'ja' } });
    expect(ja.status).toBe(200);
    expect(ja.body.language).toBe('ja');
    const code = (body: any, n: number) => body.deliveryCodes.find((c: any) => c.code === n);
    expect(code(ja.body, 42550)).toEqual({
      code: 42550,
      meaning:
        'メールボックスが使用不能。ユーザーが存在しない、あるいは、着信拒否された可能性が高いと思われる。',
      remedy:
        'メールアドレス形式(@より前)が存在しないや見つからないということなので、誤りを直すことで届く可能性があります。誤りを直し、再送信ください。',
    });
    expect(ja.body.sendResults).toEqual(
      expect.arrayContaining([
        { code: 'delivered', label: '到達' },
        { code: 'pre_error', label: '事前エラー' },
      ]),
    );
    expect(ja.body.runStatuses).toContainEqual({ code: 'reserved', label: '送信予約' });
    expect(ja.body.resultDetails).toContainEqual({
      detail: 'not a mobile phone number',
      label: '携帯電話番号の形式ではない為、送信を行いませんでした',
    });
    const en = await h.api('GET', '/v1/labels', undefined, {
      headers: { 'accept-language': 'fr;q=1, en-GB;q=0.5' },
    });
    expect(en.body.language).toBe('en');
    expect(code(en.body, 42550).meaning).toBe('mailbox unavailable (unknown user or refused)');
    expect((await h.api('GET', '/v1/labels')).body.language).toBe('ja');
    // Every code of the table has a Japanese meaning and remedy.
    for (const c of ja.body.deliveryCodes) {
      expect(c.meaning).toMatch(/[ぁ-んァ-ン一-龯]/);
      expect(c.remedy).toMatch(/[ぁ-んァ-ン一-龯]/);
    }
  });
});

test('when the OpenAPI document is read, then every route of issue 18 is in it with its fields', async () => {
  const doc = (await h.api('GET', '/openapi.json')).body;
  for (const path of [
    '/v1/wizard-runs/{id}/unopened',
    '/v1/wizard-runs/{id}/url-clickers',
    '/v1/wizard-runs/{id}/lists/{list}/export',
    '/v1/leads/{id}/access-log',
    '/v1/leads/search',
    '/v1/usage',
    '/v1/labels',
  ])
    expect(Object.keys(doc.paths)).toContain(path);
  const send = JSON.stringify(doc.paths['/v1/sends/{id}'].get.responses['200']);
  expect(send).toContain('codeRemedy');
  const log = JSON.stringify(doc.paths['/v1/leads/{id}/access-log'].get.responses['200']);
  expect(log).toContain('machineReasons');
});
