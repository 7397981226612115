// Process-tree accounting from /proc: CPU time (user + system, with the time of
// children already reaped by a process of the tree) and proportional set size.
// The parsers are pure (test/unit/bench-proc.test.ts); the readers do the I/O.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  /** Clock ticks (see CLK_TCK). */
  utime: number;
  stime: number;
  /** Ticks of children this process has waited for (recursively: their own reaped children too). */
  cutime: number;
  cstime: number;
  /** Ticks after boot when the process started: with the pid, it names one process across pid reuse. */
  starttime: number;
}

/**
 * One line of /proc/<pid>/stat. The command name sits in parentheses and may
 * itself hold spaces and parentheses, so the fields after it are found from the
 * last ')'.
 */
export function parseStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc stat line: ${line.slice(0, 80)}`);
  const rest = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state) of proc(5); field k sits at rest[k - 3].
  const field = (k: number): number => {
    const v = Number(rest[k - 3]);
    if (!Number.isFinite(v)) throw new Error(`field ${k} missing in /proc stat line: ${line.slice(0, 80)}`);
    return v;
  };
  return {
    pid: Number(line.slice(0, open).trim()),
    comm: line.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: field(4),
    utime: field(14),
    stime: field(15),
    cutime: field(16),
    cstime: field(17),
    starttime: field(22),
  };
}

/** Pss of /proc/<pid>/smaps_rollup, in KiB (null when the text has no Pss line). */
export function parsePssKiB(smapsRollup: string): number | null {
  const m = /^Pss:\s+(\d+)\s+kB/m.exec(smapsRollup);
  return m ? Number(m[1]) : null;
}

/** VmHWM (peak resident set) of /proc/<pid>/status, in KiB. */
export function parseVmHwmKiB(status: string): number | null {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) : null;
}

export type ProcTable = Map<number, ProcStat>;

/** The pids of `roots` and of all their descendants in `table`. */
export function treePids(table: ProcTable, roots: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const p of table.values()) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const out: number[] = [];
  const seen = new Set<number>();
  const stack = roots.filter((r) => table.has(r));
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    out.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

/**
 * CPU ticks of a process tree so far: every live process's own time plus the
 * time of the children it has reaped. A child that exited and was reaped
 * inside the tree thus stays counted (in its parent's cutime/cstime).
 */
export function treeTicks(table: ProcTable, roots: readonly number[]): number {
  let sum = 0;
  for (const pid of treePids(table, roots)) {
    const p = table.get(pid)!;
    sum += p.utime + p.stime + p.cutime + p.cstime;
  }
  return sum;
}

/** Every process's stat line now (processes that vanish while reading are skipped). */
export function readProcTable(): ProcTable {
  const table: ProcTable = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const p = parseStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      table.set(p.pid, p);
    } catch {
      // Exited between readdir and read.
    }
  }
  return table;
}

export function readPssKiB(pid: number): number {
  try {
    return parsePssKiB(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')) ?? 0;
  } catch {
    return 0;
  }
}

export function readVmHwmKiB(pid: number): number | null {
  try {
    return parseVmHwmKiB(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return null;
  }
}

export function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

let clockTicks: number | null = null;

/** Clock ticks per second (CLK_TCK, almost always 100 on Linux). */
export function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Named groups of process trees (e.g. "worker" → the worker pids). */
export type Groups = Record<string, number[]>;

/** CPU seconds of each group's trees now. */
export function cpuSeconds(groups: Groups, table: ProcTable = readProcTable()): Record<string, number> {
  const hz = ticksPerSecond();
  const out: Record<string, number> = {};
  for (const [name, roots] of Object.entries(groups)) out[name] = treeTicks(table, roots) / hz;
  return out;
}

/**
 * Samples the summed PSS of each group's trees every `intervalMs` and keeps
 * the peak. A sampled peak can miss a spike shorter than the interval.
 */
export class PssPeaks {
  private readonly peaks: Record<string, number> = {};
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly groups: () => Groups,
    private readonly intervalMs = 500,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  /** Peak PSS per group, in MiB. */
  stop(): Record<string, number> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return Object.fromEntries(Object.entries(this.peaks).map(([k, v]) => [k, v / 1024]));
  }

  private sample(): void {
    const table = readProcTable();
    for (const [name, roots] of Object.entries(this.groups())) {
      let kib = 0;
      for (const pid of treePids(table, roots)) kib += readPssKiB(pid);
      this.peaks[name] = Math.max(this.peaks[name] ?? 0, kib);
    }
  }
}
