// Sending domains (issue 19), end to end: a DNS server on loopback speaking the
// real protocol serves good, missing and wrong records; every verdict is read
// through the API; runs and single sends from domains that may not send become
// pre-errors 91002 / 91003; every message the sink receives from a registered
// domain (bulk, single, notice) carries DKIM signatures that an independent
// verifier (Python's dkimpy, scripts/setup-dkim-verifier.sh) accepts, reading
// the keys from the same DNS server.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalDnsServer } from '../../dev/dns-server';
import { arfReport } from '../support/report-fixtures';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import type { ReceivedMail } from '../../dev/smtp-sink';
import { metricsText } from '../../observability/metrics';
import { withSendTokens } from '../../db/send-token';

const VENV = process.env.DKIM_VERIFIER_VENV ?? join(__dirname, '..', '..', '.tools', 'dkim-venv');
const PYTHON = join(VENV, 'bin', 'python');

let h: Harness;
let dns: LocalDnsServer;
let dnsAddress: string;
const sfx = uniqueSuffix();
const bounceDomain = `bounce-${sfx}.test`;
const good = `good-${sfx}.test`;
const missing = `missing-${sfx}.test`;
const wrong = `wrong-${sfx}.test`;
const noisy = `noisy-${sfx}.test`;
const notices = `notices-${sfx}.test`;
const relay = 'ip4:127.0.0.1';

beforeAll(async () => {
  dns = new LocalDnsServer();
  dnsAddress = (await dns.start()).address;
  // The return path's SPF, shared by every domain of this file.
  dns.set(bounceDomain, 'TXT', [`v=spf1 ip4:127.0.0.0/8 -all`]);
  h = await startHarness({
    dnsResolver: dnsAddress,
    allowUnauthenticatedSending: 0,
    bounceDomain,
    spfRelay: relay,
    notifyFrom: `notices@${notices}`,
    // Complaint refusal is judged on any volume here.
    preflightComplaintMinDelivered: 1,
  });
});

afterAll(async () => {
  await h?.stop();
  await dns?.stop();
});

/** Register a domain through the API. */
async function register(domain: string, ed25519 = false) {
  const res = await h.api('POST', '/v1/sending-domains', { domain, ed25519 });
  expect(res.status).toBe(201);
  return res.body;
}

/** Publish what the API told us to publish, in the test zone. */
function publish(
  records: Array<{ name: string; type: 'TXT' | 'MX'; value: string }>,
  skip = new Set<string>(),
) {
  const grouped = new Map<string, string[]>();
  for (const r of records) {
    if (skip.has(r.name) || r.name === bounceDomain) continue;
    grouped.set(`${r.type} ${r.name}`, [...(grouped.get(`${r.type} ${r.name}`) ?? []), r.value]);
  }
  for (const [k, values] of grouped) {
    const [type, name] = k.split(' ') as ['TXT' | 'MX', string];
    dns.set(name, type, values);
  }
}

async function verify(id: number) {
  const res = await h.api('POST', `/v1/sending-domains/${id}/verify`);
  expect(res.status).toBe(200);
  return res.body;
}

const check = (d: any, name: string, dnsName?: string) =>
  d.checks.find((c: any) => c.check === name && (dnsName === undefined || c.name === dnsName));

/** Run dkimpy over messages as the sink received them. */
async function independentlyVerify(
  mails: ReceivedMail[],
): Promise<Array<{ ok: boolean; signatures: any[] }>> {
  if (!existsSync(PYTHON))
    throw new Error(`the DKIM verifier is not installed: run scripts/setup-dkim-verifier.sh (venv ${VENV})`);
  const dir = mkdtempSync(join(tmpdir(), 'dkim-'));
  const files = mails.map((m, i) => {
    const f = join(dir, `${i}.eml`);
    writeFileSync(f, m.raw);
    return f;
  });
  // Asynchronously: the DNS server the verifier asks runs in this process.
  const { stdout: out } = await promisify(execFile)(
    PYTHON,
    [join(__dirname, '..', '..', 'scripts', 'dkim-verify.py'), dnsAddress, ...files],
    {
      encoding: 'utf8',
    },
  );
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

async function audience(n: number, from: string, extra: Record<string, unknown> = {}) {
  const tag = uniqueSuffix();
  const leadIds: number[] = [];
  for (let i = 0; i < n; i++)
    leadIds.push(
      (await h.api('POST', '/v1/leads', { name: `L${i}`, email: `l${i}.${tag}@receiver.test` })).body.id,
    );
  const tpl = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Auth ${tag}`,
    subject: 'Hello {{name}}',
    from,
    format: 'multipart',
    bodyText: 'Hi {{name}}',
    bodyHtml: '<p>Hi {{name}}</p>',
    ...extra,
  });
  expect(tpl.status).toBe(201);
  return { leadIds, templateId: tpl.body.id as number, tag };
}

async function runToEnd(templateId: number, leadIds: number[], extra: Record<string, unknown> = {}) {
  const created = await h.api('POST', '/v1/wizard-runs', { templateId, leadIds, ...extra });
  expect(created.status).toBe(201);
  return waitFor('the run to end', async () => {
    const r = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
    return ['completed', 'error', 'cancelled'].includes(r.status) ? r : null;
  });
}

let goodDomain: any;

describe('registration and verification against DNS', () => {
  test('when a domain is registered, then the API returns its DKIM key and the records to publish, never the private key', async () => {
    goodDomain = await register(good, true);
    expect(goodDomain.status).toBe('pending');
    expect(goodDomain.keys.map((k: any) => [k.algorithm, k.state])).toEqual([
      ['rsa', 'active'],
      ['ed25519', 'active'],
    ]);
    const names = goodDomain.records.map((r: any) => `${r.type} ${r.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        `TXT ${goodDomain.keys[0].selector}._domainkey.${good}`,
        `TXT ${goodDomain.keys[1].selector}._domainkey.${good}`,
        `TXT ${good}`,
        `TXT _dmarc.${good}`,
        `TXT ${bounceDomain}`,
        `MX ${bounceDomain}`,
      ]),
    );
    expect(JSON.stringify(goodDomain)).not.toMatch(/PRIVATE KEY|private_key|v1\./);
    const stored = await h.pool.query(
      'SELECT private_key_enc FROM sending_domain_key k JOIN sending_domain d ON d.id = k.domain_id WHERE d.domain = $1',
      [good],
    );
    for (const r of stored.rows) expect(r.private_key_enc).not.toContain('PRIVATE KEY');
    expect((await h.api('POST', '/v1/sending-domains', { domain: good })).status).toBe(409);
    expect((await h.api('POST', '/v1/sending-domains', { domain: 'not a domain' })).status).toBe(400);
  });

  test('when every record is published, then each check passes and the domain is verified', async () => {
    publish(goodDomain.records);
    const d = await verify(goodDomain.id);
    expect(d.checks.filter((c: any) => !c.pass && c.required)).toEqual([]);
    // The file's return path is another organization's: DMARC rests on DKIM alone, said as advice.
    expect(check(d, 'spf_alignment')).toMatchObject({ pass: false, required: false });
    expect(d.status).toBe('verified');
    expect(check(d, 'dmarc').reason).toContain('p=quarantine');
    expect(d.checks.filter((c: any) => c.check === 'dkim')).toHaveLength(2);
  });

  test('when no record is published, then DKIM, SPF of the From domain and DMARC fail as missing', async () => {
    const d0 = await register(missing);
    const d = await verify(d0.id);
    expect(d.status).toBe('failed');
    expect(check(d, 'dkim')).toMatchObject({ pass: false, required: true });
    expect(check(d, 'dkim').reason).toContain('no DKIM record');
    expect(check(d, 'dmarc').reason).toContain('no DMARC record');
    expect(check(d, 'spf_from').reason).toContain('no SPF record');
    // The return path's SPF is published for the file: it passes.
    expect(check(d, 'spf')).toMatchObject({ pass: true });
  });

  test('when the records are wrong, then the key mismatch, the SPF that misses the relay and the bad DMARC policy are named', async () => {
    const d0 = await register(wrong);
    const other = await register(`other-${sfx}.test`);
    const otherKey = other.records.find((r: any) => r.name.includes('._domainkey.')).value;
    dns.set(`${d0.keys[0].selector}._domainkey.${wrong}`, 'TXT', [otherKey]);
    dns.set(wrong, 'TXT', ['v=spf1 ip4:192.0.2.1 -all']);
    dns.set(`_dmarc.${wrong}`, 'TXT', ['v=DMARC1; p=whatever']);
    const d = await verify(d0.id);
    expect(d.status).toBe('failed');
    expect(check(d, 'dkim').reason).toContain('key mismatch');
    expect(check(d, 'spf_from').reason).toContain('does not authorize the relay');
    expect(check(d, 'dmarc').reason).toContain('p=whatever is not a DMARC policy');
    expect(check(d, 'dmarc').fix).toContain('v=DMARC1');
  });

  test('when a key is rotated, then the old one signs until the new record verifies, then retires', async () => {
    const d0 = await register(`rotate-${sfx}.test`);
    publish(d0.records);
    expect((await verify(d0.id)).status).toBe('verified');
    const rotated = (await h.api('POST', `/v1/sending-domains/${d0.id}/rotate-key`, {})).body;
    const pending = rotated.keys.find((k: any) => k.state === 'pending');
    expect(pending).toBeDefined();
    // Not published yet: the domain stays verified on its current key, the new one waits.
    const before = await verify(d0.id);
    expect(before.status).toBe('verified');
    expect(before.keys.find((k: any) => k.selector === pending.selector).state).toBe('pending');
    publish(rotated.records);
    const after = await verify(d0.id);
    expect(after.status).toBe('verified');
    expect(after.keys.find((k: any) => k.selector === pending.selector).state).toBe('active');
    expect(after.keys.find((k: any) => k.selector === d0.keys[0].selector).state).toBe('retired');
  });
});

describe('sending', () => {
  beforeAll(async () => {
    const n = await register(notices);
    publish(n.records);
    expect((await verify(n.id)).status).toBe('verified');
  });

  test('when a run sends from the verified domain, then every message (and the run notices) verify with an independent DKIM verifier', async () => {
    const { leadIds, templateId } = await audience(3, `news@${good}`);
    const statusMail = `ops.${uniqueSuffix()}@receiver.test`;
    const run = await runToEnd(templateId, leadIds, { statusMail });
    expect(run.status).toBe('completed');
    expect(run.counters).toMatchObject({ delivered: 3, preErrors: 0 });
    expect(run.senderAuth).toBeNull();
    expect(run.preflight).toMatchObject({ verdict: expect.stringMatching(/ok|warning/), block: null });
    const sends = (await h.pool.query('SELECT address FROM send WHERE run_id = $1', [run.id])).rows;
    const mails = sends.flatMap((s: any) => h.sink.messagesTo(s.address));
    expect(mails).toHaveLength(3);
    await h.sink.waitFor(() => h.sink.messagesTo(statusMail).length >= 2, 60_000);
    const noticeMails = h.sink.messagesTo(statusMail);
    const results = await independentlyVerify([...mails, ...noticeMails]);
    for (const r of results) {
      expect(r.ok).toBe(true);
    }
    // Bulk mail carries both signatures (RSA and Ed25519), d= the From domain.
    expect(results[0]!.signatures.map((s) => [s.d, s.a]).sort()).toEqual([
      [good, 'ed25519-sha256'],
      [good, 'rsa-sha256'],
    ]);
    expect(results[results.length - 1]!.signatures.map((s) => s.d)).toEqual([notices]);
  });

  test('when a message is altered after signing, then the independent verifier rejects it (the check can fail)', async () => {
    const mail = h.sink.messages.find((m) => m.raw.includes(`d=${good}`))!;
    const tampered = { ...mail, raw: Buffer.from(mail.raw.toString('utf8').replace('Hi L', 'Hi X')) };
    expect((await independentlyVerify([tampered]))[0]!.ok).toBe(false);
  });

  test('when a single send goes from the verified domain, then it is delivered signed', async () => {
    const { leadIds, templateId } = await audience(1, `news@${good}`);
    const res = await h.api('POST', '/v1/messages', { leadId: leadIds[0], templateId });
    const send = await waitFor('the single send', async () => {
      const s = (await h.api('GET', `/v1/sends/${res.body.id}`)).body;
      return s.result !== 'pending' ? s : null;
    });
    expect(send).toMatchObject({ result: 'delivered', code: 40000 });
    const mail = h.sink.messagesTo(send.address);
    expect((await independentlyVerify(mail)).map((r) => r.ok)).toEqual([true]);
  });

  test('when a run sends from a registered domain whose DKIM and DMARC fail, then every send is pre-error 91002, nothing is sent and the run says why', async () => {
    const { leadIds, templateId } = await audience(2, `news@${missing}`);
    const before = h.sink.receivedCount();
    const run = await runToEnd(templateId, leadIds);
    expect(run.status).toBe('completed');
    expect(run.counters).toMatchObject({ preErrors: 2, delivered: 0, sent: 0 });
    expect(run.senderAuth.code).toBe(91002);
    expect(run.statusDetail).toContain('91002');
    expect(run.senderAuth.detail).toContain(`_domainkey.${missing}`);
    expect(run.senderAuth.detail).toContain('_dmarc');
    const codes = (await h.pool.query('SELECT result, code FROM send WHERE run_id = $1', [run.id])).rows;
    expect(codes).toEqual([
      { result: 'pre_error', code: 91002 },
      { result: 'pre_error', code: 91002 },
    ]);
    expect(h.sink.receivedCount()).toBe(before);
    const pf = (await h.api('GET', `/v1/wizard-runs/${run.id}/preflight`)).body;
    expect(pf).toMatchObject({ stored: true, preflight: { verdict: 'refused', block: { code: 91002 } } });
  });

  test('when a run or a single send goes from an unregistered domain, then it is pre-error 91003 telling how to register', async () => {
    const unregistered = `nowhere-${sfx}.test`;
    const { leadIds, templateId } = await audience(2, `news@${unregistered}`);
    const run = await runToEnd(templateId, leadIds);
    expect(run.counters).toMatchObject({ preErrors: 2, sent: 0 });
    expect(run.senderAuth).toMatchObject({ code: 91003 });
    expect(run.senderAuth.detail).toContain('POST /v1/sending-domains');
    const res = await h.api('POST', '/v1/messages', { leadId: leadIds[0], templateId });
    const send = await waitFor('the single send', async () => {
      const s = (await h.api('GET', `/v1/sends/${res.body.id}`)).body;
      return s.result !== 'pending' ? s : null;
    });
    expect(send).toMatchObject({ result: 'pre_error', code: 91003 });
  });

  test('when the complaint rate of a domain is above the threshold, then the pre-flight refuses its next run and the figures show the rate', async () => {
    const d0 = await register(noisy);
    publish(d0.records);
    expect((await verify(d0.id)).status).toBe('verified');
    const { leadIds, templateId } = await audience(4, `news@${noisy}`);
    const first = await runToEnd(templateId, leadIds);
    expect(first.counters.delivered).toBe(4);
    const s = (
      await withSendTokens(
        h.pool,
        (
          await h.pool.query('SELECT id::text AS id, token, address FROM send WHERE run_id = $1 LIMIT 1', [
            first.id,
          ])
        ).rows,
        (r) => r.id,
      )
    )[0]!;
    const complaint = await h.api(
      'POST',
      '/v1/inbound/bounces',
      arfReport({ token: s.token, bounceDomain, to: s.address }),
      { headers: { 'content-type': 'text/plain' } },
    );
    expect(complaint.body).toMatchObject({ action: 'complaint' });
    const domain = (await h.api('GET', `/v1/sending-domains/${d0.id}`)).body;
    expect(domain.complaints).toMatchObject({
      delivered30d: 4,
      complaints30d: 1,
      rate30d: 0.25,
      rate7d: 0.25,
    });
    const runPf = (await h.api('GET', `/v1/wizard-runs/${first.id}/preflight`)).body;
    expect(runPf.complaints).toMatchObject({ complaints7d: 1, rate7d: 0.25 });
    const figures = (await h.api('GET', `/v1/wizard-runs/${first.id}/figures`)).body;
    expect(figures.complaints).toMatchObject({
      delivered7d: 4,
      complaints7d: 1,
      rate7d: 0.25,
      rate30d: 0.25,
    });

    const second = await runToEnd(templateId, leadIds, { includeAlreadySent: true });
    expect(second.status).toBe('error');
    expect(second.errorMessage).toContain('pre-flight check refused');
    expect(second.counters.sent).toBe(0);
    expect(second.preflight.items.find((i: any) => i.check === 'complaint_rate')).toMatchObject({
      level: 'refused',
      value: 0.25,
    });
  });
});

describe('metrics', () => {
  test('when /metrics is read, then each sending domain has its complaint rate', async () => {
    const text = await metricsText();
    expect(text).toContain(`delivery_sending_domain_complaint_rate{domain="${noisy}",window="30d"} 0.25`);
    expect(text).toContain(`delivery_sending_domain_verified{domain="${good}"} 1`);
  });
});
