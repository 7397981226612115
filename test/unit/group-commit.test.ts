import { GroupCommit, SharedCommits } from '../../channels/email/group-commit';

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

/** Two batches' group commits writing through one SharedCommits. */
function twoBatches(limit: number, minGroup: number) {
  const w = controlledWrite();
  const shared = new SharedCommits<string>(w.write);
  const make = () => {
    const g: GroupCommit<string> = new GroupCommit<string>(
      (items) => shared.submit(g, items),
      limit,
      minGroup,
      60_000,
    );
    shared.join(g);
    return g;
  };
  return { w, shared, a: make(), b: make() };
}

test("when one batch's group is due, then the other batches' waiting outcomes ride the same write", async () => {
  const { w, a, b } = twoBatches(4, 2);
  expect(await b.acquire()).toBe(true);
  b.add('b1');
  expect(await a.acquire()).toBe(true);
  a.add('a1');
  expect(w.groups).toEqual([]);
  expect(await a.acquire()).toBe(true);
  a.add('a2');
  await tick();
  expect(w.groups.map((g) => [...g].sort())).toEqual([['a1', 'a2', 'b1']]);
  w.releases[0]!();
  await Promise.all([a.settle(), b.settle()]);
  expect([a.unrecorded, b.unrecorded]).toEqual([0, 0]);
});

test('when batches share their writes, then each keeps its own bound on unrecorded messages', async () => {
  const { w, a, b } = twoBatches(2, 2);
  expect(await a.acquire()).toBe(true);
  a.add('a1');
  expect(await a.acquire()).toBe(true);
  a.add('a2');
  await tick();
  expect(w.groups).toEqual([['a1', 'a2']]);
  // Batch a's window is full until the write commits; batch b's is its own.
  let third = false;
  const waiting = a.acquire().then((ok) => (third = ok));
  expect(await b.acquire()).toBe(true);
  await tick();
  expect(third).toBe(false);
  w.releases[0]!();
  await waiting;
  expect(third).toBe(true);
  a.release();
  b.release();
  await Promise.all([a.settle(), b.settle()]);
});

test('when a shared write fails, then every batch it carried stops sending and fails', async () => {
  const { w, a, b } = twoBatches(4, 1);
  expect(await a.acquire()).toBe(true);
  expect(await b.acquire()).toBe(true);
  b.add('b1');
  a.add('a1');
  await tick();
  expect(w.groups.map((g) => [...g].sort())).toEqual([['a1', 'b1']]);
  w.releases[0]!(new Error('database away'));
  await expect(a.settle()).rejects.toThrow('database away');
  await expect(b.settle()).rejects.toThrow('database away');
  expect(await a.acquire()).toBe(false);
  expect(await b.acquire()).toBe(false);
});
