import {
  aligned,
  checkDkimRecord,
  dmarcCheck,
  evaluatePreflight,
  fromDomainOf,
  ip4InRange,
  organizationalDomain,
  parseDmarc,
  preflightRefusal,
  senderAuthBlock,
  spfStep,
  type CheckResult,
} from '../../domain/sender-auth';

const key = { selector: 's1', algorithm: 'rsa' as const, publicKey: 'AAAB', state: 'active' as const };

describe('DKIM key records', () => {
  test.each([
    [null, false, 'no DKIM record'],
    [['v=DKIM1; k=rsa; p=AAAB'], true, 'carries'],
    [['v=DKIM1; k=rsa; p=ZZZZ'], false, 'key mismatch'],
    [['v=DKIM1; k=rsa; p='], false, 'revoked'],
    [['v=DKIM1; k=ed25519; p=AAAB'], false, 'k=ed25519'],
    [['v=DKIM1; p=AA AB'], true, 'carries'],
  ])('when the record is %j, then pass is %s (%s)', (found, pass, reason) => {
    const r = checkDkimRecord('example.jp', key, found as string[] | null);
    expect(r.pass).toBe(pass);
    expect(r.reason).toContain(reason);
  });
});

describe('SPF', () => {
  test.each([
    ['v=spf1 ip4:127.0.0.1 -all', 'ip4:127.0.0.1', true],
    ['v=spf1 ip4:127.0.0.0/8 -all', 'ip4:127.0.0.1', true],
    ['v=spf1 ip4:10.0.0.0/8 -all', 'ip4:127.0.0.1', false],
    ['v=spf1 include:_spf.relay.example ~all', 'include:_spf.relay.example', true],
    ['v=spf1 -ip4:127.0.0.1 -all', 'ip4:127.0.0.1', false],
  ])('when the record is "%s" and the relay %s, then it authorizes: %s', (rec, relay, ok) => {
    expect(spfStep(rec, relay).authorizes).toBe(ok);
  });

  test('when a record includes another, then the walk is told where to look next', () => {
    expect(spfStep('v=spf1 include:a.example redirect=b.example', 'ip4:1.2.3.4').next).toEqual([
      'a.example',
      'b.example',
    ]);
    expect(spfStep('v=spf1 +all', 'ip4:1.2.3.4').passAll).toBe(true);
    expect(ip4InRange('192.0.2.9', '192.0.2.0/24')).toBe(true);
  });
});

describe('DMARC and alignment', () => {
  test('when a DMARC record is read, then policy and alignment modes come out, or why not', () => {
    expect(parseDmarc(['v=DMARC1; p=reject; adkim=s'])).toEqual({ p: 'reject', adkim: 's', aspf: 'r' });
    expect(parseDmarc(['v=DMARC1; p=maybe'])).toBe('p=maybe is not a DMARC policy');
    expect(parseDmarc(['v=spf1 -all'])).toBeNull();
    expect(dmarcCheck('x.jp', { at: '_dmarc.x.jp', texts: ['v=DMARC1; p=none'] }).result.reason).toContain(
      'monitoring only',
    );
  });

  test('when domains are compared, then relaxed alignment uses the organizational domain', () => {
    expect(organizationalDomain('mail.shop.co.jp')).toBe('shop.co.jp');
    expect(organizationalDomain('news.example.com')).toBe('example.com');
    expect(aligned('news.example.com', 'bounce.example.com', 'r')).toBe(true);
    expect(aligned('news.example.com', 'bounce.example.com', 's')).toBe(false);
    expect(fromDomainOf('Shop <News@Example.JP>')).toBe('example.jp');
  });
});

describe('91002 / 91003', () => {
  const failing = (check: CheckResult['check']): CheckResult => ({
    check,
    name: 'n',
    pass: false,
    required: true,
    reason: `${check} failed`,
    fix: 'v=x',
  });
  test.each([
    ['not registered', null, 91003],
    ['never verified', { domain: 'a.jp', status: 'pending' as const, checks: [] }, 91003],
    ['SPF fails', { domain: 'a.jp', status: 'failed' as const, checks: [failing('spf')] }, 91003],
    ['DKIM fails', { domain: 'a.jp', status: 'failed' as const, checks: [failing('dkim')] }, 91002],
    [
      'DMARC fails',
      { domain: 'a.jp', status: 'failed' as const, checks: [failing('dmarc'), failing('spf')] },
      91002,
    ],
    ['verified', { domain: 'a.jp', status: 'verified' as const, checks: [] }, null],
  ])('when the domain is %s, then the code is %s', (_what, state, code) => {
    expect(senderAuthBlock('a.jp', state, false)?.code ?? null).toBe(code);
    // The development setting lets everything through.
    expect(senderAuthBlock('a.jp', state, true)).toBeNull();
  });
});

describe('pre-flight', () => {
  const base = {
    channel: 'email',
    fromDomain: 'a.jp',
    domain: { domain: 'a.jp', status: 'verified' as const, checks: [] },
    allowUnauthenticated: false,
    complaintRate7d: null,
    targets: 90,
    excluded: 10,
    excludedByReason: { unsubscribed: 10 },
    oneClickUnsubscribe: true,
  };
  const t = { complaintWarn: 0.001, complaintRefuse: 0.003, excludedWarn: 0.3, excludedRefuse: 1 };
  test.each([
    [0.0005, 'ok'],
    [0.002, 'warning'],
    [0.004, 'refused'],
  ])('when the complaint rate is %s, then the verdict is %s', (rate, verdict) => {
    const p = evaluatePreflight({ ...base, complaintRate30d: rate }, t);
    expect(p.verdict).toBe(verdict);
    expect(preflightRefusal(p) !== null).toBe(verdict === 'refused');
  });

  test('when most leads are excluded, then it warns with the reasons', () => {
    const p = evaluatePreflight({ ...base, complaintRate30d: null, targets: 10, excluded: 90 }, t);
    const item = p.items.find((i) => i.check === 'excluded_share')!;
    expect(item.level).toBe('warning');
    expect(item.message).toContain('unsubscribed 10');
  });
});
