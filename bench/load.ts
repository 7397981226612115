// A second process that loads the API on loopback while a run sends (fault
// scenario 5): history queries and tracking hits, bounded in count and time.
// Prints one JSON line of figures; exits 1 if any request failed (a 5xx, a
// network error, or an unexpected status).
// SIGTERM ends it early, still reporting.
//   npx tsx bench/load.ts <baseUrl> <apiKey> <runId> [maxRequests=20000] [maxSeconds=120]
import { performance } from 'node:perf_hooks';

async function main() {
  const [baseUrl, key, runId, maxRequestsArg, maxSecondsArg] = process.argv.slice(2);
  if (!baseUrl || !key || !runId)
    throw new Error('usage: load <baseUrl> <apiKey> <runId> [maxRequests] [maxSeconds]');
  const maxRequests = Number(maxRequestsArg ?? 20_000);
  const deadline = Date.now() + Number(maxSecondsArg ?? 120) * 1000;
  const auth = { authorization: `Bearer ${key}` };
  const plans: Array<{
    kind: 'history' | 'tracking';
    path: string;
    expect: number;
    headers?: Record<string, string>;
  }> = [
    { kind: 'history', path: '/v1/wizard-runs?limit=20', expect: 200, headers: auth },
    { kind: 'history', path: `/v1/wizard-runs/${runId}`, expect: 200, headers: auth },
    { kind: 'history', path: '/v1/sends?channel=email&limit=50', expect: 200, headers: auth },
    { kind: 'history', path: `/v1/wizard-runs/${runId}/unsent?limit=50`, expect: 200, headers: auth },
    // Foreign tokens: the tracking endpoints must answer 404 fast, whatever the load.
    { kind: 'tracking', path: '/c/AAAAAAAAAAAAAAAAAAAAAA', expect: 404 },
    { kind: 'tracking', path: '/o/AAAAAAAAAAAAAAAAAAAAAA', expect: 404 },
  ];
  const latency: Record<string, number[]> = { history: [], tracking: [] };
  let sent = 0;
  // SIGTERM: finish the requests in flight, then report (the run is over).
  let stopping = false;
  process.once('SIGTERM', () => (stopping = true));
  let failures = 0;
  const samples: string[] = [];
  const client = async () => {
    while (!stopping && sent < maxRequests && Date.now() < deadline) {
      const plan = plans[sent++ % plans.length]!;
      const t0 = performance.now();
      try {
        const res = await fetch(`${baseUrl}${plan.path}`, { headers: plan.headers, redirect: 'manual' });
        await res.arrayBuffer();
        latency[plan.kind]!.push(performance.now() - t0);
        if (res.status !== plan.expect) {
          failures++;
          if (samples.length < 5) samples.push(`${plan.path} → ${res.status}`);
        }
      } catch (err) {
        failures++;
        if (samples.length < 5) samples.push(`${plan.path} → ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, client));
  const pct = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? +s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!.toFixed(1) : null;
  };
  console.log(
    JSON.stringify({
      requests: sent,
      failures,
      failureSamples: samples,
      historyP50Ms: pct(latency.history!, 50),
      historyP99Ms: pct(latency.history!, 99),
      trackingP50Ms: pct(latency.tracking!, 50),
      trackingP99Ms: pct(latency.tracking!, 99),
    }),
  );
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
