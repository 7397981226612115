// Verification of a sending domain against real DNS (issue 19): reads the DKIM,
// SPF and DMARC records through node's resolver, pointed at DNS_RESOLVER when
// set, and judges them with domain/sender-auth.ts. Used by the API (verify on
// demand) and by the daily re-verification activity.
import { promises as dns } from 'node:dns';
import type { Pool } from 'pg';
import {
  alignmentChecks,
  checkDkimRecord,
  dmarcCheck,
  domainStatus,
  organizationalDomain,
  pickSpfRecord,
  spfCheck,
  spfStep,
  type CheckResult,
  type DkimKeyFacts,
  type TxtAnswer,
} from '../../domain/sender-auth';
import { sendingDomainRepository, type SendingDomainRow } from '../../db/repositories/sending-domains';

export interface DnsSettings {
  /** host:port of the DNS server to ask; empty: the system's resolvers. */
  dnsResolver: string;
  /** Per query, in milliseconds. */
  timeoutMs?: number;
}

export interface VerifySettings extends DnsSettings {
  bounceDomain: string;
  spfRelay: string;
}

/** A TXT lookup that tells "no such record" (null) from a failed lookup (thrown). */
export type TxtLookup = (name: string) => Promise<TxtAnswer>;

const ABSENT = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

export function createTxtLookup(s: DnsSettings): TxtLookup {
  const resolver = new dns.Resolver({ timeout: s.timeoutMs ?? 3000, tries: 2 });
  if (s.dnsResolver) resolver.setServers([s.dnsResolver]);
  return async (name) => {
    try {
      // A record may come in several character strings: they are one text (RFC 7208 3.3).
      return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (ABSENT.has(code)) return null;
      throw new Error(`DNS lookup of ${name} TXT failed (${code || String(err)})`);
    }
  };
}

/** Walk SPF from `domain` through include: and redirect= (RFC 7208: at most 10 lookups). */
async function walkSpf(txt: TxtLookup, domain: string, relay: string) {
  const top = pickSpfRecord(await txt(domain));
  const walk = { record: top, authorizes: false, passAll: false, lookups: 0 };
  if (top === null || top === 'multiple') return walk;
  const queue: string[] = [];
  let step = spfStep(top, relay);
  walk.passAll = step.passAll;
  for (;;) {
    if (step.authorizes) {
      walk.authorizes = true;
      return walk;
    }
    queue.push(...step.next);
    const next = queue.shift();
    if (next === undefined || ++walk.lookups > 10) return walk;
    const rec = pickSpfRecord(await txt(next));
    if (rec === null || rec === 'multiple') {
      step = { authorizes: false, passAll: false, next: [] };
      continue;
    }
    step = spfStep(rec, relay);
  }
}

/** DMARC at _dmarc.<domain>, else at the organizational domain (RFC 7489 6.6.3). */
async function findDmarc(txt: TxtLookup, domain: string): Promise<{ at: string; texts: TxtAnswer }> {
  const at = `_dmarc.${domain}`;
  const texts = await txt(at);
  const org = organizationalDomain(domain);
  if ((texts ?? []).some((t) => /^v\s*=\s*DMARC1/i.test(t.trim())) || org === domain) return { at, texts };
  return { at: `_dmarc.${org}`, texts: await txt(`_dmarc.${org}`) };
}

/** Every check of one domain, in a stable order. A failed lookup fails its check with the reason. */
export async function checkDomain(
  txt: TxtLookup,
  domain: string,
  keys: readonly DkimKeyFacts[],
  s: Pick<VerifySettings, 'bounceDomain' | 'spfRelay'>,
): Promise<CheckResult[]> {
  const guard = async (
    fallback: Omit<CheckResult, 'pass' | 'reason'>,
    run: () => Promise<CheckResult[]>,
  ): Promise<CheckResult[]> => {
    try {
      return await run();
    } catch (err) {
      return [{ ...fallback, pass: false, reason: (err as Error).message }];
    }
  };
  const checks: CheckResult[] = [];
  for (const key of keys.filter((k) => k.state !== 'retired'))
    checks.push(
      ...(await guard(
        { check: 'dkim', name: `${key.selector}._domainkey.${domain}`, required: key.state === 'active' },
        async () => [checkDkimRecord(domain, key, await txt(`${key.selector}._domainkey.${domain}`))],
      )),
    );
  checks.push(
    ...(await guard({ check: 'spf', name: s.bounceDomain, required: true }, async () => [
      spfCheck('spf', s.bounceDomain, await walkSpf(txt, s.bounceDomain, s.spfRelay), s.spfRelay),
    ])),
    ...(await guard({ check: 'spf_from', name: domain, required: false }, async () => [
      spfCheck('spf_from', domain, await walkSpf(txt, domain, s.spfRelay), s.spfRelay),
    ])),
  );
  let policy = null;
  checks.push(
    ...(await guard({ check: 'dmarc', name: `_dmarc.${domain}`, required: true }, async () => {
      const d = dmarcCheck(domain, await findDmarc(txt, domain));
      policy = d.policy;
      return [d.result];
    })),
  );
  checks.push(...alignmentChecks(domain, domain, s.bounceDomain, policy));
  return checks;
}

/** Verify a registered domain now and store the result; null when there is no such domain. */
export async function verifySendingDomain(
  pool: Pool,
  domainId: number,
  s: VerifySettings,
  txt: TxtLookup = createTxtLookup(s),
): Promise<SendingDomainRow | null> {
  const repo = sendingDomainRepository(pool);
  const row = await repo.byId(domainId);
  if (!row) return null;
  const keys: DkimKeyFacts[] = (await repo.keysOf([domainId])).map((k) => ({
    selector: k.selector,
    algorithm: k.algorithm,
    publicKey: k.public_key,
    state: k.state,
  }));
  const checks = await checkDomain(txt, row.domain, keys, s);
  // A pending key whose record is published takes over; the domain is judged on the keys that will sign.
  const promote = checks
    .filter((c) => c.check === 'dkim' && c.pass)
    .map((c) => c.name.split('._domainkey.')[0]!)
    .filter((sel) => keys.some((k) => k.selector === sel && k.state === 'pending'));
  const judged = checks.map((c) =>
    c.check === 'dkim' && promote.includes(c.name.split('._domainkey.')[0]!) ? { ...c, required: true } : c,
  );
  const promotedAlgorithms = new Set(
    keys.filter((k) => promote.includes(k.selector)).map((k) => k.algorithm),
  );
  // The active key a promotion retires no longer decides anything.
  const decisive = judged.map((c) => {
    const key = keys.find((k) => c.check === 'dkim' && `${k.selector}._domainkey.${row.domain}` === c.name);
    return key && key.state === 'active' && promotedAlgorithms.has(key.algorithm)
      ? { ...c, required: false }
      : c;
  });
  return repo.saveVerification(domainId, domainStatus(decisive), decisive, promote);
}
