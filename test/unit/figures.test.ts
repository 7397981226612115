import {
  computeRunFigures,
  ratePercent,
  roundHalfUp2,
  runFigures,
  urlStars,
  type RunCounts,
} from '../../domain/figures';

describe('roundHalfUp2', () => {
  test.each([
    [33.333, 33.33],
    [0.125, 0.13],
    [0.124, 0.12],
    [1.005, 1.01],
    [2.675, 2.68],
    [33.335, 33.34],
    [1.004, 1],
    [0, 0],
    [100, 100],
    [-1.005, -1.01],
  ])('%p rounds half-up to %p', (value, expected) => {
    expect(roundHalfUp2(value)).toBe(expected);
  });
});

describe('ratePercent', () => {
  test.each([
    ['2 of 6 is 33.33', 2, 6, 33.33],
    ['4 of 6 is 66.67 (half-up on the third decimal)', 4, 6, 66.67],
    ['1 of 8 is 12.5', 1, 8, 12.5],
    ['1 of 800 (0.125%) rounds half-up to 0.13', 1, 800, 0.13],
    ['1 of 1001 (0.0999%) rounds to 0.1', 1, 1001, 0.1],
    ['1 of 1201 (0.0833%) rounds to 0.08', 1, 1201, 0.08],
    ['1 of 2001 (0.049975%) rounds to 0.05', 1, 2001, 0.05],
    ['0 of 5 is 0', 0, 5, 0],
    ['5 of 5 is 100', 5, 5, 100],
    ['a non-integer numerator still rounds half-up', 0.5, 3, 16.67],
  ])('%s', (_name, numerator, denominator, expected) => {
    expect(ratePercent(numerator, denominator)).toBe(expected);
  });

  test.each([
    [0, 0],
    [3, 0],
  ])('%p of %p is null: there is nothing to divide by', (numerator, denominator) => {
    expect(ratePercent(numerator, denominator)).toBeNull();
  });
});

describe('computeRunFigures', () => {
  const counts = (over: Partial<RunCounts> = {}): RunCounts => ({
    sent: 8,
    delivered: 6,
    errors: 2,
    openers: 3,
    clickers: 2,
    totalClicks: 5,
    unsubscribes: 1,
    ...over,
  });

  test('2 clickers of 6 delivered is a 33.33 click rate, and every rate uses its own base', () => {
    expect(computeRunFigures(counts())).toEqual({
      sent: 8,
      delivered: 6,
      errors: 2,
      deliveryRate: 75,
      openers: 3,
      unopened: 3,
      openRate: 50,
      clickers: 2,
      totalClicks: 5,
      clickRate: 33.33,
      unsubscribes: 1,
      unsubscribeRate: 16.67,
    });
  });

  test('when opens are not measurable (text mail), openers, unopened and open rate are null', () => {
    const f = computeRunFigures(counts({ openers: null }));
    expect(f.openers).toBeNull();
    expect(f.unopened).toBeNull();
    expect(f.openRate).toBeNull();
    expect(f.clickRate).toBe(33.33);
  });

  test('when nothing was delivered, every rate over delivered is null', () => {
    const f = computeRunFigures(
      counts({ delivered: 0, errors: 8, openers: 0, clickers: 0, totalClicks: 0, unsubscribes: 0 }),
    );
    expect(f.deliveryRate).toBe(0);
    expect(f.openRate).toBeNull();
    expect(f.clickRate).toBeNull();
    expect(f.unsubscribeRate).toBeNull();
    expect(f.unopened).toBe(0);
  });

  test('when nothing was sent, the delivery rate is null', () => {
    const f = computeRunFigures({
      sent: 0,
      delivered: 0,
      errors: 0,
      openers: 0,
      clickers: 0,
      totalClicks: 0,
      unsubscribes: 0,
    });
    expect(f.deliveryRate).toBeNull();
  });

  test('when a late bounce leaves more openers than deliveries, unopened is 0, not negative', () => {
    expect(computeRunFigures(counts({ delivered: 2, openers: 3 })).unopened).toBe(0);
  });
});

describe('urlStars', () => {
  test.each([
    [100, 5],
    [33.33, 5],
    [5, 5],
    [4.99, 4],
    [3, 4],
    [2.99, 3],
    [1, 3],
    [0.99, 2],
    [0.5, 2],
    [0.49, 1],
    [0.1, 1],
    [0.09, 0],
    [0, 0],
  ])('a click rate of %p%% earns %p stars', (rate, stars) => {
    expect(urlStars(rate)).toBe(stars);
  });

  test('a click rate that cannot be computed (null) earns 0 stars', () => {
    expect(urlStars(null)).toBe(0);
  });

  test('the seed example, 2 clickers of 6 delivered, earns 5 stars', () => {
    expect(urlStars(ratePercent(2, 6))).toBe(5);
  });
});

describe('runFigures: the one computation every endpoint shows', () => {
  const counts = {
    opensNotMeasurable: null,
    sentMessages: 5,
    sentParts: 10,
    delivered: 2,
    errors: 1,
    openers: 1,
    clickers: 1,
    totalClicks: 3,
    unsubscribes: 0,
  };

  test('when an SMS run is counted, then sent is in parts and says so, and the rates are over messages', () => {
    const f = runFigures({ ...counts, channel: 'sms', opensNotMeasurable: 'not measurable: sms' });
    expect(f).toMatchObject({ sent: 10, sentUnit: 'parts', sentMessages: 5, deliveryRate: 40 });
    expect(f).toMatchObject({ opensMeasurable: false, openers: null, openRate: null, unopened: null });
  });

  test('when a LINE run is counted, then its delivery rate is not measurable and clicks are over messages sent', () => {
    const f = runFigures({ ...counts, channel: 'line', opensNotMeasurable: 'not measurable: line' });
    expect(f).toMatchObject({ sent: 5, sentUnit: 'messages', deliveryMeasurable: false, deliveryRate: null });
    expect(f.clickRate).toBe(20);
  });

  test('when a text-only email run is counted, then opens are not measurable', () => {
    const f = runFigures({ ...counts, channel: 'email', opensNotMeasurable: 'not measurable: text mail' });
    expect(f).toMatchObject({
      sent: 5,
      openers: null,
      openRate: null,
      opensNotMeasurableReason: 'not measurable: text mail',
    });
    expect(runFigures({ ...counts, channel: 'email' })).toMatchObject({
      openers: 1,
      openRate: 50,
      unopened: 1,
    });
  });
});
