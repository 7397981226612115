// Sender authentication on the worker side (issue 19): a run's pre-flight check
// (stored with the run before it sends), and the daily re-verification of every
// sending domain that the 'sending-domain-verification' Schedule starts.
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { RunRow } from '../db/run-queries';
import type { TemplateRow } from '../db/template-queries';
import {
  complaintFigures,
  saveRunPreflight,
  sendingDomainRepository,
  sendingDomainState,
} from '../db/repositories/sending-domains';
import {
  complaintRate,
  evaluatePreflight,
  fromDomainOf,
  type Preflight,
  type PreflightThresholds,
} from '../domain/sender-auth';
import { verifySendingDomain, type VerifySettings } from '../channels/email/sender-auth-dns';
import { setDomainAuthState } from '../observability/sender-auth-metrics';

export interface SenderAuthSettings extends VerifySettings {
  allowUnauthenticated: boolean;
  thresholds: PreflightThresholds;
  /** Below this many delivered messages (30 days) the complaint rate warns at most. */
  complaintMinDelivered: number;
  /** Unsubscribe links must be https for RFC 8058 one-click unsubscribe. */
  publicBaseUrl: string;
}

/** The settings from the configuration (config/config.ts). */
export function senderAuthSettings(c: {
  dnsResolver: string;
  bounceDomain: string;
  spfRelay: string;
  allowUnauthenticatedSending: number;
  preflightComplaintWarnBps: number;
  preflightComplaintRefuseBps: number;
  preflightComplaintMinDelivered: number;
  preflightExcludedWarnPercent: number;
  preflightExcludedRefusePercent: number;
  publicBaseUrl: string;
}): SenderAuthSettings {
  return {
    dnsResolver: c.dnsResolver,
    bounceDomain: c.bounceDomain,
    spfRelay: c.spfRelay,
    allowUnauthenticated: c.allowUnauthenticatedSending === 1,
    thresholds: {
      complaintWarn: c.preflightComplaintWarnBps / 10_000,
      complaintRefuse: c.preflightComplaintRefuseBps / 10_000,
      excludedWarn: c.preflightExcludedWarnPercent / 100,
      excludedRefuse: c.preflightExcludedRefusePercent / 100,
    },
    complaintMinDelivered: c.preflightComplaintMinDelivered,
    publicBaseUrl: c.publicBaseUrl,
  };
}

/**
 * A run's pre-flight check from the database's facts now: the From domain's state and complaint
 * rate, the share of leads excluded (known once the run is prepared) and the unsubscribe header.
 */
export async function computePreflight(
  pool: Pool,
  run: Pick<RunRow, 'id' | 'channel' | 'target_count' | 'excluded_count'>,
  template: Pick<TemplateRow, 'from_address'> | null,
  s: SenderAuthSettings,
  prepared: boolean,
): Promise<Preflight> {
  const email = run.channel === 'email';
  const fromDomain = email ? fromDomainOf(template?.from_address) : null;
  const domain = fromDomain ? await sendingDomainState(pool, fromDomain) : null;
  const figures = fromDomain
    ? (await complaintFigures(pool, 'domain', [fromDomain])).get(fromDomain)
    : undefined;
  const byReason = prepared
    ? Object.fromEntries(
        (
          await pool.query<{ reason: string; n: number }>(
            'SELECT reason, count(*)::int AS n FROM run_exclusion WHERE run_id = $1 GROUP BY reason ORDER BY reason',
            [run.id],
          )
        ).rows.map((r) => [r.reason, r.n]),
      )
    : {};
  // Too few messages to judge: a high rate warns, never refuses.
  const enough = (figures?.delivered30d ?? 0) >= s.complaintMinDelivered;
  const thresholds = enough ? s.thresholds : { ...s.thresholds, complaintRefuse: Number.POSITIVE_INFINITY };
  const preflight = evaluatePreflight(
    {
      channel: run.channel,
      fromDomain,
      domain,
      allowUnauthenticated: s.allowUnauthenticated,
      complaintRate30d: figures ? complaintRate(figures.complaints30d, figures.delivered30d) : null,
      complaintRate7d: figures ? complaintRate(figures.complaints7d, figures.delivered7d) : null,
      targets: prepared ? run.target_count : 0,
      excluded: prepared ? run.excluded_count : 0,
      excludedByReason: byReason,
      // channels/email/render.ts puts List-Unsubscribe and List-Unsubscribe-Post on every bulk mail.
      oneClickUnsubscribe: true,
    },
    thresholds,
  );
  if (email && !/^https:/i.test(s.publicBaseUrl)) {
    preflight.items.push({
      check: 'one_click_unsubscribe',
      level: 'warning',
      value: s.publicBaseUrl,
      message: `PUBLIC_BASE_URL is not https: mailbox providers act on one-click unsubscribe (RFC 8058) only over https`,
    });
    if (preflight.verdict === 'ok') preflight.verdict = 'warning';
  }
  return preflight;
}

/** Compute and store a prepared run's pre-flight with the pre-error its sends get. */
export async function storeRunPreflight(
  pool: Pool,
  run: RunRow,
  template: TemplateRow,
  s: SenderAuthSettings,
): Promise<Preflight> {
  const fresh = (await pool.query<RunRow>('SELECT * FROM wizard_run WHERE id = $1', [run.id])).rows[0] ?? run;
  const preflight = await computePreflight(pool, fresh, template, s, true);
  await saveRunPreflight(pool, run.id, preflight, preflight.block);
  return preflight;
}

export function createSenderAuthActivities(deps: {
  pool: Pool;
  logger: Logger;
  settings: SenderAuthSettings;
}) {
  return {
    /** Verify every registered domain against DNS now (the daily Schedule, or on demand). */
    async reverifySendingDomains(): Promise<{ verified: number; failed: number }> {
      const repo = sendingDomainRepository(deps.pool);
      let verified = 0;
      let failed = 0;
      for (const id of await repo.allIds()) {
        const row = await verifySendingDomain(deps.pool, id, deps.settings);
        if (!row) continue;
        setDomainAuthState(row.domain, row.status);
        if (row.status === 'verified') verified++;
        else {
          failed++;
          deps.logger.warn(
            { domain: row.domain, failed: (row.checks ?? []).filter((c) => !c.pass).map((c) => c.reason) },
            'sending domain failed re-verification: its runs and single sends become pre-errors 91002/91003',
          );
        }
      }
      return { verified, failed };
    },
  };
}

export type SenderAuthActivities = ReturnType<typeof createSenderAuthActivities>;
