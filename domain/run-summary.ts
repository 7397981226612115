// The one-line summary of a run's progress (SPEC 2), the same words wherever
// it is shown: the API's run (from its row) and the workflow's progress query.
// And the run's planned completion (送信完了予定日時) before anything was measured.

export interface RunSummaryFacts {
  status: string;
  /** Messages sent plus pre-errors. */
  done: number;
  targets: number;
  /** Expected minutes left while running; null until measured. */
  minutesLeft: number | null;
  /** A reserved run's time; null or absent: it starts now. */
  scheduledAt?: Date | null;
  /** Waiting for a retry wave: its number, when it is due, and the errors it retries. */
  nextWave?: { number?: number; at: Date; waiting: number } | null;
  /** Sends held back (per-domain allowances, a domain's breaker) until a time. */
  held?: { count: number; until: Date } | null;
  /** Why sends are held (our SMTP relay refuses), when they are. */
  heldBy?: string | null;
}

export function runSummary(f: RunSummaryFacts): string {
  const sent = `${f.done} of ${f.targets} sent`;
  const waves = f.nextWave
    ? `; ${f.nextWave.waiting} waiting for ${f.nextWave.number ? `retry wave ${f.nextWave.number}` : 'a retry wave'} at ${f.nextWave.at.toISOString()}`
    : '';
  const held =
    f.held && f.held.count > 0 ? `; ${f.held.count} held back until ${f.held.until.toISOString()}` : '';
  let summary: string;
  if (f.status === 'running') {
    // "About N minutes left" only while sends flow: never while they wait on waves or holds.
    const waiting = waves !== '' || held !== '' || !!f.heldBy;
    const left =
      !waiting && f.minutesLeft !== null && f.done < f.targets
        ? `, about ${Math.max(1, f.minutesLeft)} minutes left`
        : '';
    summary = `${sent}${left}${held}${waves}`;
  } else if (f.status === 'reserved') {
    summary = f.scheduledAt ? `reserved for ${f.scheduledAt.toISOString()}` : 'starting';
  } else {
    summary = `${f.status}: ${sent}${held}${waves}`;
  }
  return f.heldBy ? `${summary}; waiting for our SMTP relay (${f.heldBy})` : summary;
}

/**
 * The planned completion of a run whose targets are known and nothing was
 * measured yet (issue 18: shown from the start, also for runs of one batch):
 * the targets over the channel's throughput — measured on its recent runs
 * when there are any, else the configured one. Null when nothing can be said.
 */
export function plannedCompletion(opts: {
  nowMs: number;
  targets: number;
  /** Messages per minute. */
  perMinute: number;
}): { expectedAtMs: number; minutesLeft: number } | null {
  if (opts.targets <= 0 || !(opts.perMinute > 0)) return null;
  const msLeft = (opts.targets / opts.perMinute) * 60_000;
  return {
    expectedAtMs: Math.round(opts.nowMs + msLeft),
    minutesLeft: Math.max(1, Math.ceil(msLeft / 60_000)),
  };
}
