// Group commit of relay acceptances (db/run-queries.ts markAccepted), shared
// by every batch a worker runs. A mark is written as soon as no write is in
// flight; marks that arrive while one is in flight ride the next statement
// together. At low rates each mark is its own statement, as fast as before;
// under load one statement carries many, so the database sees one round trip
// and one commit per group instead of one per message, and no mark waits
// longer than the write before it.
import type { Queryable } from '../../db/pool';
import { markAccepted } from '../../db/run-queries';

export interface AcceptMark {
  sendId: string;
  messageId: string;
}

interface Group {
  marks: AcceptMark[];
  done: Promise<void>;
  settle: (err?: unknown) => void;
}

function newGroup(): Group {
  let settle!: (err?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err === undefined ? resolve() : reject(err));
  });
  // A group whose callers all stopped listening must not become an unhandled rejection.
  done.catch(() => undefined);
  return { marks: [], done, settle };
}

export class AcceptMarks {
  private next: Group | null = null;
  private writing = false;

  constructor(
    private readonly db: Queryable,
    private readonly write: (db: Queryable, marks: AcceptMark[]) => Promise<void> = markAccepted,
  ) {}

  /** Queue a mark; resolves when the statement carrying it committed, rejects if it failed. */
  add(mark: AcceptMark): Promise<void> {
    this.next ??= newGroup();
    this.next.marks.push(mark);
    const done = this.next.done;
    if (!this.writing) void this.drain();
    return done;
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.next) {
      const group = this.next;
      this.next = null;
      try {
        await this.write(this.db, group.marks);
        group.settle();
      } catch (err) {
        group.settle(err ?? new Error('accept mark write failed'));
      }
    }
    this.writing = false;
  }
}
