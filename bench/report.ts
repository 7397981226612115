// Tables of the benchmark's figures (markdown, so they paste into RESULTS.md).
import type { RoundResult } from './rounds';

const GROUP_ORDER = ['worker', 'postgres', 'temporal', 'api', 'smtp-source'];

function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

function perThousand(cpuSeconds: number, messages: number): number {
  return (cpuSeconds / Math.max(1, messages)) * 1000;
}

function cpuCells(r: RoundResult): { total: number; parts: string } {
  const names = Object.keys(r.cpu).sort((a, b) => GROUP_ORDER.indexOf(a) - GROUP_ORDER.indexOf(b));
  const total = perThousand(
    names.reduce((s, n) => s + r.cpu[n]!, 0),
    r.received,
  );
  return {
    total,
    parts: names.map((n) => `${n} ${fmt(perThousand(r.cpu[n]!, r.received), 3)}`).join(', '),
  };
}

function pssCell(r: RoundResult): string {
  const total = Object.values(r.pss).reduce((a, b) => a + b, 0);
  const parts = Object.entries(r.pss)
    .sort(([a], [b]) => GROUP_ORDER.indexOf(a) - GROUP_ORDER.indexOf(b))
    .map(([k, v]) => `${k} ${fmt(v)}`);
  return parts.length > 1 ? `${fmt(total)} (${parts.join(', ')})` : fmt(total);
}

export function roundsTable(results: RoundResult[]): string {
  const lines = [
    '| round | contender | msg/s | wall s | CPU-s per 1,000 msgs | sink CPU-s per 1,000 | peak PSS MiB | rows/msg | history events | sink check |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const c = cpuCells(r);
    lines.push(
      `| ${r.round} | ${r.contender} | ${fmt(r.rate)} | ${fmt(r.wallSeconds, 1)} | ${fmt(c.total, 3)} (${c.parts}) | ` +
        `${fmt(perThousand(r.sinkCpu, r.received), 3)} | ${pssCell(r)} | ${fmt(r.rowsPerMessage, 2)} | ` +
        `${r.historyEvents === undefined ? '–' : `${r.historyEvents} in ${r.executions} execution(s)`} | ${r.check} |`,
    );
  }
  return lines.join('\n');
}

/** One line per contender: means over its rounds, ratio to the raw limit's mean rate. */
export function summaryTable(results: RoundResult[], contenders: string[]): string {
  const rawRate = mean(results.filter((r) => r.contender === 'raw').map((r) => r.rate));
  const lines = [
    '| contender | rounds | msg/s (first to last arrival) | of raw | CPU-s per 1,000 msgs, total (per process) | peak PSS MiB | worker peak RSS MiB | DB rows written per msg | history events per 1,000 leads | sink received |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const name of contenders) {
    const rs = results.filter((r) => r.contender === name);
    if (rs.length === 0) continue;
    const rate = mean(rs.map((r) => r.rate));
    const groups = [...new Set(rs.flatMap((r) => Object.keys(r.cpu)))].sort(
      (a, b) => GROUP_ORDER.indexOf(a) - GROUP_ORDER.indexOf(b),
    );
    const per = Object.fromEntries(
      groups.map((g) => [g, mean(rs.map((r) => perThousand(r.cpu[g] ?? 0, r.received)))]),
    );
    const total = Object.values(per).reduce((a, b) => a + b, 0);
    const pssGroups = [...new Set(rs.flatMap((r) => Object.keys(r.pss)))];
    const pssPeak = Object.fromEntries(pssGroups.map((g) => [g, Math.max(...rs.map((r) => r.pss[g] ?? 0))]));
    const pssTotal = Math.max(...rs.map((r) => Object.values(r.pss).reduce((a, b) => a + b, 0)));
    const pssParts = Object.entries(pssPeak)
      .sort(([a], [b]) => GROUP_ORDER.indexOf(a) - GROUP_ORDER.indexOf(b))
      .map(([k, v]) => `${k} ${fmt(v)}`);
    // VmHWM is each worker's peak since it started: the highest reading over the rounds, per worker.
    const rss: number[] = [];
    for (const r of rs) (r.workerPeakRss ?? []).forEach((v, i) => (rss[i] = Math.max(rss[i] ?? 0, v)));
    const rows = rs.map((r) => r.rowsPerMessage).filter((x): x is number => x !== undefined);
    const events = rs
      .filter((r) => r.historyEvents !== undefined)
      .map((r) => (r.historyEvents! / r.expected) * 1000);
    const checks = [...new Set(rs.map((r) => r.check))];
    lines.push(
      `| ${name} | ${rs.length} | ${fmt(rate)} (${rs.map((r) => fmt(r.rate)).join(', ')}) | ${fmt(rate / rawRate, 2)} | ` +
        `${fmt(total, 3)} (${groups.map((g) => `${g} ${fmt(per[g], 3)}`).join(', ')}) | ` +
        `${fmt(pssTotal)}${pssParts.length > 1 ? ` (${pssParts.join(', ')})` : ''} | ` +
        `${rss.length ? rss.map((x) => fmt(x)).join(', ') : '–'} | ${rows.length ? fmt(mean(rows), 2) : '–'} | ` +
        `${events.length ? fmt(mean(events), 1) : '–'} | ${checks.join('; ')} |`,
    );
  }
  return lines.join('\n');
}
