// A standalone worker's memory, line by line (WORKER_MEMORY_LOG_SECONDS; off by
// default): where its resident set is. V8's heap (used and reserved), memory
// outside it that V8 knows of (external: Buffers and ArrayBuffers), and the
// kernel's view of the whole process (/proc/self/smaps_rollup): anonymous
// memory (V8's heaps, the workflow isolates' contexts, Temporal's Rust core,
// malloc) and file-backed pages (node's binary, the native modules). The peak
// (VmHWM) is what the benchmark reports. Each line carries the CPU time so far
// (the 'ready' line's: what starting cost).
import { readFileSync } from 'node:fs';

const MiB = 1024 * 1024;

/** The figures of one line, in MiB. */
export function memoryFigures(): Record<string, number> {
  const m = process.memoryUsage();
  const figures: Record<string, number> = {
    rss: mib(m.rss),
    heapUsed: mib(m.heapUsed),
    heapTotal: mib(m.heapTotal),
    external: mib(m.external),
    arrayBuffers: mib(m.arrayBuffers),
  };
  const kernel = procFigures();
  if (kernel) Object.assign(figures, kernel);
  return figures;
}

function procFigures(): Record<string, number> | null {
  try {
    const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
    const status = readFileSync('/proc/self/status', 'utf8');
    return {
      anonymous: kib(rollup, 'Anonymous'),
      fileBacked: kib(rollup, 'Rss') - kib(rollup, 'Anonymous'),
      vmHWM: kib(status, 'VmHWM'),
    };
  } catch {
    return null; // not Linux: the process figures only
  }
}

/** The process's CPU time so far (user and system), in seconds. */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return Math.round((user + system) / 10_000) / 100;
}

function kib(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

function mib(bytes: number): number {
  return Math.round(bytes / MiB);
}

/**
 * Write the figures, one JSON line on standard error (apart from the log, whatever
 * LOG_LEVEL; the benchmark keeps a worker's standard error), every `seconds`
 * (0: never); mark() writes one now; stop() ends it.
 */
export function startMemoryLog(seconds: number): { mark(at: string): void; stop(): void } {
  if (seconds <= 0) return { mark: () => undefined, stop: () => undefined };
  const line = (at: string) =>
    process.stderr.write(
      `${JSON.stringify({ workerMemory: at, pid: process.pid, mib: memoryFigures(), cpuSeconds: cpuSeconds() })}\n`,
    );
  line('start');
  const timer = setInterval(() => line('interval'), seconds * 1000);
  timer.unref();
  return {
    mark: line,
    stop() {
      clearInterval(timer);
      line('stop');
    },
  };
}
