// Screen 2 of the console (issue 20), the wizard run detail, in real Chromium
// against the real stack: a tracked email campaign is sent to the SMTP sink,
// its readers open and click its mails through the /o and /c tracking routes
// (one as a person, one through a link scanner), and a viewer opens the run's
// detail page. Its figures and stars must say what the API says, a per-URL
// count must lead to the leads who clicked that URL, a list's CSV download
// must hold that list's leads, and axe finds no serious violation.
import { readFileSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import type { Page } from 'playwright-core';
import { uniqueSuffix, waitFor } from '../support/harness';
import { journey, seriousA11yViolations, startConsoleStack, type ConsoleStack } from './support';

const PUBLIC_BASE = 'https://track.example.test';
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
const URL_SALE = 'https://shop.example.test/sale';
const URL_ABOUT = 'https://example.test/about';
/** Delivered leads: with 25, one clicker is 4% (★★★★☆) and two are 8% (★★★★★). */
const QUIET_LEADS = 21;

let stack: ConsoleStack;
let page: Page;
const s = {} as {
  tag: string;
  runId: number;
  ids: { aiko: number; ben: number; chika: number; daichi: number; eiji: number };
  quiet: number[];
};

/** A reader's request to a tracking URL of a mail (the public base is this test's API). */
function hit(publicUrl: string): Promise<Response> {
  expect(publicUrl.startsWith(PUBLIC_BASE)).toBe(true);
  return fetch(stack.h.baseUrl + publicUrl.slice(PUBLIC_BASE.length), {
    redirect: 'manual',
    headers: { 'user-agent': CHROME },
  });
}

async function lead(name: string, email: string): Promise<number> {
  const res = await stack.h.api('POST', '/v1/leads', { name, email });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function trackingUrls(address: string) {
  const got = stack.h.sink.messagesTo(address);
  expect(got).toHaveLength(1);
  const html = (await simpleParser(got[0]!.raw)).html || '';
  const clicks = [...html.matchAll(/href="(https:\/\/track\.example\.test\/c\/[A-Za-z0-9_-]+)"/g)].map(
    (m) => m[1]!,
  );
  const open = /<img src="(https:\/\/track\.example\.test\/o\/[A-Za-z0-9_-]+)"/.exec(html)![1]!;
  return { sale: clicks[0]!, about: clicks[1]!, open };
}

beforeAll(async () => {
  stack = await startConsoleStack({ publicBaseUrl: PUBLIC_BASE, sendBatchSize: 10 });
  const { h } = stack;
  const tag = uniqueSuffix();
  s.tag = tag;
  const mail = (n: string) => `${n}.${tag}@example.test`;
  s.ids = {
    aiko: await lead(`Aiko ${tag}`, mail('aiko')),
    ben: await lead(`Ben ${tag}`, mail('ben')),
    chika: await lead(`Chika ${tag}`, mail('chika')),
    daichi: await lead(`Daichi ${tag}`, mail('daichi')),
    eiji: await lead(`Eiji ${tag}`, mail('eiji')),
  };
  s.quiet = await Promise.all(
    Array.from({ length: QUIET_LEADS }, (_, i) => lead(`Quiet${i} ${tag}`, mail(`quiet${i}`))),
  );
  // Eiji's email flag is invalid: he is not sent to (未送信, with its reason).
  await h.pool.query('UPDATE lead SET email_valid = false WHERE id = $1', [s.ids.eiji]);
  const tpl = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Detail ${tag}`,
    memo: `Memo ${tag}`,
    subject: 'News for {{name}}',
    from: 'news@example.test',
    format: 'multipart',
    clickTracking: true,
    openTracking: true,
    bodyText: `Hi {{name}}, ${URL_SALE}\n`,
    bodyHtml: `<html><body><a href="${URL_SALE}">Sale</a> <a href="${URL_ABOUT}">About</a></body></html>`,
  });
  expect(tpl.status).toBe(201);
  const created = await h.api('POST', '/v1/wizard-runs', {
    templateId: tpl.body.id,
    leadIds: [...Object.values(s.ids), ...s.quiet],
  });
  expect(created.status).toBe(201);
  s.runId = created.body.id;
  await waitFor(
    `run ${s.runId} to complete`,
    async () => (await h.api('GET', `/v1/wizard-runs/${s.runId}`)).body.status === 'completed',
    90_000,
  );
  const last = await h.pool.query<{ last: Date }>(
    'SELECT max(delivered_at) AS last FROM send WHERE run_id = $1',
    [s.runId],
  );
  h.clock.advanceTo(last.rows[0]!.last.getTime() + 60_000);
  const aiko = await trackingUrls(mail('aiko'));
  const ben = await trackingUrls(mail('ben'));
  const daichi = await trackingUrls(mail('daichi'));
  // Aiko opens and clicks the sale like a person; Ben only opens.
  expect((await hit(aiko.open)).status).toBe(200);
  expect((await hit(aiko.sale)).status).toBe(302);
  expect((await hit(ben.open)).status).toBe(200);
  // Daichi's mail goes through a link scanner posing as Chrome: both URLs within one second.
  expect((await hit(daichi.sale)).status).toBe(302);
  expect((await hit(daichi.about)).status).toBe(302);

  ({ page } = await stack.loggedIn('viewer'));
});

afterAll(async () => stack?.stop());

const detailUrl = () => `${stack.h.baseUrl}/#/runs/email/${s.runId}`;
const pct = (n: number | null) => (n === null ? '計測不可' : `${n}%`);
const cell = (row: string, variant: 'all' | 'human') =>
  page.locator(`table.run-figures tr[data-figure="${row}"] td[data-variant="${variant}"]`);

test("a viewer opens a completed email run: the manual's items, and figures with and without machine clicks as the API gives them", async () => {
  await journey('run-detail-figures', page, async () => {
    await page.goto(detailUrl());
    await page.getByRole('heading', { level: 1, name: `ウィザード利用履歴 詳細 #${s.runId}` }).waitFor();
    await page.locator('table.run-figures').waitFor();
    const run = (await stack.h.api('GET', `/v1/wizard-runs/${s.runId}`)).body;
    const figures = (await stack.h.api('GET', `/v1/wizard-runs/${s.runId}/figures`)).body;

    // The manual's items (メール: ウィザード利用履歴の詳細).
    const field = (key: string) => page.locator(`dl.run-fields > [data-field="${key}"] > dd`).first();
    await expect(field('status').innerText()).resolves.toBe('完了');
    expect(await page.locator('[data-field="status"] .status').getAttribute('data-status')).toBe('completed');
    await expect(field('scheduledAt').innerText()).resolves.toBe('即時');
    await expect(field('sendStatus').innerText()).resolves.toBe('25 / 25');
    await expect(field('template').innerText()).resolves.toContain(`Detail ${s.tag}`);
    await expect(field('emailMemo').innerText()).resolves.toBe(`Memo ${s.tag}`);
    await expect(field('taskId').innerText()).resolves.toBe(run.taskId);
    await expect(field('updatedBy').innerText()).resolves.toBe(run.updatedBy ?? '—');
    // Times in the account's zone (Asia/Tokyo).
    await expect(field('createdAt').innerText()).resolves.toMatch(/JST$/);

    // The figures, with and without machine clicks, as the API computes them.
    const { all, humanOnly } = figures.figures;
    for (const [row, key] of [
      ['delivery-rate', 'deliveryRate'],
      ['open-rate', 'openRate'],
      ['click-rate', 'clickRate'],
      ['unsubscribe-rate', 'unsubscribeRate'],
    ] as const) {
      await expect(cell(row, 'all').innerText()).resolves.toBe(pct(all[key]));
      await expect(cell(row, 'human').innerText()).resolves.toBe(pct(humanOnly[key]));
    }
    await expect(cell('unopened', 'all').innerText()).resolves.toBe(String(all.unopened));
    await expect(cell('unopened', 'human').innerText()).resolves.toBe(String(humanOnly.unopened));
    // What a reader of the page sees: 2 of 25 opened, 2 clicked of whom 1 was a scanner.
    expect([all.openRate, all.clickRate, humanOnly.clickRate, all.unopened]).toEqual([8, 8, 4, 23]);
    await expect(cell('click-rate', 'human').innerText()).resolves.toBe('4%');

    // URL別クリック率: the stars, rates and clickers of each URL, with and without machines.
    expect(figures.urls.length).toBeGreaterThanOrEqual(3);
    for (const u of figures.urls) {
      const row = page.locator(`table.run-urls tr[data-part="${u.part}"][data-url="${u.url}"]`);
      for (const [variant, f] of [
        ['all', u.all],
        ['human', u.humanOnly],
      ] as const) {
        const stars = row.locator(`td.rating[data-variant="${variant}"] .stars`);
        expect(await stars.getAttribute('data-stars')).toBe(String(f.stars));
        await expect(stars.innerText()).resolves.toBe('★'.repeat(f.stars) + '☆'.repeat(5 - f.stars));
        await expect(
          row.locator(`td[data-variant="${variant}"][data-cell="rate"]`).innerText(),
        ).resolves.toBe(pct(f.clickRate));
        await expect(
          row.locator(`td[data-variant="${variant}"][data-cell="clickers"]`).innerText(),
        ).resolves.toBe(`${f.clickers}人`);
      }
    }
    const sale = figures.urls.find((u: any) => u.url === URL_SALE && u.part === 'html');
    // The manual's scale: 8% is ★★★★★, 4% is ★★★★☆.
    expect([sale.all.stars, sale.humanOnly.stars]).toEqual([5, 4]);
    // The click bars are drawn (chart.js on a canvas with a text alternative).
    await page.getByRole('img', { name: /URL別クリック者数のグラフ/ }).waitFor();

    expect(await seriousA11yViolations(page)).toEqual([]);
  });
});

test('a per-URL count leads to the leads who clicked that URL, with or without the scanner', async () => {
  await journey('run-detail-url-clickers', page, async () => {
    await page.goto(detailUrl());
    const saleRow = page.locator(`table.run-urls tr[data-part="html"][data-url="${URL_SALE}"]`);
    await saleRow.getByRole('link', { name: '2人' }).click();
    const listTitle = page.getByRole('heading', { level: 3, name: `URL別クリック者: ${URL_SALE}(HTML本文)` });
    await listTitle.waitFor();
    const names = page.locator('table.run-list[data-list="url-clickers"] tbody tr td:first-child');
    await waitFor('the clickers of the sale', async () => (await names.count()) === 2);
    expect(await names.allInnerTexts()).toEqual([
      `Aiko ${s.tag} (#${s.ids.aiko})`,
      `Daichi ${s.tag} (#${s.ids.daichi})`,
    ]);
    const api = await stack.h.api(
      'GET',
      `/v1/wizard-runs/${s.runId}/url-clickers?url=${encodeURIComponent(URL_SALE)}&part=html`,
    );
    expect(api.body.items.map((i: any) => i.leadId).sort()).toEqual([s.ids.aiko, s.ids.daichi].sort());
    // Each name opens the lead's page.
    expect(
      await page.getByRole('link', { name: `Aiko ${s.tag} (#${s.ids.aiko})` }).getAttribute('href'),
    ).toBe(`#/leads/${s.ids.aiko}`);

    // Without machine clicks, the scanner's lead leaves the list.
    await page.getByLabel('機械的なクリック・開封を除く').check();
    await waitFor('the human clickers of the sale', async () => (await names.count()) === 1);
    expect(await names.allInnerTexts()).toEqual([`Aiko ${s.tag} (#${s.ids.aiko})`]);
    expect(await seriousA11yViolations(page)).toEqual([]);
  });
});

test('the unsent list gives the reason, and a list exported as CSV holds its leads', async () => {
  await journey('run-detail-csv', page, async () => {
    await page.goto(detailUrl());
    await page.getByRole('link', { name: '未送信履歴一覧' }).click();
    const unsent = page.locator('table.run-list[data-list="unsent"] tbody tr');
    await unsent.first().waitFor();
    expect(await unsent.allInnerTexts()).toEqual([
      expect.stringMatching(
        new RegExp(
          `#${s.ids.eiji}\\s+eiji\\.${s.tag}@example\\.test\\s+無効なアドレス\\(有効フラグが無効\\)`,
        ),
      ),
    ]);

    await page.getByRole('link', { name: '開封者', exact: true }).click();
    await page.getByRole('heading', { level: 3, name: '開封者' }).waitFor();
    const openers = page.locator('table.run-list[data-list="openers"] tbody tr');
    await waitFor('the openers', async () => (await openers.count()) === 2);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: '開封者をCSV出力' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`run-${s.runId}-openers.csv`);
    const bytes = readFileSync((await download.path())!);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.subarray(3).toString('utf8').split('\r\n').filter(Boolean);
    expect(lines[0]!.split(',')).toEqual([
      'lead_id',
      'name',
      'address',
      'send_id',
      'first_at',
      'last_at',
      'count',
      'human_count',
    ]);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.map((r) => [Number(r[0]), r[1], r[2]])).toEqual([
      [s.ids.aiko, `Aiko ${s.tag}`, `aiko.${s.tag}@example.test`],
      [s.ids.ben, `Ben ${s.tag}`, `ben.${s.tag}@example.test`],
    ]);
    // The same leads as the API's list of openers.
    const api = await stack.h.api('GET', `/v1/wizard-runs/${s.runId}/openers`);
    expect(rows.map((r) => Number(r[0]))).toEqual(api.body.items.map((i: any) => i.leadId));
    expect(await seriousA11yViolations(page)).toEqual([]);
  });
});
