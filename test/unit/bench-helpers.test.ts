// The benchmark's pure helpers: /proc parsing and tree accounting, smtp-sink's
// counters and dump (bench/proc.ts, bench/sink.ts).
import { parsePssKiB, parseStat, parseVmHwmKiB, treePids, treeTicks, type ProcStat } from '../../bench/proc';
import { DUMP_MARKER, DumpCounter, SinkCounterParser } from '../../bench/sink';

// A real line's shape (proc(5)): pid (comm) state ppid pgrp session tty tpgid flags
// minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads
// itrealvalue starttime vsize rss …
const line = (
  pid: number,
  comm: string,
  ppid: number,
  u: number,
  s: number,
  cu: number,
  cs: number,
  start = 500,
) =>
  `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${u} ${s} ${cu} ${cs} 20 0 11 0 ${start} 1000 200 18446744073709551615`;

describe('parseStat', () => {
  it('reads the fields after a command name holding spaces and parentheses', () => {
    const p = parseStat(line(4242, 'node (worker) x', 1, 310, 45, 7, 3, 123456));
    expect(p).toEqual({
      pid: 4242,
      comm: 'node (worker) x',
      state: 'S',
      ppid: 1,
      utime: 310,
      stime: 45,
      cutime: 7,
      cstime: 3,
      starttime: 123456,
    });
  });

  it('refuses a line that is not a stat line', () => {
    expect(() => parseStat('Name: node')).toThrow(/not a \/proc stat line/);
  });
});

describe('process trees', () => {
  const table = new Map<number, ProcStat>(
    [
      line(10, 'postgres', 1, 100, 50, 400, 100), // reaped backends: 500 ticks
      line(11, 'postgres: checkpointer', 10, 5, 5, 0, 0),
      line(12, 'postgres: bench bench', 10, 30, 10, 0, 0),
      line(20, 'temporal', 1, 70, 30, 0, 0),
      line(21, 'child of 12', 12, 1, 1, 2, 2),
    ].map((l) => {
      const p = parseStat(l);
      return [p.pid, p] as const;
    }),
  );

  it('collects a root and all its descendants, nothing else', () => {
    expect(treePids(table, [10]).sort((a, b) => a - b)).toEqual([10, 11, 12, 21]);
    expect(treePids(table, [99])).toEqual([]);
  });

  it("counts every live process's time and the time of the children it reaped", () => {
    expect(treeTicks(table, [10])).toBe(150 + 500 + 10 + 40 + 6);
    expect(treeTicks(table, [10, 20])).toBe(706 + 100);
  });
});

describe('memory figures', () => {
  it('reads Pss from smaps_rollup and VmHWM from status', () => {
    expect(
      parsePssKiB('00400000-7ffd [rollup]\nRss:              204800 kB\nPss:              150123 kB\n'),
    ).toBe(150123);
    expect(parsePssKiB('Rss: 1 kB\n')).toBeNull();
    expect(parseVmHwmKiB('VmPeak:\t 900000 kB\nVmHWM:\t  312000 kB\nVmRSS:\t 200000 kB\n')).toBe(312000);
  });
});

describe('SinkCounterParser', () => {
  it('returns the last complete count, across records split between chunks', () => {
    const p = new SinkCounterParser();
    expect(p.push('sess=1 quit=0 mesg=1\rsess=1 quit=0 me')).toBe(1);
    expect(p.push('sg=2')).toBeNull();
    expect(p.push('\rsess=1 quit=0 mesg=3\r')).toBe(3);
    expect(p.push('sess=2 quit=1 mesg=3\r')).toBe(3);
  });
});

describe('DumpCounter', () => {
  const transaction = (rcpt: string, messageId: string | null, body = 'Hi') => [
    DUMP_MARKER,
    'X-Client-Addr: 127.0.0.1',
    'X-Mail-Args: <b+1@bounce.localhost>',
    `X-Rcpt-Args: <${rcpt}>`,
    'Received: from [127.0.0.1] ([127.0.0.1])',
    '\tby smtp-sink (smtp-sink) with ESMTP id 1;',
    '\tWed,  2 Dec 2026 15:34:58 +0000 (UTC)',
    'From: news@example.test',
    ...(messageId ? [`Message-ID: ${messageId}`] : []),
    '',
    body,
    '',
  ];

  it('counts transactions, distinct recipients and Message-IDs, and names duplicates', () => {
    const c = new DumpCounter();
    for (const l of [
      ...transaction('lead1@x.test', '<a@b>'),
      ...transaction('lead2@x.test', '<c@b>', 'Message-ID: <not-a-header@b>'),
      ...transaction('LEAD1@x.test', '<d@b>'),
      ...transaction('lead3@x.test', null),
    ])
      c.line(l);
    expect(c.result()).toEqual({
      transactions: 4,
      recipients: 4,
      uniqueRecipients: 3,
      uniqueMessageIds: 3,
      withoutMessageId: 1,
      duplicateExamples: ['lead1@x.test'],
    });
  });
});
