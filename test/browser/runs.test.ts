// The console's ウィザード利用履歴 and 新規送信 screens (issue 20, screens 1 and
// 3) in Debian's chromium against the real stack: an operator reserves an
// email run and watches its status badge change colour until 完了, schedules a
// run in the account's time zone and cancels it through the confirmation,
// searches the history the manual's way (partial, case-sensitive text AND an
// OR of two statuses) and gets what the API answers, switches to English and
// back; a viewer sees no [削除]; axe finds nothing serious on any screen.
//
// Sends are throttled (one lead per batch, one batch a second) so that a run
// of a few leads stays 実行中 for several seconds: the list polls every second
// while a run is live, so the page shows 実行中 before 完了. 準備中 lasts only
// while the worker selects the targets (milliseconds), before the list can
// load after the reservation: the recorded sequence must follow the lifecycle
// order and may begin after 準備中, but it must show 実行中 and end at 完了.
import type { Page } from 'playwright-core';
import { uniqueSuffix, waitFor } from '../support/harness';
import { journey, seriousA11yViolations, startConsoleStack, type ConsoleStack } from './support';

let stack: ConsoleStack;
const ZONE = 'America/New_York'; // not the browser's (Asia/Tokyo): times are the account's

beforeAll(async () => {
  stack = await startConsoleStack({
    sendBatchSize: 1,
    sendBatchesInFlight: 1,
    emailBatchesPerSecond: 1,
    accountTimeZone: ZONE,
  });
});
afterAll(async () => stack?.stop());

/** The manual's colours, as styles.css paints the badges. */
const COLOURS: Record<string, string> = {
  reserved: 'rgb(17, 17, 17)',
  preparing: 'rgb(250, 204, 21)',
  running: 'rgb(21, 128, 61)',
  completed: 'rgb(29, 78, 216)',
  cancelled: 'rgb(107, 114, 128)',
};
const LIFECYCLE = ['reserved', 'preparing', 'running', 'completed'];

async function audience(count: number, titles: string[] = ['Welcome']) {
  const tag = uniqueSuffix();
  for (let i = 0; i < count; i++) {
    const res = await stack.h.api('POST', '/v1/leads', {
      name: `Lead ${i}`,
      email: `lead${i}.${tag}@example.test`,
      attributes: { tag },
    });
    expect(res.status).toBe(201);
  }
  const templates: { id: number; title: string }[] = [];
  for (const title of titles) {
    const t = await stack.h.api('POST', '/v1/templates', {
      channel: 'email',
      title: title.replace('{tag}', tag),
      memo: `memo ${tag}`,
      format: 'text',
      subject: 'Hello {{name}}',
      from: 'news@example.test',
      bodyText: 'Hi {{name}}',
    });
    expect(t.status).toBe(201);
    templates.push({ id: t.body.id, title: t.body.title });
  }
  const segment = await stack.h.api('POST', '/v1/segments', {
    name: `audience ${tag}`,
    channel: 'email',
    filter: { all: [{ attribute: 'tag', op: 'eq', value: tag }] },
  });
  expect(segment.status).toBe(201);
  return { tag, templates, segmentId: segment.body.id as number, segmentName: segment.body.name as string };
}

async function labels(lang: 'ja' | 'en'): Promise<Record<string, string>> {
  const res = await stack.h.api('GET', '/v1/labels', undefined, { headers: { 'accept-language': lang } });
  return Object.fromEntries(
    (res.body.runStatuses as { code: string; label: string }[]).map((l) => [l.code, l.label]),
  );
}

/** A journey in a new browser context logged in as `role`, closed afterwards (its page stops polling). */
async function asUser(role: 'viewer' | 'operator', name: string, fn: (page: Page) => Promise<void>) {
  const { page, context } = await stack.loggedIn(role);
  try {
    await journey(name, page, () => fn(page));
  } finally {
    await context.close();
  }
}

async function gotoList(page: Page, query = '') {
  await page.goto(`${stack.h.baseUrl}/#/runs/email${query}`);
  await page.locator('table.run-history, .run-count').first().waitFor();
}

async function rowIds(page: Page): Promise<number[]> {
  return page
    .locator('table.run-history tbody tr')
    .evaluateAll((rows) => rows.map((r) => Number((r as any).dataset.runId)));
}

async function reserveInConsole(
  page: Page,
  a: { templates: { id: number; title: string }[]; segmentId: number; segmentName: string },
  count: number,
  scheduledLocal?: string,
): Promise<number> {
  await page.goto(`${stack.h.baseUrl}/#/new`);
  await page.getByRole('heading', { name: '新規送信' }).waitFor();
  const tpl = a.templates[0]!;
  await page
    .getByLabel('テンプレート', { exact: true })
    .selectOption({ label: `${tpl.title} (ID ${tpl.id})` });
  await page
    .getByLabel('送信対象者の検索条件', { exact: true })
    .selectOption({ label: `${a.segmentName} (ID ${a.segmentId})` });
  // The count of leads the segment selects now, from the API.
  await page.getByText(`現在この検索条件にヒットするリード: ${count}件`).waitFor();
  if (scheduledLocal) {
    await page.getByRole('radio', { name: '予約送信' }).check();
    await page.getByLabel(`送信予約日時（${ZONE}）`).fill(scheduledLocal);
  } else {
    await page.getByRole('radio', { name: '即時送信' }).check();
  }
  expect(await seriousA11yViolations(page)).toEqual([]);
  await page.getByRole('button', { name: '送信予約する' }).click();
  // Reserved: the console goes to the run's detail route.
  await page.waitForURL(/#\/runs\/email\/\d+$/);
  return Number(/(\d+)$/.exec(page.url())![1]);
}

test('an operator reserves an email run and watches its badge go through the lifecycle to 完了 in the manual colours', async () => {
  await asUser('operator', 'runs-lifecycle', async (page) => {
    const a = await audience(6, ['Lifecycle {tag}']);
    const ja = await labels('ja');
    const id = await reserveInConsole(page, a, 6);
    const created = (await stack.h.api('GET', `/v1/wizard-runs/${id}`)).body;
    expect(created.template.id).toBe(a.templates[0]!.id);
    expect(created.target.segmentId).toBe(a.segmentId);
    expect(created.scheduledAt).toBeNull();

    await gotoList(page);
    await page.locator(`tr[data-run-id="${id}"] .status`).waitFor();
    // Record every state of the run's row the page renders, as it renders it.
    await page.evaluate((runId) => {
      const seen: Array<Record<string, unknown>> = [];
      (globalThis as any).__seen = seen;
      const doc = (globalThis as any).document;
      const record = () => {
        const row = doc.querySelector(`tr[data-run-id="${runId}"]`);
        const badge = row?.querySelector('.status');
        if (!badge) return;
        const bar = row.querySelector('[role=progressbar]');
        const entry = {
          status: badge.dataset.status,
          label: badge.textContent,
          colour: (globalThis as any).getComputedStyle(badge).backgroundColor,
          done: Number(bar?.getAttribute('aria-valuenow')),
          max: Number(bar?.getAttribute('aria-valuemax')),
          eta: row.querySelector('.run-eta')?.textContent ?? null,
        };
        const last = seen[seen.length - 1];
        if (!last || JSON.stringify(last) !== JSON.stringify(entry)) seen.push(entry);
      };
      record();
      new (globalThis as any).MutationObserver(record).observe(doc.body, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
      });
    }, id);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.waitForFunction(
      () => ((globalThis as any).__seen as Array<{ status: string }>).some((e) => e.status === 'completed'),
      undefined,
      { timeout: 120_000 },
    );
    const seen = (await page.evaluate(() => (globalThis as any).__seen)) as Array<{
      status: string;
      label: string;
      colour: string;
      done: number;
      max: number;
      eta: string | null;
    }>;
    const statuses = seen.map((e) => e.status).filter((s, i, all) => i === 0 || all[i - 1] !== s);
    // Lifecycle order, nothing else, none twice; 実行中 shown before 完了, which ends it.
    expect(statuses.filter((s) => !LIFECYCLE.includes(s))).toEqual([]);
    const ranks = statuses.map((s) => LIFECYCLE.indexOf(s));
    expect(ranks).toEqual([...new Set(ranks)].sort((x, y) => x - y));
    expect(statuses).toContain('running');
    expect(statuses[statuses.length - 1]).toBe('completed');
    // Each status in its colour and the API's Japanese label.
    for (const e of seen) {
      expect(e.colour).toBe(COLOURS[e.status]);
      expect(e.label).toBe(ja[e.status]);
    }
    expect(new Set(seen.map((e) => e.colour)).size).toBeGreaterThanOrEqual(2);
    // While running: the remaining minutes; the bar ends full.
    expect(seen.some((e) => e.status === 'running' && /^ ?残り約\d+分$/.test(e.eta ?? ''))).toBe(true);
    const last = seen[seen.length - 1]!;
    expect([last.done, last.max]).toEqual([6, 6]);
    const final = (await stack.h.api('GET', `/v1/wizard-runs/${id}`)).body;
    expect(final.status).toBe('completed');
    expect(final.counters.sent).toBe(6);
  });
});

test('an operator schedules a run in the account time zone and cancels it through the confirmation; nothing is sent', async () => {
  await asUser('operator', 'runs-cancel-scheduled', async (page) => {
    const a = await audience(2, ['Scheduled {tag}']);
    // 10:30 on the account's clock (New York, EST in January), not the browser's (Tokyo).
    const id = await reserveInConsole(page, a, 2, '2031-01-15T10:30');
    const run = (await stack.h.api('GET', `/v1/wizard-runs/${id}`)).body;
    expect(run.status).toBe('reserved');
    expect(new Date(run.scheduledAt).toISOString()).toBe('2031-01-15T15:30:00.000Z');

    await gotoList(page);
    const row = page.locator(`tr[data-run-id="${id}"]`);
    await row.locator('.status[data-status="reserved"]').waitFor();
    expect(
      await row.locator('.status').evaluate((b) => (globalThis as any).getComputedStyle(b).backgroundColor),
    ).toBe(COLOURS.reserved);
    await page.getByRole('button', { name: `削除 ID ${id}` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await expect(dialog.textContent()).resolves.toContain('メッセージは1通も送信されません');
    expect(await seriousA11yViolations(page)).toEqual([]);
    // Cancelling the dialog changes nothing.
    await dialog.getByRole('button', { name: 'キャンセル' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await stack.h.api('GET', `/v1/wizard-runs/${id}`)).body.status).toBe('reserved');

    await page.getByRole('button', { name: `削除 ID ${id}` }).click();
    await dialog.getByRole('button', { name: '削除する' }).click();
    await row.locator('.status[data-status="cancelled"]').waitFor();
    await page
      .getByRole('status')
      .filter({ hasText: `ID ${id} を削除しました` })
      .waitFor();
    const after = (await stack.h.api('GET', `/v1/wizard-runs/${id}`)).body;
    expect(after.status).toBe('cancelled');
    expect(after.counters.sent).toBe(0);
    // A cancelled run offers no [削除].
    expect(await page.getByRole('button', { name: `削除 ID ${id}` }).count()).toBe(0);
  });
});

test('the detailed search is partial and case-sensitive on the title, ORs two statuses, ANDs the fields, and matches the API', async () => {
  await asUser('operator', 'runs-search', async (page) => {
    const a = await audience(1, ['Promo {tag} Winter', 'promo {tag} winter', 'Promo {tag} Window']);
    const [winter, lower, window] = a.templates.map((t) => t.id) as [number, number, number];
    const reserve = async (templateId: number, scheduledAt?: string) => {
      const r = await stack.h.api('POST', '/v1/wizard-runs', {
        templateId,
        segmentId: a.segmentId,
        ...(scheduledAt ? { scheduledAt } : {}),
      });
      expect(r.status).toBe(201);
      return r.body.id as number;
    };
    const reservedWinter = await reserve(winter, '2031-03-01T09:00:00Z');
    const completedWindow = await reserve(window);
    const reservedLower = await reserve(lower, '2031-03-01T09:00:00Z');
    const cancelledWinter = await reserve(winter, '2031-03-02T09:00:00Z');
    expect((await stack.h.api('DELETE', `/v1/wizard-runs/${cancelledWinter}`)).status).toBeLessThan(300);
    await waitFor('the immediate run to complete', async () => {
      const r = (await stack.h.api('GET', `/v1/wizard-runs/${completedWindow}`)).body;
      return r.status === 'completed';
    });

    await gotoList(page);
    await page.getByRole('button', { name: '詳細検索' }).click();
    const text = `o ${a.tag} Win`;
    await page.getByLabel('テンプレート名', { exact: true }).fill(text);
    await page.getByRole('checkbox', { name: '送信予約' }).check();
    await page.getByRole('checkbox', { name: '完了' }).check();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: '検索開始' }).click();
    const expected = [completedWindow, reservedWinter].sort((x, y) => x - y);
    await waitFor('the list to show the search result', async () => {
      const ids = (await rowIds(page)).sort((x, y) => x - y);
      return JSON.stringify(ids) === JSON.stringify(expected) ? ids : null;
    });
    // The API's answer to the same search is what the page shows.
    const q = new URLSearchParams({ channel: 'email', title: text });
    q.append('status', 'reserved');
    q.append('status', 'completed');
    const api = (await stack.h.api('GET', `/v1/wizard-runs?${q}`)).body.items as { id: number }[];
    expect(api.map((r) => r.id).sort((x, y) => x - y)).toEqual(expected);
    // Case-sensitive: the lower-case title is not found; the cancelled one is not of the statuses.
    expect(expected).not.toContain(reservedLower);
    expect(expected).not.toContain(cancelledWinter);
    // The search is in the address: a reload shows the same result and the form keeps it.
    await page.reload();
    await page.locator('table.run-history').waitFor();
    expect((await rowIds(page)).sort((x, y) => x - y)).toEqual(expected);
    await expect(page.getByLabel('テンプレート名', { exact: true }).inputValue()).resolves.toBe(text);
    await expect(page.getByRole('checkbox', { name: '完了' }).isChecked()).resolves.toBe(true);

    // The simple search: the same text over title and memo, any status.
    await page.getByRole('button', { name: '簡易検索' }).click();
    await page.getByLabel('テンプレート名・メモ').fill(text);
    await page.getByRole('button', { name: '検索開始' }).click();
    const simple = [reservedWinter, completedWindow, cancelledWinter].sort((x, y) => x - y);
    await waitFor('the simple search result', async () => {
      const ids = (await rowIds(page)).sort((x, y) => x - y);
      return JSON.stringify(ids) === JSON.stringify(simple) ? ids : null;
    });
  });
});

test('the history switches to English and back, with the API labels in each language', async () => {
  await asUser('operator', 'runs-language', async (page) => {
    const a = await audience(1, ['Lang {tag}']);
    const r = await stack.h.api('POST', '/v1/wizard-runs', {
      templateId: a.templates[0]!.id,
      segmentId: a.segmentId,
      scheduledAt: '2031-05-01T09:00:00Z',
    });
    const id = r.body.id as number;
    const [ja, en] = [await labels('ja'), await labels('en')];
    await gotoList(page);
    const badge = page.locator(`tr[data-run-id="${id}"] .status`);
    await expect(badge.textContent()).resolves.toBe(ja.reserved);
    await page.getByLabel('言語').selectOption('en');
    await page.getByRole('heading', { name: 'Wizard run history (Email)' }).waitFor();
    await page.locator(`tr[data-run-id="${id}"] .status`, { hasText: en.reserved! }).waitFor();
    await page.getByRole('button', { name: `Delete ID ${id}` }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.goto(`${stack.h.baseUrl}/#/new`);
    await page.getByRole('heading', { name: 'New send' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByLabel('Language').selectOption('ja');
    await page.getByRole('heading', { name: '新規送信' }).waitFor();
    await gotoList(page);
    await page.locator(`tr[data-run-id="${id}"] .status`, { hasText: ja.reserved! }).waitFor();
    await stack.h.api('DELETE', `/v1/wizard-runs/${id}`);
  });
});

test('a viewer sees the history without [削除] and is not offered 新規送信', async () => {
  await asUser('viewer', 'runs-viewer', async (page) => {
    const a = await audience(1, ['Viewer {tag}']);
    const r = await stack.h.api('POST', '/v1/wizard-runs', {
      templateId: a.templates[0]!.id,
      segmentId: a.segmentId,
      scheduledAt: '2031-06-01T09:00:00Z',
    });
    const id = r.body.id as number;
    await gotoList(page);
    await page.locator(`tr[data-run-id="${id}"] .status[data-status="reserved"]`).waitFor();
    await page.getByRole('link', { name: `詳細 ID ${id}` }).waitFor();
    expect(await page.getByRole('button', { name: /^削除 ID/ }).count()).toBe(0);
    expect(await page.locator('nav.sidenav').getByRole('link', { name: '新規送信' }).count()).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await stack.h.api('DELETE', `/v1/wizard-runs/${id}`);
  });
});
