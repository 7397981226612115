import {
  buildHistoryWhere,
  buildKeyset,
  decodeCursor,
  encodeCursor,
  escapeLike,
  SearchError,
  type SortSpec,
} from '../../domain/history-search';
import { csvRecords, readLeadCsv } from '../../domain/lead-csv';

const SORT: SortSpec = { name: 'createdAt', column: 'r.created_at', idColumn: 'r.id', order: 'desc' };

describe('history search', () => {
  test('when text holds LIKE wildcards, then they are escaped and bound, never inlined', () => {
    expect(escapeLike('50%_a\\b')).toBe('50\\%\\_a\\\\b');
    const w = buildHistoryWhere(
      { title: { kind: 'text', columns: ['t'] } },
      { title: "'; DROP TABLE lead; --" },
    );
    expect(w.sql).toBe('(t LIKE $1)');
    expect(w.params).toEqual(["%'; DROP TABLE lead; --%"]);
  });

  test('when fields and choices are combined, then fields AND and choices OR (one ANY)', () => {
    const w = buildHistoryWhere(
      { status: { kind: 'choice', column: 's' }, channel: { kind: 'choice', column: 'c' } },
      { status: ['error', 'completed'], channel: ['email'] },
      2,
    );
    expect(w.sql).toBe('s = ANY($3::text[]) AND c = ANY($4::text[])');
    expect(w.params).toEqual([['error', 'completed'], ['email']]);
  });

  test.each([[''], ['   ']])('when a text condition is blank (%j), then it is refused', (v) => {
    expect(() => buildHistoryWhere({ title: { kind: 'text', columns: ['t'] } }, { title: v })).toThrow(
      SearchError,
    );
  });

  test('when a range has no zone or is reversed, then it is refused', () => {
    const f = { created: { kind: 'range', column: 'c' } } as const;
    expect(() => buildHistoryWhere(f, { createdFrom: '2026-01-01T00:00:00' })).toThrow(/zone/);
    expect(() =>
      buildHistoryWhere(f, { createdFrom: '2026-01-02T00:00:00Z', createdTo: '2026-01-01T00:00:00Z' }),
    ).toThrow(/after/);
    expect(buildHistoryWhere(f, { createdFrom: '2026-01-01T09:00:00+09:00' }).params).toEqual([
      '2026-01-01T00:00:00.000Z',
    ]);
  });

  test('when a cursor round-trips, then it decodes; tampered or foreign cursors are refused', () => {
    const c = encodeCursor(SORT, '2026-01-31 09:00:00.123456+09', 42);
    expect(decodeCursor(c, SORT)).toEqual({
      s: 'createdAt',
      o: 'desc',
      v: '2026-01-31 09:00:00.123456+09',
      i: '42',
    });
    expect(() => decodeCursor(c, { ...SORT, order: 'asc' })).toThrow(/keep the sort/);
    expect(() => decodeCursor('not a cursor!', SORT)).toThrow(/malformed/);
    const evil = Buffer.from(
      JSON.stringify({ s: 'createdAt', o: 'desc', v: '1; DROP TABLE x', i: '1' }),
    ).toString('base64url');
    expect(() => decodeCursor(evil, SORT)).toThrow(/malformed/);
    expect(buildKeyset(SORT, c, 3).after.sql).toContain('$4::timestamptz');
  });
});

describe('lead CSV', () => {
  test('when fields are quoted with commas, quotes and line breaks, then they parse as one field', async () => {
    const rows: string[][] = [];
    for await (const r of csvRecords('a,b\r\n"x, ""y""\nz",2\n')) rows.push(r);
    expect(rows).toEqual([
      ['a', 'b'],
      ['x, "y"\nz', '2'],
    ]);
  });

  test('when the header repeats a column or a row has too many cells, then each is reported', async () => {
    expect((await readLeadCsv('name,name\n', 10)).errors).toEqual([
      { row: 1, field: 'name', message: 'the column appears twice' },
    ]);
    expect((await readLeadCsv('name,email\na,b@x.jp,extra\n', 10)).errors[0]).toMatchObject({
      row: 2,
      field: 'row',
    });
    expect((await readLeadCsv('name\na\nb\nc\n', 2)).errors[0]).toMatchObject({ field: 'rows' });
  });

  test('when a quoted field is never closed, then the file is refused naming the row (not read to the end as one cell)', async () => {
    const r = await readLeadCsv('name,plan\nok,gold\n"open,gold\nnext,x\n', 10);
    expect(r.fileError).toMatchObject({
      row: 3,
      field: 'csv',
      message: expect.stringMatching(/never closed/),
    });
    expect(r.leads).toEqual([]);
  });

  test('when a quote sits inside an unquoted field or lines end in CR, CRLF and LF mixed, then cells read as written', async () => {
    const r = await readLeadCsv('name,plan\rab"c,x\r\nd,"e"\n', 10);
    expect(r.leads.map((l) => [l.name, l.attributes.plan])).toEqual([
      ['ab"c', 'x'],
      ['d', 'e'],
    ]);
  });
});
