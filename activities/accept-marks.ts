// Group commit of relay acceptances (db/run-queries.ts markAccepted). A mark
// is written as soon as no write is in flight; marks that arrive while one is
// in flight ride the next statement together. At low rates every mark is its
// own statement, as fast as before; under load one statement carries many,
// so the database sees one round trip per group instead of one per message,
// and no mark waits longer than the write before it.
import type { Queryable } from '../db/pool';
import { markAccepted } from '../db/run-queries';

export interface AcceptMark {
  sendId: string;
  messageId: string;
}

export class AcceptMarks {
  private queued: AcceptMark[] = [];
  private writing: Promise<void> | null = null;
  /** The first write that failed: the database is away, so sending should stop. */
  failure: unknown = null;

  constructor(
    private readonly db: Queryable,
    private readonly write: (db: Queryable, marks: AcceptMark[]) => Promise<void> = markAccepted,
  ) {}

  add(mark: AcceptMark): void {
    // After a failure nothing more is written (sending stops; see failure).
    if (this.failure) return;
    this.queued.push(mark);
    // drain() cannot finish synchronously here: the queue is not empty, so it awaits a write.
    if (!this.writing) this.writing = this.drain();
  }

  /** Resolves when every mark added so far is written; throws the first failure. */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.failure) throw this.failure;
  }

  private async drain(): Promise<void> {
    while (this.queued.length > 0 && !this.failure) {
      const group = this.queued;
      this.queued = [];
      try {
        await this.write(this.db, group);
      } catch (err) {
        this.failure = err;
      }
    }
    this.writing = null;
  }
}
