// Postfix's smtp-sink (Debian's `postfix` package; the Postfix daemon is never
// started) as the benchmark's SMTP server. `-c` prints running counters on
// stdout after every message: their arrival times give first and last arrival.
// With a dump file (`-D`) every transaction is appended with its envelope, so
// the messages of a round can be counted by recipient and by Message-ID.
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** Written by smtp-sink (-S) before every dumped transaction. */
export const DUMP_MARKER = '@@smtp-sink-transaction@@';

/**
 * Reads smtp-sink's `-c` counters ("sess=5 quit=0 mesg=1234\r" after every
 * message) from stdout chunks that may split a record anywhere.
 */
export class SinkCounterParser {
  private carry = '';

  /** The message count of the last complete record in the chunk, or null when it completes none. */
  push(chunk: string): number | null {
    const text = this.carry + chunk;
    const records = text.split(/[\r\n]/);
    this.carry = records.pop() ?? '';
    let last: number | null = null;
    for (const r of records) {
      const m = /mesg=(\d+)/.exec(r);
      if (m) last = Number(m[1]);
    }
    return last;
  }
}

export interface DumpTally {
  transactions: number;
  recipients: number;
  uniqueRecipients: number;
  uniqueMessageIds: number;
  withoutMessageId: number;
  /** Up to 5 recipients received more than once. */
  duplicateExamples: string[];
}

/**
 * Counts the transactions of an smtp-sink dump (-S DUMP_MARKER): recipients
 * from the X-Rcpt-Args records, Message-ID from the message's own header.
 */
export class DumpCounter {
  private transactions = 0;
  private recipients = 0;
  private readonly rcpts = new Set<string>();
  private readonly ids = new Set<string>();
  private withoutId = 0;
  private readonly dupes: string[] = [];
  private inHeader = false;
  private sawId = true;

  line(l: string): void {
    if (l === DUMP_MARKER) {
      this.endTransaction();
      this.transactions++;
      this.inHeader = true;
      this.sawId = false;
      return;
    }
    if (!this.inHeader) return;
    if (l === '') {
      // The end of the message header (smtp-sink's records come before it, without a blank line).
      this.endTransaction();
      return;
    }
    const rcpt = /^X-Rcpt-Args:\s*<?([^>\s]*)>?/i.exec(l);
    if (rcpt) {
      const addr = rcpt[1]!.toLowerCase();
      this.recipients++;
      if (this.rcpts.has(addr)) {
        if (this.dupes.length < 5) this.dupes.push(addr);
      } else this.rcpts.add(addr);
      return;
    }
    const id = /^Message-ID:\s*(\S+)/i.exec(l);
    if (id && !this.sawId) {
      this.sawId = true;
      this.ids.add(id[1]!);
    }
  }

  result(): DumpTally {
    this.endTransaction();
    return {
      transactions: this.transactions,
      recipients: this.recipients,
      uniqueRecipients: this.rcpts.size,
      uniqueMessageIds: this.ids.size,
      withoutMessageId: this.withoutId,
      duplicateExamples: [...this.dupes],
    };
  }

  private endTransaction(): void {
    if (this.inHeader && !this.sawId) this.withoutId++;
    this.inHeader = false;
    this.sawId = true;
  }
}

export interface SinkOptions {
  port: number;
  /** Append every transaction to this file (costs the sink CPU per message); none: counters only. */
  dumpFile?: string;
  log?: (line: string) => void;
  /** More smtp-sink options (e.g. -p: no PIPELINING). */
  extraArgs?: string[];
}

/** Arrivals observed since `mark()`: count and first/last arrival times (ms, monotonic). */
export interface Arrivals {
  received: number;
  firstMs: number | null;
  lastMs: number | null;
}

export class SmtpSinkProcess {
  readonly process: ChildProcess;
  private count = 0;
  private base = 0;
  private firstMs: number | null = null;
  private lastMs: number | null = null;
  private exited = false;

  private constructor(
    child: ChildProcess,
    readonly opts: SinkOptions,
  ) {
    this.process = child;
    const parser = new SinkCounterParser();
    child.stdout!.setEncoding('latin1');
    child.stdout!.on('data', (chunk: string) => {
      const now = performance.now();
      const n = parser.push(chunk);
      if (n === null || n <= this.count) return;
      this.count = n;
      if (this.firstMs === null && n > this.base) this.firstMs = now;
      this.lastMs = now;
    });
    child.stderr!.on('data', (d: Buffer) => opts.log?.(`smtp-sink: ${d.toString().trimEnd()}`));
    child.once('exit', () => (this.exited = true));
  }

  static async start(opts: SinkOptions): Promise<SmtpSinkProcess> {
    const args = ['-c', '-t', '3600', '-m', '1024'];
    // As root smtp-sink insists on dropping privileges after binding.
    if (process.getuid?.() === 0) args.push('-u', 'nobody');
    if (opts.dumpFile) args.push('-S', `${DUMP_MARKER}\\n`, '-D', opts.dumpFile);
    if (opts.extraArgs) args.push(...opts.extraArgs);
    args.push(`127.0.0.1:${opts.port}`, '1024');
    const child = spawn(sinkBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const sink = new SmtpSinkProcess(child, opts);
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve());
    });
    return sink;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.opts.port}`;
  }

  /** Messages received since the sink started. */
  received(): number {
    return this.count;
  }

  /** Starts a new window of arrivals; returns the dump file's size (the offset where the window's dump starts). */
  mark(): number {
    this.base = this.count;
    this.firstMs = null;
    this.lastMs = null;
    return this.dumpSize();
  }

  arrivals(): Arrivals {
    return { received: this.count - this.base, firstMs: this.firstMs, lastMs: this.lastMs };
  }

  dumpSize(): number {
    if (!this.opts.dumpFile) return 0;
    try {
      return statSync(this.opts.dumpFile).size;
    } catch {
      return 0;
    }
  }

  /** Counts the dumped transactions from byte `from` to the end of the dump file. */
  async tally(from: number): Promise<DumpTally | null> {
    if (!this.opts.dumpFile) return null;
    const counter = new DumpCounter();
    const lines = createInterface({
      input: createReadStream(this.opts.dumpFile, { start: from, encoding: 'latin1' }),
      crlfDelay: Infinity,
    });
    for await (const l of lines) counter.line(l);
    return counter.result();
  }

  isRunning(): boolean {
    return !this.exited;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.process.kill('SIGKILL'), 5000);
      this.process.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.process.kill('SIGTERM');
    });
  }
}

export function sinkBinary(): string {
  return process.env.SMTP_SINK_PATH ?? '/usr/sbin/smtp-sink';
}

export function sourceBinary(): string {
  return process.env.SMTP_SOURCE_PATH ?? '/usr/sbin/smtp-source';
}
