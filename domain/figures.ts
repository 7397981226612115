// Run figures (SPEC §8). Pure arithmetic: safe to import from workflow code.

/**
 * Rounds half away from zero to 2 decimals ("四捨五入" in the seed).
 * Scaling by 100 in binary floating point turns 1.005 into 100.49999999999999;
 * re-reading the product at 15 significant digits removes that artefact
 * before rounding.
 */
export function roundHalfUp2(value: number): number {
  if (!Number.isFinite(value)) return value;
  const magnitude = Math.abs(value);
  const scaled = Number((magnitude * 100).toPrecision(15));
  const rounded = Math.floor(scaled + 0.5) / 100;
  return value < 0 ? -rounded : rounded;
}

/** numerator / denominator as a percent rounded half-up to 2 decimals; null when there is nothing to divide by. */
export function ratePercent(numerator: number, denominator: number): number | null {
  if (denominator === 0) return null;
  // Counts are integers: do the rounding in exact integer arithmetic when it fits.
  if (
    Number.isSafeInteger(numerator) &&
    Number.isSafeInteger(denominator) &&
    numerator >= 0 &&
    denominator > 0 &&
    Number.isSafeInteger(numerator * 20000 + denominator)
  ) {
    // floor(n·10000/d + ½) == floor((20000n + d) / 2d); the correction steps
    // keep the floor exact even where float division rounds across an integer.
    const dividend = numerator * 20000 + denominator;
    const divisor = 2 * denominator;
    let hundredths = Math.floor(dividend / divisor);
    if (hundredths * divisor > dividend) hundredths -= 1;
    else if ((hundredths + 1) * divisor <= dividend) hundredths += 1;
    return hundredths / 100;
  }
  return roundHalfUp2((numerator * 100) / denominator);
}

export interface RunCounts {
  sent: number;
  delivered: number;
  errors: number;
  /** null when opens cannot be measured (text-only mail carries no tracking image). */
  openers: number | null;
  clickers: number;
  totalClicks: number;
  unsubscribes: number;
}

export interface RunFigures {
  sent: number;
  delivered: number;
  errors: number;
  deliveryRate: number | null;
  openers: number | null;
  unopened: number | null;
  openRate: number | null;
  clickers: number;
  totalClicks: number;
  clickRate: number | null;
  unsubscribes: number;
  unsubscribeRate: number | null;
}

export function computeRunFigures(c: RunCounts): RunFigures {
  const measurable = c.openers !== null;
  return {
    sent: c.sent,
    delivered: c.delivered,
    errors: c.errors,
    deliveryRate: ratePercent(c.delivered, c.sent),
    openers: c.openers,
    // A late bounce can turn a delivery that was already opened into an error,
    // so openers may exceed delivered; never show a negative count.
    unopened: measurable ? Math.max(0, c.delivered - (c.openers ?? 0)) : null,
    openRate: measurable ? ratePercent(c.openers ?? 0, c.delivered) : null,
    clickers: c.clickers,
    totalClicks: c.totalClicks,
    clickRate: ratePercent(c.clickers, c.delivered),
    unsubscribes: c.unsubscribes,
    unsubscribeRate: ratePercent(c.unsubscribes, c.delivered),
  };
}

export type UrlStars = 0 | 1 | 2 | 3 | 4 | 5;

// Lower bounds in percent, best first (seed: ★5 ≥5%, ★4 ≥3%, ★3 ≥1%, ★2 ≥0.5%, ★1 ≥0.1%).
const STAR_THRESHOLDS: ReadonlyArray<readonly [UrlStars, number]> = [
  [5, 5],
  [4, 3],
  [3, 1],
  [2, 0.5],
  [1, 0.1],
];

/**
 * Per-URL rating. Pass the rounded click rate the user sees, so the stars
 * always agree with the percentage shown next to them.
 */
export function urlStars(clickRatePercent: number | null): UrlStars {
  if (clickRatePercent === null || Number.isNaN(clickRatePercent)) return 0;
  for (const [stars, atLeast] of STAR_THRESHOLDS) {
    if (clickRatePercent >= atLeast) return stars;
  }
  return 0;
}

/** How each channel's figures are counted (issue 18, "figures that agree"). */
export const CHANNEL_FIGURE_RULES: Readonly<
  Record<string, { sentUnit: 'messages' | 'parts'; deliveryConfirmed: boolean }>
> = {
  email: { sentUnit: 'messages', deliveryConfirmed: true },
  // The manual counts SMS sent in parts after splitting (SPEC §6).
  sms: { sentUnit: 'parts', deliveryConfirmed: true },
  // LINE accepts a push but never confirms its delivery to the handset.
  line: { sentUnit: 'messages', deliveryConfirmed: false },
};

/** Everything a run's figures are computed from: its counters and what its channel and template allow to measure. */
export interface RunFigureFacts {
  channel: string;
  /** Why opens cannot be measured (text mail, SMS, LINE); null when they can. */
  opensNotMeasurable: string | null;
  /** Messages sent (accepted or failed at the transport). */
  sentMessages: number;
  /** SMS parts after splitting; ignored for channels that count messages. */
  sentParts: number;
  delivered: number;
  errors: number;
  openers: number;
  clickers: number;
  totalClicks: number;
  unsubscribes: number;
}

export interface RunFigureView extends RunFigures {
  /** What `sent` counts: SMS parts after splitting, or messages. */
  sentUnit: 'messages' | 'parts';
  sentMessages: number;
  opensMeasurable: boolean;
  opensNotMeasurableReason: string | null;
  /** False where the channel never confirms delivery (LINE): deliveryRate is then null. */
  deliveryMeasurable: boolean;
}

/**
 * The one computation of a run's figures: the run, the run list, /figures and
 * the end-of-run mail all show what this returns. Rates are over messages
 * (delivered and clicks count messages, never parts); where delivery is never
 * confirmed, clicks and unsubscribes are rated over the messages sent.
 */
export function runFigures(f: RunFigureFacts): RunFigureView {
  const rules = CHANNEL_FIGURE_RULES[f.channel] ?? { sentUnit: 'messages', deliveryConfirmed: true };
  const opensMeasurable = f.opensNotMeasurable === null;
  const base = computeRunFigures({
    sent: f.sentMessages,
    delivered: f.delivered,
    errors: f.errors,
    openers: opensMeasurable ? f.openers : null,
    clickers: f.clickers,
    totalClicks: f.totalClicks,
    unsubscribes: f.unsubscribes,
  });
  const rateBase = rules.deliveryConfirmed ? f.delivered : f.sentMessages;
  return {
    ...base,
    sent: rules.sentUnit === 'parts' ? f.sentParts : f.sentMessages,
    sentUnit: rules.sentUnit,
    sentMessages: f.sentMessages,
    deliveryRate: rules.deliveryConfirmed ? base.deliveryRate : null,
    deliveryMeasurable: rules.deliveryConfirmed,
    clickRate: ratePercent(f.clickers, rateBase),
    unsubscribeRate: ratePercent(f.unsubscribes, rateBase),
    opensMeasurable,
    opensNotMeasurableReason: f.opensNotMeasurable,
  };
}
