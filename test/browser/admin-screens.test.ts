// Screen group 5 of the console (issue 20) in real Chromium against the real
// stack: an operator qualifies an undefined bounce text and the API (and the
// send that waited) takes it; imports a blocklist CSV, reads the bad rows'
// report and finds the statuses listed; the usage chart draws its bars and its
// table holds the API's numbers; an admin creates an API key (shown once, it
// works) and revokes it (refused), while an operator has no such screen; axe
// finds no serious or critical violation on any of the six screens.
import type { Page } from 'playwright-core';
import { uniqueSuffix, waitFor } from '../support/harness';
import { postfixDsn, uniqueWord } from '../support/report-fixtures';
import { journey, seriousA11yViolations, startConsoleStack, type ConsoleStack } from './support';
import { sendToken } from '../../db/send-token';

let stack: ConsoleStack;
beforeAll(async () => {
  // Runs stay open for late bounces, so a DSN reaches its run (as in test/e2e/bounces.test.ts).
  stack = await startConsoleStack({ asyncBounceWindowSeconds: 300 });
}, 180_000);
afterAll(async () => stack?.stop());

const api = <T = any>(method: string, path: string, body?: unknown, opts?: { key?: string | null }) =>
  stack.h.api<T>(method, path, body, opts);

/** An email run to these leads (the SMTP sink accepts them), waited for until it completes. */
async function emailRun(addresses: string[]): Promise<{ id: number; taskId: string }> {
  const ids: number[] = [];
  for (const email of addresses) {
    const res = await api('POST', '/v1/leads', { name: 'Lead', email });
    expect(res.status).toBe(201);
    ids.push(res.body.id);
  }
  const tpl = await api('POST', '/v1/templates', {
    channel: 'email',
    title: `T ${uniqueSuffix()}`,
    subject: 'Hi',
    from: 'news@example.test',
    bodyText: 'Hello',
  });
  expect(tpl.status).toBe(201);
  const run = await api('POST', '/v1/wizard-runs', { templateId: tpl.body.id, leadIds: ids });
  expect(run.status).toBe(201);
  return waitFor(`run ${run.body.id} to complete`, async () => {
    const r = (await api('GET', `/v1/wizard-runs/${run.body.id}`)).body;
    return r.status === 'completed' ? r : null;
  });
}

/** Opens a screen from the side navigation. */
async function openScreen(page: Page, name: string) {
  await page.locator('nav.sidenav').getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
}

async function expectNoSeriousViolations(page: Page, screen: string) {
  expect([screen, await seriousA11yViolations(page)]).toEqual([screen, []]);
}

test('an operator qualifies an undefined bounce text in the console, and the API and the waiting send take it', async () => {
  // A DSN whose diagnostic no rule knows comes back for a delivered send (as test/e2e/bounces.test.ts does).
  const tag = uniqueWord();
  const run = await emailRun([`odd.${uniqueSuffix()}@receiver.example`]);
  const send = (await stack.h.pool.query('SELECT * FROM send WHERE run_id = $1', [run.id])).rows[0];
  const report = await fetch(`${stack.h.baseUrl}/v1/inbound/bounces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.h.apiKey}`, 'content-type': 'message/rfc822' },
    body: postfixDsn({
      token: await sendToken(stack.h.pool, String(send.id), send.token),
      bounceDomain: stack.h.config.bounceDomain,
      to: send.address,
      status: '5.0.0',
      diagnostic: `554 frobnicated ${tag} by policy engine`,
    }),
  });
  expect(report.status).toBe(202);
  await waitFor(
    'the send to take the undefined bounce',
    async () => (await api('GET', `/v1/sends/${send.id}`)).body.errorReason === 'undefined',
  );
  const observed = (await api('GET', '/v1/bounce-rules?state=undefined')).body.items.find((r: any) =>
    r.normalizedText?.includes(tag),
  );
  expect(observed).toMatchObject({ state: 'undefined', origin: 'observed' });

  const { page } = await stack.loggedIn('operator');
  await journey('admin-bounces-qualify', page, async () => {
    await openScreen(page, 'バウンス判定');
    await page.getByRole('heading', { name: '未判定の文言' }).waitFor();
    const qualify = page.getByRole('button', { name: new RegExp(`判定する: .*${tag}`) });
    await qualify.waitFor();
    await expectNoSeriousViolations(page, 'bounces');
    await qualify.click();
    await page.getByLabel('エラー理由').selectOption('unknown_user');
    await page.getByLabel('エラー種別').selectOption('hard');
    await page.getByLabel('配信結果コード').selectOption('42550');
    await expectNoSeriousViolations(page, 'bounces (qualify form)');
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByRole('status').filter({ hasText: '判定しました' }).waitFor();
    // The text left the list of texts to qualify.
    await waitFor('the text to leave the list to qualify', async () => (await qualify.count()) === 0);
  });

  const rules = (await api('GET', '/v1/bounce-rules')).body.items;
  expect(rules.find((r: any) => r.id === observed.id)).toMatchObject({
    origin: 'user',
    state: 'qualified',
    errorType: 'hard',
    reason: 'unknown_user',
    code: 42550,
  });
  expect((await api('GET', `/v1/sends/${send.id}`)).body).toMatchObject({
    errorType: 'hard',
    errorReason: 'unknown_user',
  });
  await stack.h.temporal.workflow.getHandle(run.taskId).cancel();
});

test('an operator imports a blocklist CSV, reads the rejected rows, and finds the statuses listed', async () => {
  const tag = uniqueSuffix();
  const good = [`spam1.${tag}@example.test`, `spam2.${tag}@example.test`];
  const csv = [
    'address,status,reason',
    `${good[0]},blocklisted,complained by phone`,
    `${good[1]},blocklisted,`,
    `not-an-address-${tag},blocklisted,`,
    `other.${tag}@example.test,nonsense,`,
  ].join('\n');
  const { page } = await stack.loggedIn('operator');
  await journey('admin-addresses-import', page, async () => {
    await openScreen(page, 'アドレス管理');
    await page.getByRole('heading', { name: 'CSV一括登録' }).waitFor();
    await page.getByLabel('CSVファイル').setInputFiles({
      name: 'blocklist.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv, 'utf8'),
    });
    await page.getByRole('button', { name: '取り込む' }).click();
    const report = page.getByRole('table', { name: '取り込めなかった行' });
    await report.waitFor();
    const rejectedRows = await report.locator('tbody tr').allInnerTexts();
    expect(rejectedRows).toHaveLength(2);
    // Data rows 3 and 4 of the file (the header is row 1).
    expect(rejectedRows[0]).toContain(`not-an-address-${tag}`);
    expect(rejectedRows[1]).toContain('nonsense');
    await expect(page.getByRole('status').filter({ hasText: '不正 2' }).count()).resolves.toBe(1);

    // The search form's status (the add form has 設定するステータス).
    await page.getByLabel(/^ステータス/).selectOption('blocklisted');
    await page.getByLabel('アドレス（部分一致）').fill(tag);
    await page.getByRole('button', { name: '検索' }).click();
    const list = page.locator('table.address-list tbody tr');
    await waitFor('the two imported addresses listed', async () => (await list.count()) === 2);
    const rows = await list.allInnerTexts();
    expect(rows.map((r) => good.some((g) => r.includes(g)) && r.includes('ブロックリスト'))).toEqual([
      true,
      true,
    ]);
    await expectNoSeriousViolations(page, 'addresses');
  });
  const listed = (await api('GET', `/v1/addresses?address=${tag}`)).body.items;
  expect(listed.map((a: any) => [a.address, a.status]).sort()).toEqual(good.map((g) => [g, 'blocklisted']));
});

test('the usage chart draws its bars and its table holds the numbers the API gives', async () => {
  const tag = uniqueSuffix();
  const run = await emailRun([`u1.${tag}@example.test`, `u2.${tag}@example.test`]);
  await stack.h.temporal.workflow.getHandle(run.taskId).cancel();
  const { page } = await stack.loggedIn('operator');
  await journey('admin-usage', page, async () => {
    await openScreen(page, '利用状況');
    const canvas = page.getByRole('img', { name: /棒グラフ/ });
    await canvas.waitFor();
    const from = await page.getByLabel('開始').inputValue();
    const to = await page.getByLabel('終了').inputValue();
    const usage = (await api('GET', `/v1/usage?from=${from}&to=${to}&granularity=day`)).body;
    const total = usage.totals.reduce((a: number, c: any) => a + c.messages, 0);
    expect(total).toBeGreaterThanOrEqual(2);

    // The table: one row per day, one cell per channel, equal to the API's counts.
    const cells = await page.locator('table tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({
        period: tr.getAttribute('data-period'),
        counts: [...tr.querySelectorAll('td')].map((td) => [
          td.getAttribute('data-channel'),
          Number(td.textContent!.replace(/[^0-9]/g, '')),
        ]),
      })),
    );
    expect(cells).toEqual(
      usage.periods.map((p: any) => ({
        period: p.period,
        counts: [...p.channels.map((c: any) => [c.channel, c.messages]), ['total', p.messages]],
      })),
    );

    // The chart: the email bars are drawn in their colour (#1d4ed8).
    const emailPixels = await canvas.evaluate((el) => {
      // The page's canvas (the test compiles without the DOM's types).
      const c = el as unknown as {
        width: number;
        height: number;
        getContext(kind: '2d'): {
          getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
        };
      };
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if (data[i] === 29 && data[i + 1] === 78 && data[i + 2] === 216 && data[i + 3]! > 200) n++;
      return n;
    });
    expect(emailPixels).toBeGreaterThan(50);
    await expectNoSeriousViolations(page, 'usage');
  });
});

test('an admin creates an API key that works, sees it once, and revokes it; an operator has no such screen', async () => {
  const name = `partner-${uniqueSuffix()}`;
  const { page } = await stack.loggedIn('admin');
  let key = '';
  await journey('admin-api-keys', page, async () => {
    await openScreen(page, 'APIキー');
    await page.getByLabel('名前').fill(name);
    await page.getByRole('button', { name: '作成', exact: true }).click();
    const shown = page.getByRole('textbox', { name: 'APIキー' });
    await shown.waitFor();
    key = await shown.inputValue();
    expect(key).toMatch(/^dk_/);
    expect((await api('GET', '/v1/leads?limit=1', undefined, { key })).status).toBe(200);
    await expectNoSeriousViolations(page, 'api keys');

    const row = page.locator('table.api-keys tbody tr', { hasText: name });
    await expect(row.getAttribute('data-status')).resolves.toBe('active');
    await page.getByRole('button', { name: `無効にする: ${name}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: '無効にする' }).click();
    await waitFor(
      'the key shown as revoked',
      async () => (await row.getAttribute('data-status')) === 'revoked',
    );
  });
  const refused = await api('GET', '/v1/leads?limit=1', undefined, { key });
  expect(refused.status).toBe(401);

  const operator = await stack.loggedIn('operator');
  await journey('admin-api-keys-operator', operator.page, async () => {
    const nav = operator.page.locator('nav.sidenav');
    await nav.getByRole('link', { name: '利用状況' }).waitFor();
    await expect(nav.getByRole('link', { name: 'APIキー' }).count()).resolves.toBe(0);
    await operator.page.goto(`${stack.h.baseUrl}/#/api-keys`);
    await operator.page.getByText('APIキーは管理者のみ扱えます。').waitFor();
    await expect(operator.page.getByRole('button', { name: '作成', exact: true }).count()).resolves.toBe(0);
  });
});

test('the domain rules and sending domains screens show what the API holds, with no serious accessibility violation', async () => {
  const domain = `rules-${uniqueSuffix()}.example`;
  expect((await api('POST', '/v1/domain-rules', { domain, maxConnections: 3 })).status).toBe(201);
  const sending = `news-${uniqueSuffix()}.example`;
  expect((await api('POST', '/v1/sending-domains', { domain: sending })).status).toBe(201);
  const { page } = await stack.loggedIn('admin');
  await journey('admin-domain-screens', page, async () => {
    await openScreen(page, 'ドメインルール');
    await page.getByRole('cell', { name: domain, exact: true }).waitFor();
    await expectNoSeriousViolations(page, 'domain rules');

    await openScreen(page, '送信ドメイン');
    const section = page.getByRole('region', { name: new RegExp(sending) });
    await section.waitFor();
    // The DKIM record to publish, as the API gives it.
    const record = (await api('GET', '/v1/sending-domains')).body.items
      .find((d: any) => d.domain === sending)
      .records.find((r: any) => r.name.includes('._domainkey.'));
    await section.getByText(record.name, { exact: true }).waitFor();
    await expectNoSeriousViolations(page, 'sending domains');
  });
});
