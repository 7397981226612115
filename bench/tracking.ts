// Benchmark of the tracking endpoints (`npx tsx bench/tracking.ts`): embedded
// PostgreSQL, the real app on loopback, seeded sends and links, then a
// bounded number of click and open requests from a fixed number of concurrent
// clients. Prints throughput and latency; asserts nothing about time.
//
//   BENCH_REQUESTS     measured requests (default 20000)
//   BENCH_CONCURRENCY  requests in flight (default 64)
//   BENCH_SENDS        seeded sends, 3 links each (default 5000)
//   BENCH_OPEN_SHARE   share of requests that fetch the open image (default 0.25)
//
// Client and server share the machine's cores, so the figures are a floor.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { buildApp } from '../api/app';
import { loadConfig } from '../config/config';
import { migrateUp, openOrm } from '../db/orm';
import { createPool } from '../db/pool';
import { ensureTrackingTokens, tokenKey, type WantedToken } from '../db/tracking-queries';
import { startEmbeddedPostgres } from '../dev/embedded-postgres';
import { TRACKING_PATHS } from '../domain/link-rewrite';

const REQUESTS = intEnv('BENCH_REQUESTS', 20_000);
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 64);
const SENDS = intEnv('BENCH_SENDS', 5_000);
const OPEN_SHARE = Number(process.env.BENCH_OPEN_SHARE ?? '0.25');
const WARMUP = Math.min(1_000, Math.ceil(REQUESTS / 10));
const LINK_URLS = [
  'https://shop.example.test/sale',
  'https://example.test/about',
  'https://example.test/company',
];

function intEnv(name: string, fallback: number): number {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A deterministic request plan: which send, and a click (link index) or an open (-1). */
function plan(count: number, seed: number): Array<{ send: number; link: number }> {
  let x = seed >>> 0 || 1;
  const next = () => {
    // xorshift32: reproducible without Math.random.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
  return Array.from({ length: count }, () => ({
    send: Math.floor(next() * SENDS),
    link: next() < OPEN_SHARE ? -1 : Math.floor(next() * LINK_URLS.length),
  }));
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-tracking-'));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const pg = await startEmbeddedPostgres({
    dataDir: dir,
    port: await freePort(),
    database: 'bench',
    persistent: false,
  });
  const pool = createPool(pg.url, 20);
  let app: Awaited<ReturnType<typeof buildApp>> | null = null;
  try {
    const orm = await openOrm(pg.url, 2);
    await migrateUp(orm);
    await orm.close();

    log(
      `seeding ${SENDS} delivered sends with ${LINK_URLS.length} links, an open image and an unsubscribe URL each`,
    );
    const run = await pool.query<{ id: number }>(
      `INSERT INTO wizard_run (channel, template_id, template_title, target_kind, status, workflow_id)
       VALUES ('email', 0, 'bench', 'list', 'completed', 'bench-' || gen_random_uuid()) RETURNING id`,
    );
    const runId = run.rows[0]!.id;
    const sends = await pool.query<{ id: string }>(
      `WITH l AS (
         INSERT INTO lead (name, email) SELECT 'Bench ' || i, 'bench' || i || '@example.test' FROM generate_series(1, $2) i RETURNING id, email
       )
       INSERT INTO send (run_id, channel, lead_id, address, template_title, token, result, attempts, sent_at, delivered_at)
       SELECT $1, 'email', l.id, l.email, 'bench', replace(gen_random_uuid()::text, '-', ''), 'delivered', 1,
              now() - interval '1 hour', now() - interval '1 hour'
         FROM l ORDER BY l.id RETURNING id`,
      [runId, SENDS],
    );
    const sendIds = sends.rows.map((r) => r.id);
    const wanted: WantedToken[] = [];
    for (const sendId of sendIds) {
      for (const url of LINK_URLS) wanted.push({ sendId, part: 'html', url });
      wanted.push({ sendId, part: 'open', url: '' });
      wanted.push({ sendId, part: 'unsubscribe', url: '' });
    }
    const t0 = performance.now();
    const tokens = new Map<string, string>();
    for (let i = 0; i < wanted.length; i += 5_000) {
      for (const [k, v] of await ensureTrackingTokens(pool, wanted.slice(i, i + 5_000))) tokens.set(k, v);
    }
    log(
      `  ${tokens.size} tokens stored in ${(performance.now() - t0).toFixed(0)} ms (set-based, 5000 per statement)`,
    );
    await pool.query('ANALYZE');

    const config = { ...loadConfig({}), databaseUrl: pg.url };
    // The tracking routes never touch Temporal; a lazy connection never dials.
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    app = await buildApp({ pool, temporal, config, logger: pino({ level: 'silent' }) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

    const urlOf = (r: { send: number; link: number }) => {
      const sendId = sendIds[r.send]!;
      return r.link < 0
        ? `${base}${TRACKING_PATHS.open}${tokens.get(tokenKey(sendId, 'open', ''))}`
        : `${base}${TRACKING_PATHS.click}${tokens.get(tokenKey(sendId, 'html', LINK_URLS[r.link]!))}`;
    };

    async function load(requests: Array<{ send: number; link: number }>) {
      const latencies = new Float64Array(requests.length);
      const statuses = new Map<number, number>();
      let next = 0;
      const client = async () => {
        while (next < requests.length) {
          const i = next++;
          const started = performance.now();
          const res = await fetch(urlOf(requests[i]!), {
            redirect: 'manual',
            headers: { 'user-agent': 'Mozilla/5.0 bench' },
          });
          await res.arrayBuffer();
          latencies[i] = performance.now() - started;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, client));
      return { latencies, statuses, elapsedMs: performance.now() - started };
    }

    log(`warm-up: ${WARMUP} requests`);
    await load(plan(WARMUP, 7));
    const before = (await pool.query('SELECT count(*)::int AS n FROM tracking_event')).rows[0].n as number;

    const requests = plan(REQUESTS, 42);
    log(`measuring: ${REQUESTS} requests, ${CONCURRENCY} in flight, ${Math.round(OPEN_SHARE * 100)}% opens`);
    const { latencies, statuses, elapsedMs } = await load(requests);
    const sorted = Float64Array.from(latencies).sort();
    const byKind = (open: boolean) =>
      Float64Array.from(latencies.filter((_, i) => requests[i]!.link < 0 === open)).sort();
    const clicks = byKind(false);
    const opens = byKind(true);
    const recorded =
      ((await pool.query('SELECT count(*)::int AS n FROM tracking_event')).rows[0].n as number) - before;
    const fmt = (a: Float64Array) =>
      `p50 ${percentile(a, 50).toFixed(2)} ms  p90 ${percentile(a, 90).toFixed(2)} ms  p99 ${percentile(a, 99).toFixed(2)} ms  max ${(a[a.length - 1] ?? NaN).toFixed(2)} ms`;

    log('');
    log(
      `requests/s      ${(REQUESTS / (elapsedMs / 1000)).toFixed(0)}  (${REQUESTS} in ${(elapsedMs / 1000).toFixed(2)} s)`,
    );
    log(`all             ${fmt(sorted)}`);
    log(`clicks (${String(clicks.length).padStart(5)}) ${fmt(clicks)}`);
    log(`opens  (${String(opens.length).padStart(5)}) ${fmt(opens)}`);
    log(`statuses        ${[...statuses].map(([s, n]) => `${s}: ${n}`).join(', ')}`);
    log(`events recorded ${recorded} of ${REQUESTS} requests`);
    const counters = (
      await pool.query('SELECT click_count, opener_count, clicker_count FROM wizard_run WHERE id = $1', [
        runId,
      ])
    ).rows[0];
    log(
      `run counters    clicks ${counters.click_count}, clickers ${counters.clicker_count}, openers ${counters.opener_count}`,
    );
  } finally {
    await app?.close();
    await pool.end();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
