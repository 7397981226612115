import { DEFAULT_BOT_THRESHOLDS, judgeClick, type ClickFacts } from '../../domain/bot-clicks';

const CHROME_DESKTOP =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

/** A click a person would make: an hour after delivery, one link of five, nothing repeated. */
function humanClick(over: Partial<ClickFacts> = {}): ClickFacts {
  const deliveredAt = new Date('2025-04-01T09:00:00Z');
  return {
    at: new Date(deliveredAt.getTime() + 60 * 60 * 1000),
    userAgent: CHROME_DESKTOP,
    linkId: `link-${Math.random().toString(36).slice(2)}`,
    deliveredAt,
    sameLinkClicksBefore: 0,
    distinctLinksClickedIncludingThis: 1,
    linksInMessage: 5,
    distinctLinksClickedWithinBurstWindow: 1,
    ...over,
  };
}

test('a single click by a person an hour after delivery is not suspected', () => {
  expect(judgeClick(humanClick())).toEqual({ suspected: false, reasons: [] });
});

describe('user agents', () => {
  test.each([
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b',
      true,
    ],
    ['Mozilla/5.0 (compatible; Barracuda link check)', true],
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', true],
    ['Mozilla/5.0 (compatible; Google-Safety)', true],
    ['Mozilla/5.0 (compatible; YandexBot/3.0)', true],
    ['python-requests/2.31.0', true],
    ['curl/8.4.0', true],
    ['Wget/1.21.4', true],
    ['Go-http-client/1.1', true],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36',
      true,
    ],
    [CHROME_DESKTOP, false],
    [IPHONE_SAFARI, false],
    [
      'Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
      false,
    ],
    [
      'Mozilla/5.0 (Linux; Android 10; SAMSUNG SM-G973F) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36',
      false,
    ],
  ])('user agent %p is a scanner: %p', (userAgent, scanner) => {
    const verdict = judgeClick(humanClick({ userAgent }));
    expect(verdict.reasons.includes('scanner_user_agent')).toBe(scanner);
    expect(verdict.suspected).toBe(scanner);
  });

  test('when no user agent was recorded, that alone is not suspicious', () => {
    expect(judgeClick(humanClick({ userAgent: null })).suspected).toBe(false);
  });
});

describe('time since delivery', () => {
  test.each([
    ['a click at the moment of delivery is too soon', 0, true],
    ['a click 4.999 s after delivery is too soon', 4999, true],
    ['a click exactly 5 s after delivery is not', 5000, false],
    ['a click before the delivery receipt arrived (receipt lag) is not', -30_000, false],
  ])('%s', (_name, afterMs, suspected) => {
    const deliveredAt = new Date('2025-04-01T09:00:00Z');
    const verdict = judgeClick(humanClick({ deliveredAt, at: new Date(deliveredAt.getTime() + afterMs) }));
    expect(verdict.reasons.includes('too_soon_after_delivery')).toBe(suspected);
  });

  test('when the delivery time is unknown, the rule does not apply', () => {
    expect(judgeClick(humanClick({ deliveredAt: null, at: new Date() })).suspected).toBe(false);
  });
});

describe('the same tracking URL clicked extremely often', () => {
  test.each([
    ['the 10th click on one link (9 before) is not suspected', 9, false],
    ['the 11th click on one link (10 before) is suspected', 10, true],
    ['the 100th click on one link is suspected', 99, true],
  ])('%s', (_name, sameLinkClicksBefore, suspected) => {
    const verdict = judgeClick(humanClick({ sameLinkClicksBefore }));
    expect(verdict.reasons.includes('same_url_repeated')).toBe(suspected);
  });
});

describe('several URLs clicked within one second', () => {
  test.each([
    ['1 link (clicked again) within a second is not a burst', 1, false],
    ['2 distinct links within a second is a burst: the manual says several (複数) URLs', 2, true],
    ['3 distinct links within a second is a burst', 3, true],
  ])('%s', (_name, distinctLinksClickedWithinBurstWindow, suspected) => {
    const verdict = judgeClick(
      humanClick({
        distinctLinksClickedWithinBurstWindow,
        distinctLinksClickedIncludingThis: 3,
        linksInMessage: 10,
      }),
    );
    expect(verdict.reasons.includes('burst_of_urls')).toBe(suspected);
  });
});

describe('nearly every URL of the message clicked', () => {
  test.each([
    ['9 of 10 links clicked is nearly all', 9, 10, true],
    ['8 of 10 links clicked is not', 8, 10, false],
    ['4 of 4 links clicked is nearly all', 4, 4, true],
    ['3 of 3 links is too few links for the rule', 3, 3, false],
    ['1 of 1 link is too few links for the rule', 1, 1, false],
  ])('%s', (_name, distinctLinksClickedIncludingThis, linksInMessage, suspected) => {
    const verdict = judgeClick(humanClick({ distinctLinksClickedIncludingThis, linksInMessage }));
    expect(verdict.reasons.includes('nearly_all_urls')).toBe(suspected);
  });
});

test('a scanner sweep reports every reason that applies', () => {
  const deliveredAt = new Date('2025-04-01T09:00:00Z');
  const verdict = judgeClick(
    humanClick({
      deliveredAt,
      at: new Date(deliveredAt.getTime() + 800),
      userAgent: 'Mozilla/5.0 (compatible; BingPreview/1.0b)',
      distinctLinksClickedIncludingThis: 6,
      linksInMessage: 6,
      distinctLinksClickedWithinBurstWindow: 6,
    }),
  );
  expect(verdict.suspected).toBe(true);
  expect(verdict.reasons).toEqual([
    'scanner_user_agent',
    'too_soon_after_delivery',
    'burst_of_urls',
    'nearly_all_urls',
  ]);
});

test('thresholds are data: a stricter set flags what the defaults let through', () => {
  const facts = humanClick({ sameLinkClicksBefore: 3 });
  expect(judgeClick(facts).suspected).toBe(false);
  expect(judgeClick(facts, { ...DEFAULT_BOT_THRESHOLDS, sameUrlClicksMax: 3 }).reasons).toEqual([
    'same_url_repeated',
  ]);
});

test('custom scanner patterns replace the default list', () => {
  const facts = humanClick({ userAgent: 'AcmeLinkGuard/2.0' });
  expect(judgeClick(facts).suspected).toBe(false);
  expect(
    judgeClick(facts, { ...DEFAULT_BOT_THRESHOLDS, scannerUserAgents: [/AcmeLinkGuard/] }).suspected,
  ).toBe(true);
});
