// Machine-click heuristics (SPEC §8, seed "機械的なクリック"). Every click still
// counts; these rules only mark clicks so figures can be shown with and without them.

export interface BotThresholds {
  /** A click is suspected once this many earlier clicks hit the same tracking link. */
  sameUrlClicksMax: number;
  /** Share of the message's links (0..1) a recipient has clicked that looks like a scanner sweep. */
  fractionOfUrlsClicked: number;
  /** The fraction rule needs this many links; clicking both links of a 2-link message is human. */
  minUrlsForFractionRule: number;
  burstWindowMs: number;
  /** Distinct links clicked within burstWindowMs (this click included) that count as a burst. */
  burstDistinctUrls: number;
  /** Clicks sooner than this after delivery are faster than a person can read. */
  secondsAfterDelivery: number;
  scannerUserAgents: readonly RegExp[];
}

export const DEFAULT_BOT_THRESHOLDS: BotThresholds = {
  sameUrlClicksMax: 10,
  fractionOfUrlsClicked: 0.9,
  minUrlsForFractionRule: 4,
  // Seed: "短期間(1秒以内)で複数のURLに対してクリックされている": several (複数) is two or more
  // distinct URLs; one URL clicked twice is the same-URL rule's business.
  burstWindowMs: 1000,
  burstDistinctUrls: 2,
  secondsAfterDelivery: 5,
  scannerUserAgents: [
    // Mail security gateways / link scanners that name themselves.
    /BingPreview/i,
    /Barracuda/i,
    /Proofpoint/i,
    /Mimecast/i,
    /Google-Safety/i,
    // Generic automation. "bot" needs a word boundary or a slash so that
    // handset names such as "CUBOT X19" in Android UAs do not match.
    /\bbot\b|bot\//i,
    /crawler/i,
    /spider/i,
    /HeadlessChrome/i,
    /python-requests/i,
    /\bcurl\//i,
    /\bWget\//i,
    /Go-http-client/i,
  ],
};

export interface ClickFacts {
  at: Date;
  userAgent: string | null;
  linkId: string;
  deliveredAt: Date | null;
  /** Earlier clicks on this same tracking link. */
  sameLinkClicksBefore: number;
  distinctLinksClickedIncludingThis: number;
  linksInMessage: number;
  /** Distinct links of this send clicked within burstWindowMs before this click, including this one. */
  distinctLinksClickedWithinBurstWindow: number;
}

export type BotReason =
  | 'scanner_user_agent'
  | 'too_soon_after_delivery'
  | 'same_url_repeated'
  | 'burst_of_urls'
  | 'nearly_all_urls';

export interface ClickJudgement {
  suspected: boolean;
  reasons: BotReason[];
}

export function judgeClick(facts: ClickFacts, t: BotThresholds = DEFAULT_BOT_THRESHOLDS): ClickJudgement {
  const reasons: BotReason[] = [];

  // A missing user agent is "not recorded", not evidence either way.
  const ua = facts.userAgent;
  if (ua !== null && t.scannerUserAgents.some((pattern) => pattern.test(ua))) {
    reasons.push('scanner_user_agent');
  }

  if (facts.deliveredAt !== null) {
    const elapsedMs = facts.at.getTime() - facts.deliveredAt.getTime();
    // A negative gap means the delivery receipt arrived after the click (SMS
    // receipts often lag), which says nothing about the clicker.
    if (elapsedMs >= 0 && elapsedMs < t.secondsAfterDelivery * 1000) {
      reasons.push('too_soon_after_delivery');
    }
  }

  if (facts.sameLinkClicksBefore >= t.sameUrlClicksMax) {
    reasons.push('same_url_repeated');
  }

  if (facts.distinctLinksClickedWithinBurstWindow >= t.burstDistinctUrls) {
    reasons.push('burst_of_urls');
  }

  if (
    facts.linksInMessage >= t.minUrlsForFractionRule &&
    facts.distinctLinksClickedIncludingThis / facts.linksInMessage >= t.fractionOfUrlsClicked
  ) {
    reasons.push('nearly_all_urls');
  }

  return { suspected: reasons.length > 0, reasons };
}
