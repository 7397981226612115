import { AcceptMarks, type AcceptMark } from '../../activities/accept-marks';

/** A write whose completion the test controls, recording the groups it was given. */
function controlledWrite() {
  const groups: string[][] = [];
  const releases: Array<(err?: Error) => void> = [];
  const write = (_db: unknown, marks: AcceptMark[]) =>
    new Promise<void>((resolve, reject) => {
      groups.push(marks.map((m) => m.sendId));
      releases.push((err) => (err ? reject(err) : resolve()));
    });
  return { groups, releases, write };
}

const mark = (id: string): AcceptMark => ({ sendId: id, messageId: `<${id}@x>` });
const tick = () => new Promise((r) => setImmediate(r));

test('when marks arrive while a write is in flight, then they are written together in the next statement', async () => {
  const w = controlledWrite();
  const marks = new AcceptMarks({} as never, w.write);
  marks.add(mark('1'));
  marks.add(mark('2'));
  marks.add(mark('3'));
  expect(w.groups).toEqual([['1']]);
  w.releases[0]!();
  await tick();
  expect(w.groups).toEqual([['1'], ['2', '3']]);
  const done = marks.settled();
  w.releases[1]!();
  await expect(done).resolves.toBeUndefined();
});

test('when a write fails, then later marks are not written and settled() reports the failure', async () => {
  const w = controlledWrite();
  const marks = new AcceptMarks({} as never, w.write);
  marks.add(mark('1'));
  marks.add(mark('2'));
  w.releases[0]!(new Error('connection terminated'));
  await tick();
  expect(marks.failure).toBeInstanceOf(Error);
  expect(w.groups).toEqual([['1']]);
  await expect(marks.settled()).rejects.toThrow('connection terminated');
});

test('when a mark is added after a failure, then it is dropped and settled() still reports the failure', async () => {
  const w = controlledWrite();
  const marks = new AcceptMarks({} as never, w.write);
  marks.add(mark('1'));
  w.releases[0]!(new Error('connection terminated'));
  await tick();
  marks.add(mark('2'));
  await expect(marks.settled()).rejects.toThrow('connection terminated');
  expect(w.groups).toEqual([['1']]);
});

test('when nothing was added, then settled() resolves at once', async () => {
  const marks = new AcceptMarks({} as never, controlledWrite().write);
  await expect(marks.settled()).resolves.toBeUndefined();
});
