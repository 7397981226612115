// Sender authentication of our sending domains (issue 19): the DNS records a
// user publishes, how the records found in DNS are read (DKIM key records, SPF,
// DMARC), the verdict per check, alignment with the From domain, and what a
// run or single send from a domain in that state becomes (91002 / 91003).
// Pure: the DNS lookups are channels/email/sender-auth-dns.ts's business.
import { DeliveryCode } from './delivery-codes';
import { preErrorOutcome, type DeliveryOutcome } from './delivery-outcome';

export type DkimAlgorithm = 'rsa' | 'ed25519';

/** A DKIM key of a domain: `active` signs; `pending` waits for its record (rotation); `retired` no longer signs. */
export interface DkimKeyFacts {
  selector: string;
  algorithm: DkimAlgorithm;
  /** The `p=` value: base64 of the DER SubjectPublicKeyInfo (RSA) or of the raw 32-byte key (Ed25519). */
  publicKey: string;
  state: 'active' | 'pending' | 'retired';
}

export interface DnsRecord {
  name: string;
  type: 'TXT' | 'MX';
  value: string;
  /** What the record is for, in words a user can act on. */
  purpose: string;
}

/** The settings the records depend on. */
export interface RecordSettings {
  /** Domain of the VERP return path (BOUNCE_DOMAIN): the one SPF is checked against. */
  bounceDomain: string;
  /** The SPF mechanism that authorizes our relay, e.g. `ip4:192.0.2.10` or `include:_spf.relay.example`. */
  spfRelay: string;
  /** Host receiving bounces for the return-path domain (its MX). */
  bounceMx: string;
}

/** Lower case, no trailing dot. */
export function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.+$/, '');
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A host name we can sign for: labels of letters, digits and hyphens (A-labels for IDNs). */
export function isDomainName(domain: string): boolean {
  const d = normalizeDomain(domain);
  return d.length > 0 && d.length <= 253 && d.split('.').every((l) => LABEL.test(l));
}

/** The domain of an address as a template writes it ("Shop <news@example.jp>" → example.jp). */
export function fromDomainOf(from: string | null | undefined): string | null {
  if (!from) return null;
  const m = /<([^<>]+)>\s*$/.exec(from);
  const address = (m ? m[1]! : from).trim();
  const at = address.lastIndexOf('@');
  if (at < 0) return null;
  const domain = normalizeDomain(address.slice(at + 1));
  return domain || null;
}

export const dkimRecordName = (selector: string, domain: string) => `${selector}._domainkey.${domain}`;

export function dkimRecordValue(key: Pick<DkimKeyFacts, 'algorithm' | 'publicKey'>): string {
  return `v=DKIM1; k=${key.algorithm}; p=${key.publicKey}`;
}

/** Every record a user publishes for a domain, the DKIM keys that sign or are about to. */
export function recordsToPublish(
  domain: string,
  keys: readonly DkimKeyFacts[],
  s: RecordSettings,
): DnsRecord[] {
  const out: DnsRecord[] = keys
    .filter((k) => k.state !== 'retired')
    .map((k) => ({
      name: dkimRecordName(k.selector, domain),
      type: 'TXT',
      value: dkimRecordValue(k),
      purpose:
        k.state === 'pending'
          ? `DKIM key (${k.algorithm}) replacing the current one: publish it; the old one stays valid until this one verifies`
          : `DKIM public key (${k.algorithm}): receivers check every message's signature against it`,
    }));
  out.push(
    {
      name: domain,
      type: 'TXT',
      value: `v=spf1 ${s.spfRelay} ~all`,
      purpose:
        'SPF of the From domain: authorizes our relay (merge the mechanism into an existing SPF record)',
    },
    {
      name: `_dmarc.${domain}`,
      type: 'TXT',
      value: `v=DMARC1; p=quarantine; adkim=r; aspf=r`,
      purpose:
        'DMARC policy: required of bulk senders; p=none is accepted to start with, quarantine or reject protects the domain',
    },
    {
      name: s.bounceDomain,
      type: 'TXT',
      value: `v=spf1 ${s.spfRelay} -all`,
      purpose: 'SPF of the return-path (bounce) domain: receivers check SPF against the envelope sender',
    },
    {
      name: s.bounceDomain,
      type: 'MX',
      value: `10 ${s.bounceMx}`,
      purpose: 'bounces and complaint reports come back to our bounce mailbox',
    },
  );
  return out;
}

/** `tag=value; tag=value` (DKIM key records, DMARC): names lower-cased, white space removed around values. */
export function parseTagList(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    if (name && !tags.has(name)) tags.set(name, part.slice(eq + 1).trim());
  }
  return tags;
}

// ---- checks ----

export type CheckName = 'dkim' | 'spf' | 'spf_from' | 'dmarc' | 'dkim_alignment' | 'spf_alignment';

export interface CheckResult {
  check: CheckName;
  /** The record looked at (for DKIM: one per selector). */
  name: string;
  pass: boolean;
  /** Required checks decide the domain's state; the others are advice. */
  required: boolean;
  reason: string;
  /** What to publish to fix a failed check. */
  fix?: string;
}

/** TXT strings of a name as found: null when the name does not exist or has no TXT record. */
export type TxtAnswer = string[] | null;

/** DKIM: the selector's record exists, is a DKIM key record and carries our public key. */
export function checkDkimRecord(domain: string, key: DkimKeyFacts, found: TxtAnswer): CheckResult {
  const name = dkimRecordName(key.selector, domain);
  const base = { check: 'dkim' as const, name, required: key.state === 'active', fix: dkimRecordValue(key) };
  const records = (found ?? []).filter((t) => /(^|;)\s*p\s*=/i.test(t) || /^\s*v\s*=\s*DKIM1/i.test(t));
  if (records.length === 0) return { ...base, pass: false, reason: `no DKIM record at ${name}` };
  if (records.length > 1) return { ...base, pass: false, reason: `more than one DKIM record at ${name}` };
  const tags = parseTagList(records[0]!);
  const v = tags.get('v');
  if (v !== undefined && v !== 'DKIM1')
    return { ...base, pass: false, reason: `${name}: v=${v} is not DKIM1` };
  const k = (tags.get('k') ?? 'rsa').toLowerCase();
  if (k !== key.algorithm)
    return { ...base, pass: false, reason: `${name}: k=${k}, but the key is ${key.algorithm}` };
  const p = (tags.get('p') ?? '').replace(/\s+/g, '');
  if (p === '') return { ...base, pass: false, reason: `${name}: the key is revoked (empty p=)` };
  if (p !== key.publicKey)
    return {
      ...base,
      pass: false,
      reason: `${name}: the published key does not match this domain's key (key mismatch)`,
    };
  return { ...base, pass: true, reason: `${name} carries the ${key.algorithm} key` };
}

// ---- SPF (RFC 7208) ----

export interface SpfTerm {
  qualifier: '+' | '-' | '~' | '?';
  /** Mechanism or modifier name, lower case: ip4, ip6, a, mx, include, all, exists, ptr, redirect, exp. */
  name: string;
  /** What follows `:` or `=` (or the `/len` of a bare `a`/`mx`), as written. */
  value: string;
}

/** The one `v=spf1` record among a name's TXT strings; null when none, 'multiple' when several (permerror). */
export function pickSpfRecord(texts: TxtAnswer): string | null | 'multiple' {
  const spf = (texts ?? []).filter((t) => /^v=spf1(\s|$)/i.test(t.trim()));
  if (spf.length > 1) return 'multiple';
  return spf[0]?.trim() ?? null;
}

export function parseSpf(record: string): SpfTerm[] {
  return record
    .trim()
    .split(/\s+/)
    .slice(1)
    .filter(Boolean)
    .map((raw) => {
      const qualifier = '+-~?'.includes(raw[0]!) ? (raw[0] as SpfTerm['qualifier']) : '+';
      const body = qualifier === '+' && raw[0] !== '+' ? raw : raw.slice(1);
      const m = /^([a-z0-9]+)([:=/].*)?$/i.exec(body);
      const name = (m?.[1] ?? body).toLowerCase();
      const rest = m?.[2] ?? '';
      return { qualifier, name, value: rest.startsWith('/') ? rest : rest.slice(1) };
    });
}

function ip4ToInt(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

/** Whether `range` (ip4 with an optional /len) contains `ip`. */
export function ip4InRange(ip: string, range: string): boolean {
  const [base, lenText] = range.split('/');
  const len = lenText === undefined ? 32 : Number(lenText);
  const a = ip4ToInt(ip);
  const b = ip4ToInt(base ?? '');
  if (a === null || b === null || !Number.isInteger(len) || len < 0 || len > 32) return false;
  if (len === 0) return true;
  const mask = len === 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

/** What one SPF record says about our relay mechanism: authorized here, or where to look next. */
export interface SpfStep {
  authorizes: boolean;
  /** `+all`: authorizes the whole Internet (a record to fix, not to trust). */
  passAll: boolean;
  /** include: and redirect= domains still to read (RFC 7208 allows 10 lookups in all). */
  next: string[];
}

/**
 * Does this record authorize the relay? The relay is given as the mechanism a user is told to
 * publish; it matches that same term, and an ip4 relay is also matched by an ip4 range covering it.
 */
export function spfStep(record: string, relay: string): SpfStep {
  const want = parseSpf(`v=spf1 ${relay}`)[0];
  const terms = parseSpf(record);
  let authorizes = false;
  let passAll = false;
  const next: string[] = [];
  for (const t of terms) {
    if (t.qualifier !== '+') continue;
    if (t.name === 'all') passAll = true;
    if (want && t.name === want.name && t.value.toLowerCase() === want.value.toLowerCase()) authorizes = true;
    if (want?.name === 'ip4' && t.name === 'ip4' && ip4InRange(want.value.split('/')[0]!, t.value))
      authorizes = true;
    if (t.name === 'include' && t.value) next.push(normalizeDomain(t.value));
  }
  // redirect= applies only when no mechanism matched (RFC 7208 6.1); an all mechanism ends the record.
  const redirect = terms.find((t) => t.name === 'redirect');
  if (redirect?.value && !terms.some((t) => t.name === 'all')) next.push(normalizeDomain(redirect.value));
  return { authorizes, passAll, next };
}

/** The SPF check from what the DNS walk found (see channels/email/sender-auth-dns.ts). */
export function spfCheck(
  check: 'spf' | 'spf_from',
  domain: string,
  walk: { record: string | null | 'multiple'; authorizes: boolean; passAll: boolean; lookups: number },
  relay: string,
): CheckResult {
  const base = {
    check,
    name: domain,
    required: check === 'spf',
    fix: `v=spf1 ${relay} ${check === 'spf' ? '-all' : '~all'}`,
  };
  if (walk.record === null) return { ...base, pass: false, reason: `no SPF record at ${domain}` };
  if (walk.record === 'multiple')
    return { ...base, pass: false, reason: `more than one SPF record at ${domain} (permerror)` };
  if (walk.lookups > 10)
    return { ...base, pass: false, reason: `SPF of ${domain} needs more than 10 DNS lookups (permerror)` };
  if (walk.passAll && !walk.authorizes)
    return {
      ...base,
      pass: false,
      reason: `SPF of ${domain} ends in +all: it authorizes anyone; name the relay`,
    };
  if (!walk.authorizes)
    return { ...base, pass: false, reason: `SPF of ${domain} does not authorize the relay (${relay})` };
  return { ...base, pass: true, reason: `SPF of ${domain} authorizes the relay (${relay})` };
}

// ---- DMARC (RFC 7489) ----

export interface DmarcPolicy {
  p: 'none' | 'quarantine' | 'reject';
  adkim: 'r' | 's';
  aspf: 'r' | 's';
}

/** The DMARC record among TXT strings, read; a string says why it is not usable. */
export function parseDmarc(texts: TxtAnswer): DmarcPolicy | string | null {
  const recs = (texts ?? []).filter((t) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(t.trim()));
  if (recs.length === 0) return null;
  if (recs.length > 1) return 'more than one DMARC record';
  const tags = parseTagList(recs[0]!);
  const p = (tags.get('p') ?? '').toLowerCase();
  if (p !== 'none' && p !== 'quarantine' && p !== 'reject')
    return `p=${p || '(missing)'} is not a DMARC policy`;
  const align = (v: string | undefined) => ((v ?? 'r').toLowerCase() === 's' ? 's' : 'r');
  return { p, adkim: align(tags.get('adkim')), aspf: align(tags.get('aspf')) };
}

export function dmarcCheck(
  domain: string,
  found: { at: string; texts: TxtAnswer },
): { result: CheckResult; policy: DmarcPolicy | null } {
  const base = {
    check: 'dmarc' as const,
    name: `_dmarc.${domain}`,
    required: true,
    fix: 'v=DMARC1; p=quarantine; adkim=r; aspf=r',
  };
  const parsed = parseDmarc(found.texts);
  if (parsed === null)
    return { result: { ...base, pass: false, reason: `no DMARC record at _dmarc.${domain}` }, policy: null };
  if (typeof parsed === 'string')
    return { result: { ...base, pass: false, reason: `${found.at}: ${parsed}` }, policy: null };
  const where = found.at === `_dmarc.${domain}` ? '' : ` (inherited from ${found.at})`;
  const advice =
    parsed.p === 'none' ? ': monitoring only, receivers still deliver failing mail; consider quarantine' : '';
  return {
    result: { ...base, pass: true, reason: `DMARC p=${parsed.p}${where}${advice}` },
    policy: parsed,
  };
}

// Second-level registries under which organizations register (a short list: the public suffix
// list is not shipped; a domain under one of these keeps three labels as its organization).
const SECOND_LEVEL = new Set([
  'co.jp', 'ne.jp', 'or.jp', 'ac.jp', 'go.jp', 'ed.jp', 'gr.jp', 'lg.jp', 'ad.jp',
  'co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'com.au', 'net.au', 'org.au', 'co.nz', 'com.br',
  'com.cn', 'com.tw', 'co.kr', 'co.in', 'com.sg', 'com.hk',
]); // prettier-ignore

/** RFC 7489's organizational domain, approximated without the public suffix list. */
export function organizationalDomain(domain: string): string {
  const labels = normalizeDomain(domain).split('.');
  const keep = labels.length >= 3 && SECOND_LEVEL.has(labels.slice(-2).join('.')) ? 3 : 2;
  return labels.slice(-keep).join('.');
}

/** Identifier alignment (RFC 7489 3.1): strict = same domain, relaxed = same organizational domain. */
export function aligned(fromDomain: string, other: string, mode: 'r' | 's'): boolean {
  const a = normalizeDomain(fromDomain);
  const b = normalizeDomain(other);
  return mode === 's' ? a === b : organizationalDomain(a) === organizationalDomain(b);
}

/** Alignment of the From domain with the DKIM d= (we sign with the From domain) and the return path. */
export function alignmentChecks(
  fromDomain: string,
  signingDomain: string,
  returnPathDomain: string,
  policy: DmarcPolicy | null,
): CheckResult[] {
  const adkim = policy?.adkim ?? 'r';
  const aspf = policy?.aspf ?? 'r';
  const dkimOk = aligned(fromDomain, signingDomain, adkim);
  const spfOk = aligned(fromDomain, returnPathDomain, aspf);
  return [
    {
      check: 'dkim_alignment',
      name: fromDomain,
      required: true,
      pass: dkimOk,
      reason: dkimOk
        ? `DKIM d=${signingDomain} aligns with the From domain (adkim=${adkim})`
        : `DKIM d=${signingDomain} does not align with ${fromDomain} (adkim=${adkim})`,
    },
    {
      check: 'spf_alignment',
      name: fromDomain,
      // DMARC passes with either aligned identifier; DKIM's is ours by construction.
      required: false,
      pass: spfOk,
      reason: spfOk
        ? `the return path ${returnPathDomain} aligns with the From domain (aspf=${aspf})`
        : `the return path ${returnPathDomain} does not align with ${fromDomain} (aspf=${aspf}): DMARC relies on DKIM alone; a BOUNCE_DOMAIN under ${organizationalDomain(fromDomain)} aligns SPF too`,
    },
  ];
}

// ---- verdicts ----

export type DomainStatus = 'pending' | 'verified' | 'failed';

/** A domain is verified when every required check passes. */
export function domainStatus(checks: readonly CheckResult[]): Exclude<DomainStatus, 'pending'> {
  return checks.every((c) => c.pass || !c.required) ? 'verified' : 'failed';
}

/** What the gate knows of a From domain: null when it is not registered. */
export interface SendingDomainState {
  domain: string;
  status: DomainStatus;
  checks: readonly CheckResult[];
}

export interface SenderAuthBlock {
  code: typeof DeliveryCode.SendingDomainCheckFailed | typeof DeliveryCode.SendingDomainNotVerified;
  /** For the run's detail and each send's: what failed and the records to fix. */
  detail: string;
}

const DKIM_OR_DMARC: readonly CheckName[] = ['dkim', 'dmarc', 'dkim_alignment'];

/**
 * Whether mail from this From domain may go out (issue 19): not registered, never verified, or
 * failing another required check (SPF) → 91003; a failing DKIM or DMARC check → 91002.
 * `allowUnauthenticated` (a development setting) lets everything through.
 */
export function senderAuthBlock(
  fromDomain: string | null,
  state: SendingDomainState | null,
  allowUnauthenticated: boolean,
): SenderAuthBlock | null {
  if (allowUnauthenticated) return null;
  const notVerified = DeliveryCode.SendingDomainNotVerified;
  if (!fromDomain)
    return { code: notVerified, detail: 'the template has no From address with a domain; nothing was sent' };
  if (!state)
    return {
      code: notVerified,
      detail: `sending domain ${fromDomain} is not registered: register it (POST /v1/sending-domains), publish the records it lists, then verify it; nothing was sent`,
    };
  if (state.status === 'verified') return null;
  const failed = state.checks.filter((c) => c.required && !c.pass);
  const fixes = failed
    .filter((c) => c.fix)
    .map((c) => `${c.name} TXT "${c.fix}"`)
    .join('; ');
  const why = failed.map((c) => c.reason).join('; ');
  if (state.status === 'pending' || failed.length === 0)
    return {
      code: notVerified,
      detail: `sending domain ${fromDomain} is not verified yet: publish its records (GET /v1/sending-domains) and verify it (POST /v1/sending-domains/{id}/verify); nothing was sent`,
    };
  const code = failed.some((c) => DKIM_OR_DMARC.includes(c.check))
    ? DeliveryCode.SendingDomainCheckFailed
    : notVerified;
  return {
    code,
    detail: `sending domain ${fromDomain} failed verification: ${why}. Publish: ${fixes}; then verify again. Nothing was sent`,
  };
}

/** The pre-error every send of a blocked run or single send is recorded with. */
export function senderAuthPreError(block: SenderAuthBlock): DeliveryOutcome {
  return {
    ...preErrorOutcome(block.detail, 'sending_domain'),
    code: block.code,
    // Our domain's fault, never the recipient's (README: faults about us never change a lead).
    policyBlock: true,
  };
}

// ---- complaint rates and the pre-flight check ----

/** Complaints as a share of delivered messages; null when nothing was delivered. */
export function complaintRate(complaints: number, delivered: number): number | null {
  return delivered > 0 ? complaints / delivered : null;
}

export interface PreflightFacts {
  channel: string;
  fromDomain: string | null;
  /** Null when the domain is not registered. */
  domain: SendingDomainState | null;
  allowUnauthenticated: boolean;
  /** Complaints / delivered of the From domain over the last 30 days (null: nothing delivered). */
  complaintRate30d: number | null;
  complaintRate7d: number | null;
  targets: number;
  excluded: number;
  excludedByReason: Record<string, number>;
  /** The bulk mail carries List-Unsubscribe and List-Unsubscribe-Post (RFC 8058). */
  oneClickUnsubscribe: boolean;
}

export interface PreflightThresholds {
  /** Complaint rate (fraction) above which the check warns, and above which the run is refused. */
  complaintWarn: number;
  complaintRefuse: number;
  /** Share of the leads excluded above which the check warns, and refuses. */
  excludedWarn: number;
  excludedRefuse: number;
}

export type PreflightLevel = 'ok' | 'warning' | 'refused';

export interface PreflightItem {
  check: 'domain_auth' | 'complaint_rate' | 'excluded_share' | 'one_click_unsubscribe';
  level: PreflightLevel;
  value: string | number | boolean | null;
  message: string;
}

export interface Preflight {
  verdict: PreflightLevel;
  items: PreflightItem[];
  /** The pre-error all sends get when the domain is not fit to send (91002/91003). */
  block: SenderAuthBlock | null;
  /** The figures behind the items. */
  fromDomain: string | null;
  complaintRate7d: number | null;
  complaintRate30d: number | null;
  excludedShare: number | null;
  excludedByReason: Record<string, number>;
}

const pct = (x: number) => `${(x * 100).toFixed(3).replace(/\.?0+$/, '')} %`;

function worst(levels: readonly PreflightLevel[]): PreflightLevel {
  return levels.includes('refused') ? 'refused' : levels.includes('warning') ? 'warning' : 'ok';
}

/** A run's pre-flight check (issue 19): the facts against the configured thresholds. */
export function evaluatePreflight(f: PreflightFacts, t: PreflightThresholds): Preflight {
  const items: PreflightItem[] = [];
  const email = f.channel === 'email';
  const block = email ? senderAuthBlock(f.fromDomain, f.domain, f.allowUnauthenticated) : null;
  if (email) {
    const state = f.domain?.status ?? 'not_registered';
    items.push({
      check: 'domain_auth',
      level: block ? 'refused' : state === 'verified' ? 'ok' : 'warning',
      value: state,
      message: block
        ? block.detail
        : state === 'verified'
          ? `${f.fromDomain} is verified (SPF, DKIM, DMARC)`
          : `${f.fromDomain ?? 'the From domain'} is ${state.replace('_', ' ')}: sent unauthenticated because ALLOW_UNAUTHENTICATED_SENDING is on (development only)`,
    });
    const rate = f.complaintRate30d;
    const rateLevel: PreflightLevel =
      rate === null ? 'ok' : rate > t.complaintRefuse ? 'refused' : rate > t.complaintWarn ? 'warning' : 'ok';
    items.push({
      check: 'complaint_rate',
      level: rateLevel,
      value: rate,
      message:
        rate === null
          ? `no delivered mail from ${f.fromDomain ?? 'this domain'} in 30 days`
          : `complaints over 30 days: ${pct(rate)} of delivered (warn above ${pct(t.complaintWarn)}, refuse above ${pct(t.complaintRefuse)})`,
    });
    items.push({
      check: 'one_click_unsubscribe',
      level: f.oneClickUnsubscribe ? 'ok' : 'refused',
      value: f.oneClickUnsubscribe,
      message: f.oneClickUnsubscribe
        ? 'List-Unsubscribe with List-Unsubscribe-Post (RFC 8058) on every message'
        : 'bulk mail must offer one-click unsubscribe (RFC 8058)',
    });
  }
  const all = f.targets + f.excluded;
  const share = all > 0 ? f.excluded / all : null;
  const shareLevel: PreflightLevel =
    share === null ? 'ok' : share > t.excludedRefuse ? 'refused' : share > t.excludedWarn ? 'warning' : 'ok';
  const reasons = Object.entries(f.excludedByReason)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  items.push({
    check: 'excluded_share',
    level: shareLevel,
    value: share,
    message:
      share === null
        ? 'no leads matched'
        : `${f.excluded} of ${all} leads excluded (${pct(share)})${reasons ? `: ${reasons}` : ''}`,
  });
  return {
    verdict: worst(items.map((i) => i.level)),
    items,
    block,
    fromDomain: f.fromDomain,
    complaintRate7d: f.complaintRate7d,
    complaintRate30d: f.complaintRate30d,
    excludedShare: share,
    excludedByReason: f.excludedByReason,
  };
}

/**
 * Why a refused pre-flight stops the run before anything is sent (complaint rate, excluded share,
 * no one-click unsubscribe); null when it may go on. A domain that is not fit to send is not a
 * refusal here: its sends are recorded as pre-errors 91002 / 91003 (`block`).
 */
export function preflightRefusal(p: Preflight): string | null {
  const refused = p.items.filter((i) => i.level === 'refused' && i.check !== 'domain_auth');
  if (refused.length === 0) return null;
  return `the pre-flight check refused the run: ${refused.map((i) => i.message).join('; ')}. Nothing was sent`;
}
