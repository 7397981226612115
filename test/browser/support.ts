// The console's browser tests: Debian's chromium (scripts/setup-chromium.sh)
// driven by playwright-core against the real stack of test/support/harness.ts,
// which serves the console at `/`. Console users are made by the same CLI an
// operator uses (`npm run console-user`). axe-core runs in the page to find
// accessibility violations; a failing journey saves a screenshot to
// .test-logs/screenshots/.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startHarness, uniqueSuffix, type Harness, type HarnessOptions } from '../support/harness';
import type { AppConfig } from '../../config/config';

const ROOT = join(__dirname, '..', '..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(ROOT, '.test-logs', 'screenshots');
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export type Role = 'viewer' | 'operator' | 'admin';

export interface ConsoleStack {
  h: Harness;
  browser: Browser;
  /** A new browser context (its own cookies), logged in as a new user of `role`. */
  loggedIn(
    role: Role,
    opts?: { language?: 'ja' | 'en' },
  ): Promise<{ page: Page; context: BrowserContext; user: string }>;
  stop(): Promise<void>;
}

/** Runs the console-user CLI against the harness's database; resolves with its stdout. */
export function consoleUserCli(h: Harness, args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        join(ROOT, 'api', 'cli', 'console-user.ts'),
        ...args,
      ],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: h.config.databaseUrl }, timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

export async function createConsoleUser(h: Harness, role: Role): Promise<{ name: string; password: string }> {
  const name = `${role}-${uniqueSuffix()}`;
  const password = `pw-${uniqueSuffix()}-${uniqueSuffix()}`;
  await consoleUserCli(h, ['create', '--name', name, '--role', role, '--password-stdin'], `${password}\n`);
  return { name, password };
}

export async function logInThroughForm(page: Page, baseUrl: string, name: string, password: string) {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel(/ユーザー名|User name/).fill(name);
  await page.getByLabel(/パスワード|Password/).fill(password);
  await page.getByRole('button', { name: /ログイン|Log in/ }).click();
  await page.locator('nav.sidenav').waitFor();
}

export async function startConsoleStack(
  overrides: Partial<AppConfig> = {},
  opts: HarnessOptions = {},
): Promise<ConsoleStack> {
  const h = await startHarness(overrides, opts);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  return {
    h,
    browser,
    async loggedIn(role, o = {}) {
      const user = await createConsoleUser(h, role);
      const context = await browser.newContext({
        locale: o.language === 'en' ? 'en-GB' : 'ja-JP',
        timezoneId: 'Asia/Tokyo',
        viewport: { width: 1366, height: 900 },
      });
      const page = await context.newPage();
      if (o.language === 'en') await page.addInitScript("localStorage.setItem('console.language', 'en')");
      await logInThroughForm(page, h.baseUrl, user.name, user.password);
      return { page, context, user: user.name };
    },
    async stop() {
      await browser.close();
      await h.stop();
    },
  };
}

export interface A11yViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core on the page as it is now: its serious and critical violations (an empty list is a pass). */
export async function seriousA11yViolations(page: Page): Promise<A11yViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown) => Promise<any> } }).axe;
    const r = await axe.run((globalThis as unknown as { document: unknown }).document);
    return (
      r.violations as Array<{
        id: string;
        impact: string | null;
        help: string;
        nodes: Array<{ target: string[] }>;
      }>
    ).map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * A browser journey: `fn` runs with the page; if it throws, a full-page
 * screenshot is saved under .test-logs/screenshots/<name>.png and the error is
 * rethrown (the test fails).
 */
export async function journey(name: string, page: Page, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const file = join(SCREENSHOTS, `${name.replace(/[^\w.-]+/g, '_')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    (err as Error).message += `\n(screenshot: ${file})`;
    throw err;
  }
}
