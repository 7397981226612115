import { DELIVERY_CODES } from '../../domain/delivery-codes';
import { DELIVERY_CODE_TEXT, labelsFor, pickLanguage } from '../../domain/i18n';
import { isoInZone } from '../../domain/i18n/time';
import { compileSegmentFilter, FilterError } from '../../domain/segment-filter';

describe('the language of an answer', () => {
  test.each([
    [undefined, 'ja', 'ja'],
    ['en', 'ja', 'en'],
    ['en-US,en;q=0.9', 'ja', 'en'],
    ['ja-JP', 'en', 'ja'],
    ['fr, en;q=0.5', 'ja', 'en'],
    ['fr', 'en', 'en'],
    ['*', 'ja', 'ja'],
    ['en;q=0.2, ja;q=0.8', 'en', 'ja'],
    ['ja;q=0', 'en', 'en'],
  ] as const)('Accept-Language %p with default %s answers %s', (header, fallback, want) => {
    expect(pickLanguage(header, fallback)).toBe(want);
  });
});

test('every delivery code has its Japanese meaning and remedy, and the English meaning of the code table', () => {
  for (const [code, info] of Object.entries(DELIVERY_CODES)) {
    const text = DELIVERY_CODE_TEXT.get(Number(code))!;
    expect(text.meaning.en).toBe(info.meaning);
    expect(text.meaning.ja).not.toBe(info.meaning);
    expect(text.remedy.ja).not.toBe('');
    expect(text.remedy.en).not.toBe('');
  }
  const ja = labelsFor('ja');
  expect(ja.detail('handset out of range or switched off')).toBe(
    '送信先の端末が圏外か、電源が入っていなかった為、SMSの送信に失敗しました',
  );
  expect(ja.detail('550 5.1.1 unknown user')).toBe('550 5.1.1 unknown user');
  expect(ja.codeMeaning(99999)).toBeNull();
});

test.each([
  ['2001-03-31T15:30:00.000Z', 'Asia/Tokyo', '2001-04-01T00:30:00.000+09:00'],
  ['2026-07-01T12:00:00.250Z', 'America/New_York', '2026-07-01T08:00:00.250-04:00'],
  ['2026-01-01T12:00:00.000Z', 'UTC', '2026-01-01T12:00:00.000+00:00'],
])('%s in %s is %s', (at, zone, want) => {
  expect(isoInZone(new Date(at), zone)).toBe(want);
});

describe('the send history condition of the segment filter', () => {
  test('each key narrows the same EXISTS over the lead’s sends, values bound as parameters', () => {
    const f = compileSegmentFilter({
      sends: {
        channel: 'email',
        runId: [3, 4],
        result: 'error',
        code: [42550],
        sentFrom: '2026-01-01T00:00:00Z',
        clicked: true,
        opened: false,
        unsubscribed: false,
      },
    });
    expect(f.sql).toContain('EXISTS (SELECT 1 FROM send hs WHERE hs.lead_id = l.id');
    expect(f.sql).toContain('hs.click_count > 0');
    expect(f.sql).toContain('hs.opened_at IS NULL');
    expect(f.sql).toContain('NOT EXISTS (SELECT 1 FROM tracking_event hu');
    expect(f.params).toEqual([['email'], [3, 4], ['error'], [42550], '2026-01-01T00:00:00.000Z']);
    // A run's send no batch has reached yet is no history (db/run-queries.ts unreachedSend).
    expect(compileSegmentFilter({ sends: { exists: false } }).sql).toBe(
      "(NOT EXISTS (SELECT 1 FROM send hs WHERE hs.lead_id = l.id AND NOT (hs.run_id IS NOT NULL AND hs.result = 'pending' AND hs.attempts = 0 AND hs.next_attempt_at IS NULL AND hs.message_id IS NULL AND hs.updated_at = hs.created_at)))",
    );
  });

  test.each([
    [{ sends: { opened: 'yes' } }, 'filter.sends.opened'],
    [{ sends: { result: ['bounced'] } }, 'filter.sends.result[0]'],
    [{ sends: { runId: 'x' } }, 'filter.sends.runId'],
    [{ sends: { sentTo: 'yesterday' } }, 'filter.sends.sentTo'],
    [{ sends: { colour: 'red' } }, 'filter.sends.colour'],
    [{ all: [{ sends: [] }] }, 'filter.all[0].sends'],
  ])('%j is refused at %s', (filter, path) => {
    expect(() => compileSegmentFilter(filter)).toThrow(FilterError);
    try {
      compileSegmentFilter(filter);
    } catch (e) {
      expect((e as FilterError).path).toBe(path);
    }
  });
});
