import {
  findInputProblem,
  freeJsonProblem,
  jsonDepth,
  parseZonedTime,
  textProblem,
} from '../../domain/input-limits';
import { readLeadCsv } from '../../domain/lead-csv';

describe('input limits', () => {
  test('text with a NUL or an unpaired surrogate is refused; other text, emoji included, is not', () => {
    expect(textProblem('a\u0000b')).toMatch(/NUL/);
    expect(textProblem('a\ud800b')).toMatch(/surrogate/);
    expect(textProblem('\udc00')).toMatch(/surrogate/);
    expect(textProblem('名前 😀 \t\n')).toBeNull();
  });

  test('the walk names the deepest offending path, and a too-deep value by its top field', () => {
    expect(findInputProblem({ a: [{ b: 'x\u0000' }] }, 'body')).toEqual({
      path: 'body.a.0.b',
      message: expect.stringMatching(/NUL/),
    });
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = [deep];
    // An explicit stack: 100,000 levels cannot exhaust ours.
    expect(findInputProblem({ name: 'n', attributes: deep }, 'body', 32)).toEqual({
      path: 'body.attributes',
      message: 'nested deeper than 32 levels of objects and arrays',
    });
    expect(jsonDepth(deep, 8)).toBe(9);
  });

  test('free-form JSON is bounded in depth and in bytes', () => {
    expect(freeJsonProblem({ a: { b: 1 } }, { maxDepth: 2, maxBytes: 100 })).toBeNull();
    expect(freeJsonProblem({ a: { b: {} } }, { maxDepth: 2, maxBytes: 100 })).toMatch(/2 levels/);
    expect(freeJsonProblem({ a: 'x'.repeat(100) }, { maxDepth: 2, maxBytes: 100 })).toMatch(/100 bytes/);
  });

  test.each([
    ['2026-01-31T09:00:00+09:00', Date.UTC(2026, 0, 31, 0)],
    ['2026-01-31t00:00:00.123456z', Date.UTC(2026, 0, 31, 0, 0, 0, 123)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2026-02-29T00:00:00Z', null],
    ['2026-02-31T00:00:00Z', null],
    ['2026-01-01T24:00:00Z', null],
    ['2026-12-31T23:59:60Z', null],
    ['0000-01-01T00:00:00Z', null],
    ['1900-01-01T00:00:00+01:00', null],
    ['9999-12-31T23:59:59-01:00', null],
    ['2026-01-01T00:00:00', null],
  ])('%s is %p', (text, ms) => {
    expect(parseZonedTime(text)).toBe(ms);
  });

  test('a CSV cell with a NUL is an error of that row and column; a bad header refuses the file', async () => {
    const ok = await readLeadCsv('name,plan\nfine,gold\nbad\u0000,gold\n', 10);
    expect(ok.leads.map((l) => l.name)).toEqual(['fine']);
    expect(ok.errors).toEqual([{ row: 3, field: 'name', message: expect.stringMatching(/NUL/) }]);
    expect(ok.fileError).toBeUndefined();
    expect((await readLeadCsv('na\u0000me\nx\n', 10)).fileError).toMatchObject({ row: 1 });
  });
});
