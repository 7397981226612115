// Sender authentication metrics (issue 19), in the process's one registry: the
// complaint rate of each sending domain over 7 and 30 days, read from the
// database when /metrics is scraped (the API registers the source), and each
// domain's verification state. Labels stay bounded: registered sending domains
// only (per-run rates are in the API's figures, not here).
import { Gauge } from 'prom-client';
import { registry } from './metrics';

export interface DomainComplaintRate {
  domain: string;
  window: '7d' | '30d';
  /** Complaints / delivered; null when nothing was delivered in the window. */
  rate: number | null;
}

let source: (() => Promise<DomainComplaintRate[]>) | null = null;

/** Where the complaint rates come from (the API process sets it; a worker alone has none). */
export function setComplaintRateSource(fn: (() => Promise<DomainComplaintRate[]>) | null): void {
  source = fn;
}

new Gauge({
  name: 'delivery_sending_domain_complaint_rate',
  help: 'Complaints (ARF reports) as a share of delivered messages per sending domain, over the last 7 or 30 days; absent when nothing was delivered',
  labelNames: ['domain', 'window'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    if (!source) return;
    for (const r of await source())
      if (r.rate !== null) this.set({ domain: r.domain, window: r.window }, r.rate);
  },
});

const authState = new Gauge({
  name: 'delivery_sending_domain_verified',
  help: '1 while a sending domain is verified (SPF, DKIM, DMARC), 0 after a failed verification',
  labelNames: ['domain'] as const,
  registers: [registry],
});

export function setDomainAuthState(domain: string, status: string): void {
  authState.set({ domain }, status === 'verified' ? 1 : 0);
}
