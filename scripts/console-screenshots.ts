// The README's console screenshots (docs/console-run-list.png and
// docs/console-run-detail.png), taken in Debian's chromium from a running
// `npm start`: it makes an admin (the console-user CLI) and an API key, sends a
// small tracked email run through the API, has some readers click through the
// public tracking routes, and photographs the run list and the run's detail.
// Usage: npm start, then
//   DATABASE_URL=postgres://postgres:postgres@127.0.0.1:54320/delivery npx tsx scripts/console-screenshots.ts
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Pool } from 'pg';
import { chromium } from 'playwright-core';

const ROOT = join(__dirname, '..');
const BASE = process.env.CONSOLE_URL ?? 'http://127.0.0.1:3000';
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

function cli(script: string, args: string[], input?: string): string {
  return execFileSync(process.execPath, [TSX, join(ROOT, script), ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
  });
}

async function main() {
  const dbUrl = process.env.DATABASE_URL;
  if (!dbUrl) throw new Error('DATABASE_URL is needed (the one npm start prints)');
  const tag = randomBytes(3).toString('hex');
  const password = randomBytes(12).toString('hex');
  cli(
    'api/cli/console-user.ts',
    ['create', '--name', `shots-${tag}`, '--role', 'admin', '--password-stdin'],
    `${password}\n`,
  );
  const key = cli('api/cli/api-key.ts', ['create', '--name', `shots-${tag}`, '--scopes', 'read,write'])
    .trim()
    .split('\n')
    .pop()!;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(BASE + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as any;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const names = [
    '青木',
    '石井',
    '上田',
    '遠藤',
    '岡本',
    '加藤',
    '木村',
    '工藤',
    '小林',
    '斎藤',
    '佐藤',
    '清水',
  ];
  const leadIds: number[] = [];
  for (const [i, n] of names.entries())
    leadIds.push((await api('POST', '/v1/leads', { name: n, email: `reader${i}.${tag}@example.jp` })).id);
  const tpl = await api('POST', '/v1/templates', {
    channel: 'email',
    title: `12月のセール ${tag}`,
    subject: '{{name}}様、12月のセールのご案内',
    from: 'news@example.jp',
    format: 'multipart',
    openTracking: true,
    clickTracking: true,
    bodyText: '{{name}}様\nセール会場: https://shop.example.jp/sale\n新商品: https://shop.example.jp/new\n',
    bodyHtml:
      '<html><body><p>{{name}}様</p><a href="https://shop.example.jp/sale">セール会場</a> <a href="https://shop.example.jp/new">新商品</a></body></html>',
  });
  const run = await api('POST', '/v1/wizard-runs', { templateId: tpl.id, leadIds });
  for (let i = 0; i < 240; i++) {
    if ((await api('GET', `/v1/wizard-runs/${run.id}`)).status === 'completed') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  // Readers: the tokens of the first messages' links, clicked as a browser would.
  const pool = new Pool({ connectionString: dbUrl });
  const links = await pool.query<{ token: string; url: string }>(
    `SELECT t.token, t.url FROM tracked_link t JOIN send s ON s.id = t.send_id
      WHERE s.run_id = $1 AND t.part = 'html' ORDER BY s.lead_id, t.url`,
    [run.id],
  );
  await pool.end();
  const ua =
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
  await new Promise((r) => setTimeout(r, 3000));
  for (const [i, l] of links.rows.entries())
    if (i % 3 !== 2)
      await fetch(`${BASE}/c/${l.token}`, { redirect: 'manual', headers: { 'user-agent': ua } });

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const page = await browser.newPage({ viewport: { width: 1366, height: 860 }, locale: 'ja-JP' });
  await page.goto(`${BASE}/`);
  await page.getByLabel('ユーザー名').fill(`shots-${tag}`);
  await page.getByLabel('パスワード').fill(password);
  await page.getByRole('button', { name: 'ログイン' }).click();
  await page.locator('nav.sidenav').waitFor();
  await page.goto(`${BASE}/#/runs/email`);
  await page.locator('table tbody tr').first().waitFor();
  await page.screenshot({ path: join(ROOT, 'docs', 'console-run-list.png') });
  await page.goto(`${BASE}/#/runs/email/${run.id}`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await page.waitForTimeout(1500); // the chart's animation (a picture, not a test)
  await page.screenshot({ path: join(ROOT, 'docs', 'console-run-detail.png'), fullPage: false });
  await browser.close();
  console.log('wrote docs/console-run-list.png and docs/console-run-detail.png');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
