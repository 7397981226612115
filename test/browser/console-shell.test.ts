// The console is served by the product itself at `/`: the page, its script and
// its stylesheet come from the API's own origin under a strict
// Content-Security-Policy, nothing is fetched from any other host, the login
// form is in Japanese first with English a click away, and axe-core finds no
// serious or critical accessibility violation on it.
import type { Page } from 'playwright-core';
import { journey, seriousA11yViolations, startConsoleStack, type ConsoleStack } from './support';

let stack: ConsoleStack;
let page: Page;
const requested: string[] = [];

beforeAll(async () => {
  stack = await startConsoleStack();
  const context = await stack.browser.newContext({ locale: 'ja-JP' });
  page = await context.newPage();
  page.on('request', (r) => requested.push(r.url()));
});
afterAll(async () => stack?.stop());

test('the login page is served by the API with a same-origin policy and loads nothing from elsewhere', async () => {
  await journey('console-shell-served', page, async () => {
    const res = await fetch(`${stack.h.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(`${stack.h.baseUrl}/console/nothing.js`)).status).toBe(404);

    await page.goto(`${stack.h.baseUrl}/`);
    await page.getByRole('button', { name: 'ログイン' }).waitFor();
    const origin = new URL(stack.h.baseUrl).origin;
    expect(requested.length).toBeGreaterThan(2);
    expect(requested.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'))).toEqual([]);
  });
});

test('the login form switches between Japanese and English and has no serious accessibility violation', async () => {
  await journey('console-shell-language', page, async () => {
    await page.goto(`${stack.h.baseUrl}/`);
    await expect(page.getByLabel('ユーザー名').isVisible()).resolves.toBe(true);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByLabel('言語').selectOption('en');
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await seriousA11yViolations(page)).toEqual([]);
    // The choice is kept across a reload.
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await page.getByLabel('Language').selectOption('ja');
    await page.getByRole('button', { name: 'ログイン' }).waitFor();
  });
});
