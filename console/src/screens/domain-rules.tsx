// ドメインルール: the MX management rules per receiving domain (error rate
// that blocks it, messages counted first, how long it stays blocked,
// connections, messages per hour) with each domain's breaker state now.
// Changing rules and lifting a block are admin matters.
import { useState } from 'preact/hooks';
import { api, errorMessage } from '../api';
import { formatNumber, formatRate, formatTime, screenMessages, t } from '../i18n';
import type { ScreenProps } from '../routes';
import { can } from '../session';
import { ConfirmDialog, ErrorBanner, Loading, Page, must, useLoad } from '../ui';

const tx = screenMessages({
  ja: {
    rulesTitle: 'ルール',
    statesTitle: '受信ドメインの状態',
    domain: 'ドメイン',
    threshold: 'ブロックするエラー率',
    minMessages: '判定までの通数',
    blockSeconds: 'ブロック時間（秒）',
    maxConnections: '最大同時接続数',
    maxPerHour: '1時間あたりの上限',
    unlimited: '上限なし',
    messages: '送信数',
    errors: 'エラー数',
    hourCount: '直近1時間',
    state: '状態',
    blockedUntil: '{time} までブロック中',
    open: '送信可',
    builtIn: 'ルールのないドメインは「*」のルール、なければ組み込みの既定値に従います：',
    addTitle: 'ルールを追加',
    add: '追加',
    remove: '削除',
    removeTitle: '{domain} のルールを削除',
    removeMessage: 'このドメインは「*」のルール（なければ組み込みの既定値）に従うようになります。',
    unblock: 'ブロック解除',
    unblockTitle: '{domain} のブロックを解除',
    unblockMessage: '保留中の送信は次の再送で送られます。',
    actions: '操作',
    noStates: 'まだ送信したドメインはありません。',
    adminOnly: 'ルールの変更は管理者のみ行えます。',
  },
  en: {
    rulesTitle: 'Rules',
    statesTitle: 'Receiving domains now',
    domain: 'Domain',
    threshold: 'Error rate that blocks',
    minMessages: 'Messages before judging',
    blockSeconds: 'Block (seconds)',
    maxConnections: 'Max connections',
    maxPerHour: 'Max per hour',
    unlimited: 'no limit',
    messages: 'Messages',
    errors: 'Errors',
    hourCount: 'Last hour',
    state: 'State',
    blockedUntil: 'blocked until {time}',
    open: 'open',
    builtIn: 'A domain without a rule follows "*", else the built-in default:',
    addTitle: 'Add a rule',
    add: 'Add',
    remove: 'Remove',
    removeTitle: 'Remove the rule for {domain}',
    removeMessage: 'The domain follows the "*" rule again (else the built-in default).',
    unblock: 'Lift the block',
    unblockTitle: 'Lift the block of {domain}',
    unblockMessage: 'Held sends go with their next wave.',
    actions: 'Actions',
    noStates: 'Nothing has been sent to any domain yet.',
    adminOnly: 'Only an admin changes rules.',
  },
});

const loadRules = async () => must(await api.GET('/v1/domain-rules'));
const loadStates = async () => must(await api.GET('/v1/domain-states')).items;

function isBlocked(until: string | null): boolean {
  return until !== null && new Date(until).getTime() > Date.now();
}

function StateCell(props: { blockedUntil: string | null }) {
  return isBlocked(props.blockedUntil) ? (
    <span class="domain-blocked">{tx('blockedUntil', { time: formatTime(props.blockedUntil) })}</span>
  ) : (
    <span>{tx('open')}</span>
  );
}

function AddRule(props: { onAdded: () => void }) {
  const [domain, setDomain] = useState('');
  const [threshold, setThreshold] = useState('');
  const [minMessages, setMinMessages] = useState('');
  const [blockSeconds, setBlockSeconds] = useState('');
  const [maxConnections, setMaxConnections] = useState('');
  const [maxPerHour, setMaxPerHour] = useState('');
  const [error, setError] = useState<string | null>(null);
  const num = (v: string) => (v.trim() === '' ? undefined : Number(v));
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const pct = num(threshold);
    const res = await api.POST('/v1/domain-rules', {
      body: {
        domain: domain.trim(),
        ...(pct !== undefined ? { errorRateThreshold: pct / 100 } : {}),
        ...(num(minMessages) !== undefined ? { minMessages: num(minMessages) } : {}),
        ...(num(blockSeconds) !== undefined ? { blockSeconds: num(blockSeconds) } : {}),
        ...(num(maxConnections) !== undefined ? { maxConnections: num(maxConnections) } : {}),
        ...(num(maxPerHour) !== undefined ? { maxPerHour: num(maxPerHour) } : {}),
      },
    });
    if (!res.data) {
      setError(errorMessage(res.error, `HTTP ${res.response.status}`));
      return;
    }
    setDomain('');
    props.onAdded();
  };
  const field = (label: string, name: string, value: string, set: (v: string) => void, step = '1') => (
    <label>
      {label}
      <input
        name={name}
        type="number"
        min="0"
        step={step}
        value={value}
        onInput={(e) => set(e.currentTarget.value)}
      />
    </label>
  );
  return (
    <section aria-labelledby="domain-rule-add">
      <h2 id="domain-rule-add">{tx('addTitle')}</h2>
      <ErrorBanner message={error} />
      <form class="form-grid" onSubmit={submit}>
        <label>
          {tx('domain')}
          <input name="domain" required value={domain} onInput={(e) => setDomain(e.currentTarget.value)} />
        </label>
        {field(`${tx('threshold')} (%)`, 'errorRateThreshold', threshold, setThreshold, '0.01')}
        {field(tx('minMessages'), 'minMessages', minMessages, setMinMessages)}
        {field(tx('blockSeconds'), 'blockSeconds', blockSeconds, setBlockSeconds)}
        {field(tx('maxConnections'), 'maxConnections', maxConnections, setMaxConnections)}
        {field(tx('maxPerHour'), 'maxPerHour', maxPerHour, setMaxPerHour)}
        <button type="submit">{tx('add')}</button>
      </form>
    </section>
  );
}

export function DomainRulesScreen(props: ScreenProps) {
  const admin = can(props.user, 'admin');
  const rules = useLoad(loadRules, []);
  const states = useLoad(loadStates, []);
  const [confirm, setConfirm] = useState<{ kind: 'remove' | 'unblock'; id: number; domain: string } | null>(
    null,
  );
  const [error, setError] = useState<string | null>(null);
  const act = async () => {
    if (!confirm) return;
    const res =
      confirm.kind === 'remove'
        ? await api.DELETE('/v1/domain-rules/{id}', { params: { path: { id: confirm.id } } })
        : await api.POST('/v1/domain-states/{domain}/unblock', {
            params: { path: { domain: confirm.domain } },
          });
    setConfirm(null);
    if (!res.response.ok) setError(errorMessage(res.error, `HTTP ${res.response.status}`));
    else setError(null);
    rules.reload();
    states.reload();
  };
  const d = rules.data?.builtInDefault;
  return (
    <Page title={t('navDomainRules')}>
      <ErrorBanner message={error ?? rules.error ?? states.error} />
      <h2>{tx('rulesTitle')}</h2>
      <Loading loading={rules.loading && !rules.data} />
      {d ? (
        <p class="muted">
          {tx('builtIn')} {tx('threshold')} {formatRate(d.errorRateThreshold)}, {tx('minMessages')}{' '}
          {formatNumber(d.minMessages)}, {tx('blockSeconds')} {formatNumber(d.blockSeconds)},{' '}
          {tx('maxConnections')} {formatNumber(d.maxConnections)}, {tx('maxPerHour')}{' '}
          {d.maxPerHour === null ? tx('unlimited') : formatNumber(d.maxPerHour)}
        </p>
      ) : null}
      {!admin ? <p class="muted">{tx('adminOnly')}</p> : null}
      {rules.data ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">{tx('rulesTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{tx('domain')}</th>
                <th scope="col" class="num">
                  {tx('threshold')}
                </th>
                <th scope="col" class="num">
                  {tx('minMessages')}
                </th>
                <th scope="col" class="num">
                  {tx('blockSeconds')}
                </th>
                <th scope="col" class="num">
                  {tx('maxConnections')}
                </th>
                <th scope="col" class="num">
                  {tx('maxPerHour')}
                </th>
                <th scope="col" class="num">
                  {tx('messages')}
                </th>
                <th scope="col" class="num">
                  {tx('errors')}
                </th>
                <th scope="col">{tx('state')}</th>
                {admin ? <th scope="col">{tx('actions')}</th> : null}
              </tr>
            </thead>
            <tbody>
              {rules.data.items.map((r) => (
                <tr key={r.id}>
                  <td>{r.domain}</td>
                  <td class="num">{formatRate(r.errorRateThreshold)}</td>
                  <td class="num">{formatNumber(r.minMessages)}</td>
                  <td class="num">{formatNumber(r.blockSeconds)}</td>
                  <td class="num">{formatNumber(r.maxConnections)}</td>
                  <td class="num">{r.maxPerHour === null ? tx('unlimited') : formatNumber(r.maxPerHour)}</td>
                  <td class="num">{formatNumber(r.state.messages)}</td>
                  <td class="num">{formatNumber(r.state.errors)}</td>
                  <td>
                    <StateCell blockedUntil={r.state.blockedUntil} />
                  </td>
                  {admin ? (
                    <td>
                      <button
                        type="button"
                        class="danger"
                        aria-label={`${tx('remove')}: ${r.domain}`}
                        onClick={() => setConfirm({ kind: 'remove', id: r.id, domain: r.domain })}
                      >
                        {tx('remove')}
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {admin ? (
        <AddRule
          onAdded={() => {
            rules.reload();
          }}
        />
      ) : null}

      <h2>{tx('statesTitle')}</h2>
      <Loading loading={states.loading && !states.data} />
      {states.data && states.data.length === 0 ? <p>{tx('noStates')}</p> : null}
      {states.data && states.data.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">{tx('statesTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{tx('domain')}</th>
                <th scope="col" class="num">
                  {tx('messages')}
                </th>
                <th scope="col" class="num">
                  {tx('errors')}
                </th>
                <th scope="col" class="num">
                  {tx('hourCount')}
                </th>
                <th scope="col">{tx('state')}</th>
                {admin ? <th scope="col">{tx('actions')}</th> : null}
              </tr>
            </thead>
            <tbody>
              {states.data.map((s) => (
                <tr key={s.domain}>
                  <td>{s.domain}</td>
                  <td class="num">{formatNumber(s.messages)}</td>
                  <td class="num">{formatNumber(s.errors)}</td>
                  <td class="num">{formatNumber(s.hourCount)}</td>
                  <td>
                    <StateCell blockedUntil={s.blockedUntil} />
                  </td>
                  {admin ? (
                    <td>
                      {isBlocked(s.blockedUntil) ? (
                        <button
                          type="button"
                          aria-label={`${tx('unblock')}: ${s.domain}`}
                          onClick={() => setConfirm({ kind: 'unblock', id: 0, domain: s.domain })}
                        >
                          {tx('unblock')}
                        </button>
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ConfirmDialog
        open={confirm !== null}
        title={
          confirm?.kind === 'remove'
            ? tx('removeTitle', { domain: confirm.domain })
            : tx('unblockTitle', { domain: confirm?.domain ?? '' })
        }
        message={confirm?.kind === 'remove' ? tx('removeMessage') : tx('unblockMessage')}
        confirmLabel={confirm?.kind === 'remove' ? tx('remove') : tx('unblock')}
        onCancel={() => setConfirm(null)}
        onConfirm={() => void act()}
      />
    </Page>
  );
}
