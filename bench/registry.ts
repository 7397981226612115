// Every process the benchmark starts is written here (pid and start time) for
// the watchdog (bench/reaper.ts), which stops them if the benchmark dies
// without stopping them itself.
import { spawn } from 'node:child_process';
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readStat } from './proc';

export class ProcessRegistry {
  private reaperPid: number | undefined;

  constructor(private readonly file: string) {}

  /** Starts the watchdog, detached so that a Ctrl-C to our process group does not stop it first. */
  startReaper(scratchDirs: string[]): void {
    const self = readStat(process.pid);
    if (!self) throw new Error('cannot read /proc/self/stat');
    appendFileSync(this.file, '');
    const child = spawn(
      process.execPath,
      [
        '--require',
        'tsx/cjs',
        join(__dirname, 'reaper.ts'),
        String(process.pid),
        String(self.starttime),
        this.file,
        ...scratchDirs,
      ],
      { cwd: join(__dirname, '..'), detached: true, stdio: 'ignore' },
    );
    child.unref();
    this.reaperPid = child.pid;
  }

  add(pid: number | undefined): void {
    if (!pid) return;
    const s = readStat(pid);
    if (s) appendFileSync(this.file, `${pid} ${s.starttime}\n`);
  }

  /** After a clean stop: nothing is left for the watchdog, which then exits by itself. */
  close(): void {
    rmSync(this.file, { force: true });
    if (this.reaperPid) {
      try {
        process.kill(this.reaperPid, 'SIGTERM');
      } catch {
        // Gone already.
      }
    }
  }
}
