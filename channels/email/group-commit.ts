// Group commit of a batch's outcomes, with a bound on what is unrecorded.
//
// Every message a batch puts on the wire holds a slot from before it is sent
// until the transaction recording its outcome (db/outcomes.ts) committed. A
// group is written when `minGroup` outcomes wait, when every slot is taken (no
// send can start before a write), when the batch ends, or at the latest
// `maxDelayMs` after its first outcome arrived; outcomes that arrive while a
// write is in flight ride the next one. One transaction per outcome would
// cost the database more than the message itself; one per `minGroup` keeps
// an acceptance's way to disk short and bounded.
//
// The slots are the bound on repeats (domain/repeat-bound.ts): a send waits
// for a free slot, so at no moment are more than `limit` messages of a batch
// sent (or on the wire) without a durable record. When a write fails (the
// database is away) nothing more is sent: every waiter is refused, and the
// batch fails once what is on the wire has come back. Its retry resends at
// most those `limit` messages.

export class GroupCommit<T> {
  private queue: T[] = [];
  private writing = false;
  /** Slots taken: messages about to be sent, on the wire, or recorded but not yet committed. */
  private held = 0;
  private failure: { err: unknown } | null = null;
  private waiters: Array<() => void> = [];
  private idle: Array<() => void> = [];
  private settling = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    readonly limit: number,
    private readonly minGroup = 1,
    private readonly maxDelayMs = 20,
  ) {
    if (!(limit >= 1)) throw new Error('a group commit needs at least one slot');
  }

  /** Slots taken now (tests and metrics). */
  get unrecorded(): number {
    return this.held;
  }

  /** The failed write's error, once a write failed. */
  get failed(): unknown {
    return this.failure?.err ?? null;
  }

  /**
   * Take a slot before a message goes on the wire: waits while `limit` are taken. Resolves false
   * (no slot taken) once a write has failed: nothing more may be sent.
   */
  async acquire(): Promise<boolean> {
    while (!this.failure && this.held >= this.limit) {
      // Every slot is taken: nothing can be sent before a write frees some.
      this.maybeWrite(true);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failure) return false;
    this.held++;
    return true;
  }

  /** A slot whose message produced nothing to record (held back, put back): free it. */
  release(): void {
    this.held--;
    this.wake();
  }

  /**
   * Queue an outcome for the next write. `slotted`: it holds a slot from acquire(), freed when its
   * write commits; outcomes of messages never sent now (already accepted before an interruption)
   * hold none.
   */
  add(item: T, slotted = true): void {
    if (!slotted) this.held++;
    this.queue.push(item);
    this.maybeWrite();
  }

  /** Write what is queued now rather than wait for a group (SharedCommits: another batch writes). */
  flush(): void {
    this.maybeWrite(true);
  }

  /** Wait until everything queued is written; throws the failure if a write failed. */
  async settle(): Promise<void> {
    this.settling = true;
    this.maybeWrite(true);
    while (this.writing || (this.queue.length > 0 && !this.failure)) {
      await new Promise<void>((resolve) => this.idle.push(resolve));
    }
    if (this.failure) throw this.failure.err;
  }

  private due(): boolean {
    return this.settling || this.queue.length >= this.minGroup || this.held >= this.limit;
  }

  /** Start a write now if one is due (or `now`), else make sure the delay timer runs. */
  private maybeWrite(now = false): void {
    if (this.writing || this.queue.length === 0 || this.failure) return;
    if (now || this.due()) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      void this.drain();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.maybeWrite(true);
    }, this.maxDelayMs);
  }

  private async drain(): Promise<void> {
    this.writing = true;
    for (;;) {
      const group = this.queue;
      this.queue = [];
      try {
        await this.write(group);
        this.held -= group.length;
      } catch (err) {
        this.failure = { err: err ?? new Error('recording failed') };
      }
      this.wake();
      if (this.failure || this.queue.length === 0 || !this.due()) break;
    }
    this.writing = false;
    this.maybeWrite();
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private wake(): void {
    const free = this.failure ? this.waiters.length : Math.max(0, this.limit - this.held);
    for (const resolve of this.waiters.splice(0, free)) resolve();
  }
}

/**
 * One write for the groups of several group commits: the batches of one run in flight in one
 * worker. Each batch keeps its own slots (its bound on what is unrecorded, domain/repeat-bound.ts),
 * and hands each group it writes to `submit`; when one batch's group is due, the others' queued
 * outcomes are flushed to ride the same write, and groups submitted while a write is in flight
 * ride the next one. One statement and one commit for a run's outcomes instead of one per batch:
 * larger groups at the same bound. A failed write fails every group it carried.
 */
export class SharedCommits<T> {
  private members = new Set<{ flush(): void }>();
  private pending: Array<{ items: T[]; done: (err: { err: unknown } | null) => void }> = [];
  private writing = false;
  private scheduled = false;
  private writeStartedAt: number | null = null;

  constructor(private readonly write: (items: T[]) => Promise<void>) {}

  /** How long the write in flight has taken so far (0: none): a hung one should not be joined. */
  busyFor(nowMs: number): number {
    return this.writeStartedAt === null ? 0 : nowMs - this.writeStartedAt;
  }

  /** Batches writing through this (the run's recorders now). */
  get size(): number {
    return this.members.size;
  }

  join(member: { flush(): void }): void {
    this.members.add(member);
  }

  leave(member: { flush(): void }): void {
    this.members.delete(member);
  }

  /** Write `items` (a member's group) with whatever the other members have queued. */
  submit(from: { flush(): void }, items: T[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ items, done: (f) => (f ? reject(f.err) : resolve()) });
      if (!this.writing) for (const m of this.members) if (m !== from) m.flush();
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.writing || this.scheduled) return;
    this.scheduled = true;
    // The flushed members' groups arrive in the microtasks before this.
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const groups = this.pending.splice(0);
      let failure: { err: unknown } | null = null;
      this.writeStartedAt = Date.now();
      try {
        await this.write(groups.flatMap((g) => g.items));
      } catch (err) {
        failure = { err: err ?? new Error('recording failed') };
      }
      this.writeStartedAt = null;
      for (const g of groups) g.done(failure);
    }
    this.writing = false;
  }
}
