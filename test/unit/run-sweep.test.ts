import { sweepRepair } from '../../domain/run-lifecycle';
import { waveRepair } from '../../domain/wave-sweep';

const run = (status: string, cancelRequested = false) => ({ status, cancelRequested, done: 3, targets: 10 });

describe('the consistency sweep rule', () => {
  test('when the workflow is alive or the run is final, then nothing is repaired', () => {
    expect(sweepRepair(run('running'), { kind: 'running' })).toEqual({ action: 'none' });
    expect(sweepRepair(run('completed'), { kind: 'missing' })).toEqual({ action: 'none' });
    expect(sweepRepair(run('error'), { kind: 'closed', status: 'FAILED' })).toEqual({ action: 'none' });
  });

  test('when a reserved run never had a workflow, then it is started', () => {
    expect(sweepRepair(run('reserved'), { kind: 'missing' })).toEqual({ action: 'start' });
  });

  test('when an immediate run (stored preparing) never had a workflow, then it is started', () => {
    const immediate = {
      status: 'preparing',
      cancelRequested: false,
      done: 0,
      targets: 0,
      neverStarted: true,
    };
    expect(sweepRepair(immediate, { kind: 'missing' })).toEqual({ action: 'start' });
    expect(sweepRepair({ ...immediate, neverStarted: false }, { kind: 'missing' })).toMatchObject({
      action: 'error',
    });
  });

  test('when a cancel was requested and the workflow is gone, then the run is cancelled', () => {
    expect(sweepRepair(run('running', true), { kind: 'closed', status: 'TERMINATED' })).toEqual({
      action: 'cancelled',
    });
    expect(sweepRepair(run('reserved', true), { kind: 'missing' })).toEqual({ action: 'cancelled' });
  });

  test('when a started run lost its workflow, then it ends in error saying how far it got and what to do', () => {
    expect(sweepRepair(run('preparing'), { kind: 'missing' })).toEqual({
      action: 'error',
      message: expect.stringMatching(
        /no longer exists while the run was preparing, after 3 of 10 sent; create a new run/,
      ),
    });
    expect(sweepRepair(run('reserved'), { kind: 'closed', status: 'TIMED_OUT' })).toEqual({
      action: 'error',
      message: expect.stringMatching(/ended \(timed out\) before the run started, so nothing was sent/),
    });
  });
});

describe('the sweep rule for retry waves of finished runs', () => {
  test('when a final run still has sends waiting for a wave and its workflow is gone, then they are cleared with the reason', () => {
    expect(waveRepair({ status: 'completed' }, { kind: 'closed', status: 'TERMINATED' }, 2)).toEqual({
      action: 'clear',
      note: expect.stringMatching(
        /workflow ended \(terminated\) while 2 sends were waiting .* given up \(41607\)/,
      ),
    });
    expect(waveRepair({ status: 'cancelled' }, { kind: 'missing' }, 1)).toEqual({
      action: 'clear',
      note: expect.stringMatching(/no longer exists while 1 send was waiting/),
    });
  });

  test('when the workflow still runs, the run is not final, or nothing waits, then nothing is cleared', () => {
    expect(waveRepair({ status: 'completed' }, { kind: 'running' }, 3)).toEqual({ action: 'none' });
    expect(waveRepair({ status: 'running' }, { kind: 'missing' }, 3)).toEqual({ action: 'none' });
    expect(waveRepair({ status: 'completed' }, { kind: 'missing' }, 0)).toEqual({ action: 'none' });
  });
});
