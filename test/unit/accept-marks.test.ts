import { AcceptMarks, type AcceptMark } from '../../channels/email/accept-marks';

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
  const first = marks.add(mark('1'));
  const second = marks.add(mark('2'));
  const third = marks.add(mark('3'));
  expect(w.groups).toEqual([['1']]);
  w.releases[0]!();
  await expect(first).resolves.toBeUndefined();
  await tick();
  expect(w.groups).toEqual([['1'], ['2', '3']]);
  w.releases[1]!();
  await expect(Promise.all([second, third])).resolves.toEqual([undefined, undefined]);
});

test('when a write fails, then the marks it carried reject and later marks are written again', async () => {
  const w = controlledWrite();
  const marks = new AcceptMarks({} as never, w.write);
  const first = marks.add(mark('1'));
  const second = marks.add(mark('2'));
  w.releases[0]!(new Error('connection terminated'));
  await expect(first).rejects.toThrow('connection terminated');
  await tick();
  // The database came back: the next group is written, not refused.
  expect(w.groups).toEqual([['1'], ['2']]);
  w.releases[1]!();
  await expect(second).resolves.toBeUndefined();
});

test('when the writer is idle again, then a new mark starts its own write at once', async () => {
  const w = controlledWrite();
  const marks = new AcceptMarks({} as never, w.write);
  const first = marks.add(mark('1'));
  w.releases[0]!();
  await first;
  await tick();
  const later = marks.add(mark('2'));
  expect(w.groups).toEqual([['1'], ['2']]);
  w.releases[1]!();
  await expect(later).resolves.toBeUndefined();
});
