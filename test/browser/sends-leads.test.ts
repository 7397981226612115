// Screen 4 of the console in Debian's chromium against the real stack: an
// operator searches 個別送信履歴 with a partial address, opens a send's
// detail and the lead's page with its access log (a click and an open
// recorded through the tracking routes), then runs 複合検索 by send history
// (clicked in that run) and saves it as a segment; what the page shows is
// checked against the API's own answers, and axe-core finds no serious or
// critical violation on any of these screens.
import { simpleParser } from 'mailparser';
import type { Page } from 'playwright-core';
import { uniqueSuffix, waitFor } from '../support/harness';
import { journey, seriousA11yViolations, startConsoleStack, type ConsoleStack } from './support';

const PUBLIC_BASE = 'https://track.example.test';
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';

let stack: ConsoleStack;
let page: Page;
const s = {} as { tag: string; runId: number; clicker: number; other: number; third: number };

beforeAll(async () => {
  stack = await startConsoleStack({ publicBaseUrl: PUBLIC_BASE, sendBatchSize: 10 });
  const { h } = stack;
  const tag = uniqueSuffix();
  s.tag = tag;
  const lead = async (name: string) => {
    const res = await h.api('POST', '/v1/leads', {
      name: `${name} ${tag}`,
      email: `${name}.${tag}@example.test`,
    });
    expect(res.status).toBe(201);
    return res.body.id as number;
  };
  s.clicker = await lead('aiko');
  s.other = await lead('ben');
  s.third = await lead('chika');
  const tpl = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Console history ${tag}`,
    subject: 'News for {{name}}',
    from: 'news@example.test',
    format: 'multipart',
    clickTracking: true,
    openTracking: true,
    bodyText: 'Hi {{name}}, https://shop.example.test/sale\n',
    bodyHtml: '<html><body><a href="https://shop.example.test/sale">Sale</a></body></html>',
  });
  expect(tpl.status).toBe(201);
  const created = await h.api('POST', '/v1/wizard-runs', {
    templateId: tpl.body.id,
    leadIds: [s.clicker, s.other, s.third],
  });
  expect(created.status).toBe(201);
  s.runId = created.body.id;
  await waitFor(
    `run ${s.runId} to complete`,
    async () =>
      (await h.api('GET', `/v1/wizard-runs/${s.runId}`)).body.status === 'completed' ? true : null,
    90_000,
  );
  // Aiko opens and clicks, as a person in a browser would (after the machine-click window).
  const mail = h.sink.messagesTo(`aiko.${tag}@example.test`);
  expect(mail).toHaveLength(1);
  const html = String((await simpleParser(mail[0]!.raw)).html);
  const click = /href="(https:\/\/track\.example\.test\/c\/[A-Za-z0-9_-]+)"/.exec(html)![1]!;
  const open = /<img src="(https:\/\/track\.example\.test\/o\/[A-Za-z0-9_-]+)"/.exec(html)![1]!;
  h.clock.advanceTo(Date.now() + 120_000);
  for (const u of [open, click])
    await fetch(h.baseUrl + u.slice(PUBLIC_BASE.length), {
      redirect: 'manual',
      headers: { 'user-agent': CHROME },
    });
  ({ page } = await stack.loggedIn('operator'));
});
afterAll(async () => stack?.stop());

test('individual sends: a partial address search, a send detail, the lead page and its access log', async () => {
  await journey('sends-leads-history', page, async () => {
    const { h } = stack;
    await page.locator('nav.sidenav').getByRole('link', { name: '個別送信履歴' }).click();
    await page.getByRole('heading', { name: '個別送信履歴（メール）' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.getByLabel('宛先').fill(`aiko.${s.tag}`);
    await page.getByRole('button', { name: '検索' }).click();
    const rows = page.locator('table tbody tr');
    await rows.first().waitFor();
    await waitFor('one row', async () => ((await rows.count()) === 1 ? true : null), 30_000);
    const api = await h.api('GET', `/v1/sends?channel=email&address=${encodeURIComponent(`aiko.${s.tag}`)}`);
    expect(api.body.items).toHaveLength(1);
    const sendId: string = api.body.items[0].id;
    await expect(rows.first().textContent()).resolves.toContain(`aiko.${s.tag}@example.test`);
    await expect(rows.first().locator('td[data-result]').getAttribute('data-result')).resolves.toBe(
      api.body.items[0].result,
    );

    await rows.first().locator('td').first().getByRole('link', { name: sendId, exact: true }).click();
    await page.getByRole('heading', { name: `個別送信 #${sendId}` }).waitFor();
    const detail = (await h.api('GET', `/v1/sends/${sendId}`)).body;
    await expect(page.locator('dl.fields').textContent()).resolves.toContain(detail.templateTitle);
    expect(await page.locator('table tbody tr').count()).toBe(detail.attemptHistory.length);
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.getByRole('link', { name: `#${s.clicker}` }).click();
    await page.getByRole('heading', { name: `リード #${s.clicker}` }).waitFor();
    const log = (await h.api('GET', `/v1/leads/${s.clicker}/access-log`)).body.items as Array<{
      kind: string;
    }>;
    expect(log.map((e) => e.kind).sort()).toEqual(['click', 'open']);
    const logRows = page.locator('table.access-log tbody tr');
    await logRows.first().waitFor();
    expect(await logRows.count()).toBe(2);
    await expect(page.locator('table.access-log').textContent()).resolves.toContain(
      'https://shop.example.test/sale',
    );
    expect(await seriousA11yViolations(page)).toEqual([]);
  });
});

test('複合検索: leads who clicked in the run, saved as a segment that selects the same leads', async () => {
  await journey('sends-leads-search', page, async () => {
    const { h } = stack;
    await page.locator('nav.sidenav').getByRole('link', { name: '複合検索' }).click();
    await page.getByRole('heading', { name: /複合検索/ }).waitFor();
    await page.getByLabel('ウィザードID').fill(String(s.runId));
    await page.getByLabel('クリック').selectOption('true');
    await page.getByRole('button', { name: '検索', exact: true }).click();
    await page.locator('p.total').waitFor();
    const filter = { all: [{ sends: { runId: s.runId, clicked: true, exists: true } }] };
    const api = (await h.api('POST', '/v1/leads/search', { filter })).body;
    expect(api.total).toBe(1);
    await expect(page.locator('p.total').textContent()).resolves.toBe('1件');
    await expect(page.locator('table tbody').textContent()).resolves.toContain(`#${s.clicker}`);
    expect(await seriousA11yViolations(page)).toEqual([]);

    const name = `clickers ${s.tag}`;
    await page.getByLabel('セグメント名').fill(name);
    await page.getByRole('button', { name: 'セグメントとして保存' }).click();
    await page.getByRole('status').waitFor();
    const segs = (await h.api('GET', `/v1/segments?name=${encodeURIComponent(name)}`)).body.items as Array<{
      id: number;
      filter: unknown;
    }>;
    expect(segs).toHaveLength(1);
    expect(segs[0]!.filter).toEqual(filter);
    const selected = (await h.api('POST', '/v1/leads/search', { filter: segs[0]!.filter })).body
      .items as Array<{
      id: number;
    }>;
    expect(selected.map((l) => l.id)).toEqual([s.clicker]);
  });
});
