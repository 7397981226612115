// The one-line summary of a run's progress (SPEC 2), the same words wherever
// it is shown: the API's run (from its row) and the workflow's progress query.

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
  nextWave?: { number: number; at: Date; waiting: number } | null;
  /** Why sends are held (our SMTP relay refuses), when they are. */
  heldBy?: string | null;
}

export function runSummary(f: RunSummaryFacts): string {
  const sent = `${f.done} of ${f.targets} sent`;
  let summary: string;
  if (f.status === 'running') {
    summary = f.nextWave
      ? `${sent}; ${f.nextWave.waiting} waiting for retry wave ${f.nextWave.number} at ${f.nextWave.at.toISOString()}`
      : `${sent}${f.minutesLeft !== null ? `, about ${f.minutesLeft} minutes left` : ''}`;
  } else if (f.status === 'reserved') {
    summary = f.scheduledAt ? `reserved for ${f.scheduledAt.toISOString()}` : 'starting';
  } else {
    summary = `${f.status}: ${sent}`;
  }
  return f.heldBy ? `${summary}; waiting for our SMTP relay (${f.heldBy})` : summary;
}
