// 送信ドメイン: the From domains with the DNS records to publish, their
// verification (DKIM, SPF, DMARC, alignment: each check with its reason and
// fix), DKIM keys and complaint rates. An admin registers a domain, verifies
// it against DNS now, and rotates its key.
import { useState } from 'preact/hooks';
import { api, errorMessage } from '../api';
import { formatNumber, formatRate, formatTime, screenMessages, t } from '../i18n';
import type { ScreenProps } from '../routes';
import { can } from '../session';
import { ErrorBanner, Loading, Page, must, useLoad } from '../ui';

const tx = screenMessages({
  ja: {
    status: '認証状態',
    pending: '未確認',
    verified: '確認済み',
    failed: '失敗',
    records: '公開するDNSレコード',
    name: '名前',
    type: '種類',
    value: '値',
    purpose: '用途',
    checks: '確認結果',
    check: '項目',
    result: '結果',
    pass: '合格',
    fail: '不合格',
    required: '必須',
    advice: '推奨',
    reason: '理由',
    fix: '修正する値',
    keys: 'DKIM鍵',
    selector: 'セレクタ',
    algorithm: '方式',
    keyState: '状態',
    keyActive: '署名中',
    keyPending: '切替待ち',
    keyRetired: '廃止',
    created: '作成',
    checkedAt: '最終確認',
    verifiedAt: '確認日時',
    complaints: '苦情率（7日 / 30日）',
    verify: 'DNSを確認',
    rotate: '鍵を更新',
    rotateAlgorithm: '新しい鍵の方式',
    register: '登録',
    registerTitle: '送信ドメインを登録',
    domain: 'ドメイン',
    ed25519: 'Ed25519鍵も作る',
    none: '送信ドメインはまだありません。',
    verified_notice: '{domain} を確認しました：{status}',
    rotated: '{domain} に新しい鍵を作りました。新しいレコードを公開してから確認してください。',
    adminOnly: '登録・確認・鍵の更新は管理者のみ行えます。',
  },
  en: {
    status: 'Authentication',
    pending: 'not verified yet',
    verified: 'verified',
    failed: 'failed',
    records: 'DNS records to publish',
    name: 'Name',
    type: 'Type',
    value: 'Value',
    purpose: 'Purpose',
    checks: 'Checks',
    check: 'Check',
    result: 'Result',
    pass: 'pass',
    fail: 'fail',
    required: 'required',
    advice: 'advice',
    reason: 'Reason',
    fix: 'Value that fixes it',
    keys: 'DKIM keys',
    selector: 'Selector',
    algorithm: 'Algorithm',
    keyState: 'State',
    keyActive: 'signing',
    keyPending: 'waiting for its record',
    keyRetired: 'retired',
    created: 'Created',
    checkedAt: 'Last checked',
    verifiedAt: 'Verified',
    complaints: 'Complaint rate (7 / 30 days)',
    verify: 'Check DNS',
    rotate: 'Rotate key',
    rotateAlgorithm: 'New key algorithm',
    register: 'Register',
    registerTitle: 'Register a sending domain',
    domain: 'Domain',
    ed25519: 'Also an Ed25519 key',
    none: 'No sending domain yet.',
    verified_notice: '{domain} checked: {status}',
    rotated: 'A new key was made for {domain}; publish its record, then check DNS.',
    adminOnly: 'Only an admin registers, checks or rotates.',
  },
});

const loadDomains = async () => must(await api.GET('/v1/sending-domains')).items;
type Domain = Awaited<ReturnType<typeof loadDomains>>[number];

function statusText(s: string): string {
  return s === 'verified'
    ? tx('verified')
    : s === 'failed'
      ? tx('failed')
      : s === 'pending'
        ? tx('pending')
        : s;
}
function keyStateText(s: string): string {
  return s === 'active'
    ? tx('keyActive')
    : s === 'pending'
      ? tx('keyPending')
      : s === 'retired'
        ? tx('keyRetired')
        : s;
}

function DomainCard(props: {
  d: Domain;
  admin: boolean;
  onChanged: (notice: string) => void;
  onError: (e: string) => void;
}) {
  const { d } = props;
  const [algorithm, setAlgorithm] = useState<'rsa' | 'ed25519'>('rsa');
  const [busy, setBusy] = useState(false);
  const headingId = `sending-domain-${d.id}`;
  const verify = async () => {
    setBusy(true);
    const res = await api.POST('/v1/sending-domains/{id}/verify', { params: { path: { id: d.id } } });
    setBusy(false);
    if (!res.data) props.onError(errorMessage(res.error, `HTTP ${res.response.status}`));
    else props.onChanged(tx('verified_notice', { domain: d.domain, status: statusText(res.data.status) }));
  };
  const rotate = async () => {
    setBusy(true);
    const res = await api.POST('/v1/sending-domains/{id}/rotate-key', {
      params: { path: { id: d.id } },
      body: { algorithm },
    });
    setBusy(false);
    if (!res.data) props.onError(errorMessage(res.error, `HTTP ${res.response.status}`));
    else props.onChanged(tx('rotated', { domain: d.domain }));
  };
  return (
    <section class="sending-domain" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {d.domain}{' '}
        <span class={`domain-auth domain-auth-${d.status}`} data-status={d.status}>
          {statusText(d.status)}
        </span>
      </h2>
      <dl class="fields">
        <dt>{tx('checkedAt')}</dt>
        <dd>{formatTime(d.checkedAt)}</dd>
        <dt>{tx('verifiedAt')}</dt>
        <dd>{formatTime(d.verifiedAt)}</dd>
        <dt>{tx('complaints')}</dt>
        <dd>
          {formatRate(d.complaints.rate7d)} ({formatNumber(d.complaints.complaints7d)}/
          {formatNumber(d.complaints.delivered7d)}) / {formatRate(d.complaints.rate30d)} (
          {formatNumber(d.complaints.complaints30d)}/{formatNumber(d.complaints.delivered30d)})
        </dd>
      </dl>
      {props.admin ? (
        <div class="form-grid">
          <button
            type="button"
            disabled={busy}
            onClick={() => void verify()}
            aria-label={`${tx('verify')}: ${d.domain}`}
          >
            {tx('verify')}
          </button>
          <label>
            {tx('rotateAlgorithm')}
            <select
              name={`algorithm-${d.id}`}
              value={algorithm}
              onChange={(e) => setAlgorithm(e.currentTarget.value as 'rsa' | 'ed25519')}
            >
              <option value="rsa">RSA 2048</option>
              <option value="ed25519">Ed25519</option>
            </select>
          </label>
          <button
            type="button"
            class="secondary"
            disabled={busy}
            onClick={() => void rotate()}
            aria-label={`${tx('rotate')}: ${d.domain}`}
          >
            {tx('rotate')}
          </button>
        </div>
      ) : null}
      <h3>{tx('records')}</h3>
      <div class="table-wrap">
        <table class="dns-records">
          <thead>
            <tr>
              <th scope="col">{tx('name')}</th>
              <th scope="col">{tx('type')}</th>
              <th scope="col">{tx('value')}</th>
              <th scope="col">{tx('purpose')}</th>
            </tr>
          </thead>
          <tbody>
            {d.records.map((r, i) => (
              <tr key={i}>
                <td>
                  <code>{r.name}</code>
                </td>
                <td>{r.type}</td>
                <td>
                  <code class="record-value">{r.value}</code>
                </td>
                <td>{r.purpose}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {d.checks.length > 0 ? (
        <>
          <h3>{tx('checks')}</h3>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{tx('check')}</th>
                  <th scope="col">{tx('name')}</th>
                  <th scope="col">{tx('result')}</th>
                  <th scope="col">{tx('reason')}</th>
                  <th scope="col">{tx('fix')}</th>
                </tr>
              </thead>
              <tbody>
                {d.checks.map((c, i) => (
                  <tr key={i}>
                    <td>
                      {c.check} ({c.required ? tx('required') : tx('advice')})
                    </td>
                    <td>
                      <code>{c.name}</code>
                    </td>
                    <td class={c.pass ? 'check-pass' : 'check-fail'}>{c.pass ? tx('pass') : tx('fail')}</td>
                    <td>{c.reason}</td>
                    <td>{c.fix ? <code class="record-value">{c.fix}</code> : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
      <h3>{tx('keys')}</h3>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{tx('selector')}</th>
              <th scope="col">{tx('algorithm')}</th>
              <th scope="col">{tx('keyState')}</th>
              <th scope="col">{tx('created')}</th>
            </tr>
          </thead>
          <tbody>
            {d.keys.map((k) => (
              <tr key={k.selector}>
                <td>
                  <code>{k.selector}</code>
                </td>
                <td>{k.algorithm}</td>
                <td>{keyStateText(k.state)}</td>
                <td>{formatTime(k.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function RegisterForm(props: { onDone: () => void }) {
  const [domain, setDomain] = useState('');
  const [ed25519, setEd25519] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const res = await api.POST('/v1/sending-domains', { body: { domain: domain.trim(), ed25519 } });
    if (!res.data) {
      setError(errorMessage(res.error, `HTTP ${res.response.status}`));
      return;
    }
    setDomain('');
    props.onDone();
  };
  return (
    <section aria-labelledby="sending-domain-register">
      <h2 id="sending-domain-register">{tx('registerTitle')}</h2>
      <ErrorBanner message={error} />
      <form class="form-grid" onSubmit={submit}>
        <label>
          {tx('domain')}
          <input name="domain" required value={domain} onInput={(e) => setDomain(e.currentTarget.value)} />
        </label>
        <label class="inline-check">
          <input
            type="checkbox"
            name="ed25519"
            checked={ed25519}
            onChange={(e) => setEd25519(e.currentTarget.checked)}
          />
          {tx('ed25519')}
        </label>
        <button type="submit">{tx('register')}</button>
      </form>
    </section>
  );
}

export function SendingDomainsScreen(props: ScreenProps) {
  const admin = can(props.user, 'admin');
  const domains = useLoad(loadDomains, []);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <Page title={t('navSendingDomains')}>
      <ErrorBanner message={error ?? domains.error} />
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      {!admin ? <p class="muted">{tx('adminOnly')}</p> : null}
      <Loading loading={domains.loading && !domains.data} />
      {domains.data && domains.data.length === 0 ? <p>{tx('none')}</p> : null}
      {domains.data?.map((d) => (
        <DomainCard
          key={d.id}
          d={d}
          admin={admin}
          onError={(e) => {
            setNotice(null);
            setError(e);
          }}
          onChanged={(n) => {
            setError(null);
            setNotice(n);
            domains.reload();
          }}
        />
      ))}
      {admin ? <RegisterForm onDone={domains.reload} /> : null}
    </Page>
  );
}
