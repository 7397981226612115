import { countLivePollers } from '../../lifecycle/send-workers';

const now = Date.UTC(2026, 11, 3, 12, 0, 0);
const at = (msAgo: number) => ({ seconds: Math.floor((now - msAgo) / 1000), nanos: 0 });

test('when a worker process polls with several pollers, then it counts once', () => {
  expect(
    countLivePollers(
      [
        { identity: '101@host-a', lastAccessTime: at(1_000) },
        { identity: '101@host-a', lastAccessTime: at(5_000) },
        { identity: '202@host-b', lastAccessTime: at(30_000) },
      ],
      now,
    ),
  ).toBe(2);
});

test('when a worker was last seen minutes ago, then it is not counted (a killed worker stays listed for a while)', () => {
  expect(
    countLivePollers(
      [
        { identity: '101@host-a', lastAccessTime: at(10_000) },
        { identity: '303@host-c', lastAccessTime: at(5 * 60_000) },
      ],
      now,
    ),
  ).toBe(1);
});
