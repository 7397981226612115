// The benchmark's watchdog, a detached process of its own: when the benchmark
// process is gone (killed, even with SIGKILL, or crashed) it stops every process
// the benchmark registered, with their descendants: SIGTERM, then SIGKILL after
// a grace period. Each registered process is named by pid and start time, so a
// pid reused by someone else is never signalled.
// Then it removes the benchmark's scratch directories.
//   node --require tsx/cjs bench/reaper.ts <bench pid> <bench start time> <registry file> [dir…]
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { readProcTable, readStat, treePids } from './proc';

const [benchPid, benchStart, registry] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]!];
const scratch = process.argv.slice(5);

function alive(pid: number, start: number): boolean {
  const s = readStat(pid);
  return s !== null && s.starttime === start && s.state !== 'Z';
}

function registered(): Array<[number, number]> {
  if (!existsSync(registry)) return [];
  return readFileSync(registry, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ').map(Number) as [number, number]);
}

/** The registered processes still alive, with all their descendants, as [pid, start time]. */
function snapshot(): Array<[number, number]> {
  const table = readProcTable();
  const roots = registered()
    .filter(([pid, start]) => alive(pid, start))
    .map(([pid]) => pid);
  return treePids(table, roots).map((pid) => [pid, table.get(pid)!.starttime]);
}

function signal(procs: Array<[number, number]>, sig: NodeJS.Signals): void {
  for (const [pid, start] of procs) {
    if (!alive(pid, start)) continue;
    try {
      process.kill(pid, sig);
    } catch {
      // Already gone.
    }
  }
}

async function main() {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  while (alive(benchPid, benchStart)) await sleep(300);
  // A clean end removes the registry after stopping everything itself.
  if (!existsSync(registry)) return;
  const procs = snapshot();
  signal(procs, 'SIGTERM');
  const deadline = Date.now() + 8000;
  while (Date.now() < deadline && procs.some(([pid, start]) => alive(pid, start))) await sleep(250);
  signal(procs, 'SIGKILL');
  await sleep(500);
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
}

void main();
