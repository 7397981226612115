// The run's one-line summary (domain/run-summary.ts), shown by the API's run
// and by the workflow's progress query alike.
import { plannedCompletion, runSummary } from '../../domain/run-summary';

const at = new Date('2026-12-02T09:00:00.000Z');

test('when a run is running, then the summary counts what is done and, once measured, the minutes left', () => {
  expect(runSummary({ status: 'running', done: 3, targets: 10, minutesLeft: null })).toBe('3 of 10 sent');
  expect(runSummary({ status: 'running', done: 3, targets: 10, minutesLeft: 4 })).toBe(
    '3 of 10 sent, about 4 minutes left',
  );
});

test('when a running run waits for a retry wave, then the summary names the wave, its time and what it retries', () => {
  expect(
    runSummary({
      status: 'running',
      done: 10,
      targets: 10,
      minutesLeft: 1,
      nextWave: { number: 2, at, waiting: 3 },
    }),
  ).toBe('10 of 10 sent; 3 waiting for retry wave 2 at 2026-12-02T09:00:00.000Z');
});

test('when a run is reserved, then the summary says for when, or that it is starting', () => {
  expect(runSummary({ status: 'reserved', done: 0, targets: 0, minutesLeft: null, scheduledAt: at })).toBe(
    'reserved for 2026-12-02T09:00:00.000Z',
  );
  expect(runSummary({ status: 'reserved', done: 0, targets: 0, minutesLeft: null })).toBe('starting');
});

test('when a run has ended, then the summary leads with its status', () => {
  for (const status of ['completed', 'error', 'cancelled', 'preparing'])
    expect(runSummary({ status, done: 7, targets: 9, minutesLeft: 2 })).toBe(`${status}: 7 of 9 sent`);
});

test('when our relay holds the sends, then the summary says so after the progress', () => {
  expect(
    runSummary({ status: 'running', done: 1, targets: 5, minutesLeft: null, heldBy: 'relay_down' }),
  ).toBe('1 of 5 sent; waiting for our SMTP relay (relay_down)');
});

test('when sends wait on a hold or a wave, then a running run never says "about 0 minutes left"', () => {
  expect(
    runSummary({ status: 'running', done: 8, targets: 10, minutesLeft: 0, held: { count: 2, until: at } }),
  ).toBe('8 of 10 sent; 2 held back until 2026-12-02T09:00:00.000Z');
  expect(runSummary({ status: 'running', done: 8, targets: 10, minutesLeft: 0 })).toBe(
    '8 of 10 sent, about 1 minutes left',
  );
  expect(runSummary({ status: 'running', done: 10, targets: 10, minutesLeft: 0 })).toBe('10 of 10 sent');
});

test('when a completed run still has retry waves, then its summary says what waits and when', () => {
  expect(
    runSummary({
      status: 'completed',
      done: 8,
      targets: 8,
      minutesLeft: null,
      nextWave: { at, waiting: 1 },
    }),
  ).toBe('completed: 8 of 8 sent; 1 waiting for a retry wave at 2026-12-02T09:00:00.000Z');
});

test('when the targets are known and nothing was measured, then the planned completion is targets over throughput', () => {
  expect(plannedCompletion({ nowMs: 0, targets: 3000, perMinute: 1000 })).toEqual({
    expectedAtMs: 180_000,
    minutesLeft: 3,
  });
  expect(plannedCompletion({ nowMs: 0, targets: 1, perMinute: 1000 })?.minutesLeft).toBe(1);
  expect(plannedCompletion({ nowMs: 0, targets: 0, perMinute: 1000 })).toBeNull();
  expect(plannedCompletion({ nowMs: 0, targets: 5, perMinute: 0 })).toBeNull();
});
