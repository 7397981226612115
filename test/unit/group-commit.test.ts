import { GroupCommit } from '../../channels/email/group-commit';

/** A write whose completion the test controls, recording the groups it was given. */
function controlledWrite() {
  const groups: string[][] = [];
  const releases: Array<(err?: Error) => void> = [];
  const write = (items: string[]) =>
    new Promise<void>((resolve, reject) => {
      groups.push([...items]);
      releases.push((err) => (err ? reject(err) : resolve()));
    });
  return { groups, releases, write };
}

const tick = () => new Promise((r) => setImmediate(r));

test('when outcomes arrive while a write is in flight, then they are written together in the next write', async () => {
  const w = controlledWrite();
  const g = new GroupCommit(w.write, 10);
  for (const id of ['1', '2', '3']) {
    expect(await g.acquire()).toBe(true);
    g.add(id);
  }
  expect(w.groups).toEqual([['1']]);
  w.releases[0]!();
  await tick();
  expect(w.groups).toEqual([['1'], ['2', '3']]);
  w.releases[1]!();
  await g.settle();
  expect(g.unrecorded).toBe(0);
});

test('when the window of unrecorded messages is full, then no slot is given until a write commits', async () => {
  const w = controlledWrite();
  const g = new GroupCommit(w.write, 2, 5, 60_000);
  expect(await g.acquire()).toBe(true);
  g.add('1');
  // Fewer than minGroup wait, a slot is free and the delay is long: nothing written yet.
  expect(w.groups).toEqual([]);
  expect(await g.acquire()).toBe(true);
  g.add('2');
  // The full window forces the write; a third send waits for its commit.
  expect(w.groups).toEqual([['1', '2']]);
  let third = false;
  const waiting = g.acquire().then((ok) => (third = ok));
  await tick();
  expect(third).toBe(false);
  expect(g.unrecorded).toBe(2);
  w.releases[0]!();
  await waiting;
  expect(third).toBe(true);
  expect(g.unrecorded).toBe(1);
  g.release();
  await g.settle();
});

test('when a write fails, then nothing more may be sent and settle throws the failure', async () => {
  const w = controlledWrite();
  const g = new GroupCommit(w.write, 1);
  expect(await g.acquire()).toBe(true);
  g.add('1');
  const blocked = g.acquire();
  w.releases[0]!(new Error('connection terminated'));
  await expect(blocked).resolves.toBe(false);
  await expect(g.acquire()).resolves.toBe(false);
  await expect(g.settle()).rejects.toThrow('connection terminated');
});

test('when fewer than a group wait, then they are written after the delay', async () => {
  const w = controlledWrite();
  const g = new GroupCommit(w.write, 10, 5, 5);
  expect(await g.acquire()).toBe(true);
  g.add('1');
  expect(w.groups).toEqual([]);
  await new Promise((r) => setTimeout(r, 30));
  expect(w.groups).toEqual([['1']]);
  w.releases[0]!();
  await g.settle();
  expect(g.unrecorded).toBe(0);
});
