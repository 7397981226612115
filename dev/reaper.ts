// Nothing outlives its parent. A process that starts servers (dev/start.ts,
// the cluster launcher, the test stack) ties each child's pid to itself here.
// The first tie starts a reaper: a tiny node process in its own process group
// (so a terminal's Ctrl-C does not reach it) that reads a pipe from us. When
// the pipe closes — we exited, however: a clean stop, SIGTERM, SIGKILL, a
// crash — it sends each tied child that is still the same process (pid and
// start time, so a reused pid is never hit) its stop signal, then SIGKILL
// after a grace period. Linux (/proc); elsewhere the tie does nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const REAPER = String.raw`
const fs = require('fs');
const tied = new Map();
const started = (pid) => {
  try {
    const s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19];
  } catch { return null; }
};
const same = (pid, t) => t !== null && started(pid) === t;
let buf = '';
let reaping = false;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
    const [cmd, pid, sig, start] = buf.slice(0, i).split(' ');
    buf = buf.slice(i + 1);
    if (cmd === 'tie') tied.set(Number(pid), { sig, start });
  }
});
const reap = () => {
  if (reaping) return;
  reaping = true;
  const live = () => [...tied].filter(([pid, t]) => same(pid, t.start));
  for (const [pid, t] of live()) { try { process.kill(pid, t.sig); } catch {} }
  const deadline = Date.now() + Number(process.argv[1] || 15000);
  const tick = () => {
    const rest = live();
    if (rest.length === 0) process.exit(0);
    if (Date.now() > deadline) {
      for (const [pid] of rest) { try { process.kill(pid, 'SIGKILL'); } catch {} }
      process.exit(0);
    }
    setTimeout(tick, 100);
  };
  tick();
};
process.stdin.on('end', reap);
process.stdin.on('error', reap);
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
`;

let reaper: ChildProcess | null = null;

/** The start time of a process (field 22 of /proc/<pid>/stat), or null where unknown. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Make `pid` end when this process ends: `signal` first (SIGINT for PostgreSQL,
 * a fast shutdown), SIGKILL after `graceMs` of the reaper's. Call right after spawning.
 */
export function tieToThisProcess(pid: number | undefined, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (!pid || !existsSync('/proc/self/stat')) return;
  const start = processStartTime(pid);
  if (start === null) return;
  if (!reaper || reaper.exitCode !== null || reaper.signalCode !== null) {
    reaper = spawn(process.execPath, ['-e', REAPER, String(graceMs)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    // Neither the reaper nor its pipe keeps this process alive.
    reaper.unref();
    (reaper.stdin as unknown as { unref?: () => void }).unref?.();
  }
  reaper.stdin?.write(`tie ${pid} ${signal} ${start}\n`);
}

let graceMs = 15_000;

/** How long the reaper waits between the stop signal and SIGKILL (tests shorten it). */
export function setReaperGrace(ms: number): void {
  graceMs = ms;
}

/** Call `stop` once if this process's parent goes away (we are re-parented). Polls every half second. */
export function stopWhenOrphaned(stop: () => void): void {
  const parent = process.ppid;
  if (parent <= 1) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    stop();
  }, 500);
  timer.unref();
}
