// Every exported CSV cell a spreadsheet could run as a formula is shown as text (domain/csv-safety.ts).
import { csvCell, csvLine } from '../../domain/csv-safety';
import { leadCsvLine } from '../../domain/lead-csv';

describe('formula guard of CSV exports', () => {
  test.each([
    ['=1+1', "'=1+1"],
    ['+81 90', "'+81 90"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\r=1', '"\'\r=1"'],
    ['=HYPERLINK("http://x")', '"\'=HYPERLINK(""http://x"")"'],
    ['山田 太郎', '山田 太郎'],
    ['a=b', 'a=b'],
    ['', ''],
    ['a,b', '"a,b"'],
  ])('when a cell is %j, then it is written %j', (value, written) => {
    expect(csvCell(value)).toBe(written);
  });

  test('a line is CRLF-terminated, each cell guarded', () => {
    expect(csvLine(['1', '=x', 'y'])).toBe("1,'=x,y\r\n");
  });

  test('the lead export uses the guard', () => {
    const line = leadCsvLine({
      id: 1,
      name: '=cmd|calc',
      email: '@x.jp',
      phones: {},
      line_user_id: null,
      sms_permission: true,
      dm_permission: true,
      email_valid: true,
      attributes: {},
      created_at: new Date('2026-01-01T00:00:00Z'),
    });
    expect(line.startsWith("1,'=cmd|calc,'@x.jp,")).toBe(true);
  });
});
