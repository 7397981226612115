// バウンス判定: the remote bounce texts no rule knows yet (undefined), to be
// qualified by a user, and the qualification table (user rules, built-in rules,
// observed texts). Qualifying a text makes it a user rule, then the stored
// bounces still undefined are requalified, so their sends take the answer.
import { useState } from 'preact/hooks';
import { api, errorMessage } from '../api';
import { currentLanguage, formatNumber, formatTime, screenMessages, t } from '../i18n';
import { loadLabels, type LabelsAnswer } from '../labels';
import type { ScreenProps } from '../routes';
import { can } from '../session';
import { ErrorBanner, Loading, Page, must, useLoad } from '../ui';

const tx = screenMessages({
  ja: {
    undefinedTitle: '未判定の文言',
    undefinedNone: '未判定の文言はありません。',
    rulesTitle: '判定ルール',
    text: '文言',
    occurrences: '出現回数',
    lastSeen: '最終受信',
    qualify: '判定する',
    qualifyTitle: '「{text}」を判定',
    errorType: 'エラー種別',
    reason: 'エラー理由',
    code: '配信結果コード',
    pattern: 'パターン',
    regex: '正規表現',
    origin: '由来',
    state: '状態',
    yes: 'はい',
    no: 'いいえ',
    qualified: '判定済み',
    undefinedState: '未判定',
    originBuiltin: '組み込み',
    originUser: 'ユーザー',
    originObserved: '受信文言',
    done: '判定しました。未判定だったバウンス{reports}件、送信{sends}件に反映しました。',
    readOnly: '判定には書き込み権限が必要です。',
  },
  en: {
    undefinedTitle: 'Texts to qualify',
    undefinedNone: 'No text waits to be qualified.',
    rulesTitle: 'Qualification rules',
    text: 'Text',
    occurrences: 'Occurrences',
    lastSeen: 'Last received',
    qualify: 'Qualify',
    qualifyTitle: 'Qualify "{text}"',
    errorType: 'Error type',
    reason: 'Error reason',
    code: 'Delivery code',
    pattern: 'Pattern',
    regex: 'Regex',
    origin: 'Origin',
    state: 'State',
    yes: 'yes',
    no: 'no',
    qualified: 'qualified',
    undefinedState: 'undefined',
    originBuiltin: 'built-in',
    originUser: 'user',
    originObserved: 'received text',
    done: 'Qualified. {reports} undefined bounces and {sends} sends now carry it.',
    readOnly: 'Qualifying needs write access.',
  },
});

const loadRules = async (state?: 'undefined') =>
  must(await api.GET('/v1/bounce-rules', { params: { query: state ? { state } : {} } })).items;
type Rule = Awaited<ReturnType<typeof loadRules>>[number];

function QualifyForm(props: {
  rule: Rule;
  labels: Labels;
  onDone: (message: string) => void;
  onCancel: () => void;
}) {
  const { labels } = props;
  const [reason, setReason] = useState('unknown_user');
  const [errorType, setErrorType] = useState('hard');
  const [code, setCode] = useState(
    String(labels.deliveryCodes.find((c) => c.code === 42550)?.code ?? labels.deliveryCodes[0]?.code ?? ''),
  );
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const patched = await api.PATCH('/v1/bounce-rules/{id}', {
      params: { path: { id: Number(props.rule.id) } },
      body: { reason, errorType, code: Number(code) },
    });
    if (!patched.response.ok) {
      setBusy(false);
      setError(errorMessage(patched.error, `HTTP ${patched.response.status}`));
      return;
    }
    const re = await api.POST('/v1/bounce-rules/requalify');
    setBusy(false);
    if (!re.data) {
      setError(errorMessage(re.error, `HTTP ${re.response.status}`));
      return;
    }
    props.onDone(tx('done', { reports: re.data.reports, sends: re.data.sends }));
  };
  return (
    <form class="bounce-qualify" onSubmit={submit} aria-labelledby="qualify-title">
      <h2 id="qualify-title">
        {tx('qualifyTitle', { text: props.rule.normalizedText ?? props.rule.pattern })}
      </h2>
      <ErrorBanner message={error} />
      <div class="form-grid">
        <label>
          {tx('reason')}
          <select name="reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)}>
            {labels.errorReasons
              .filter((r) => r.code !== 'undefined')
              .map((r) => (
                <option key={r.code} value={r.code}>
                  {r.label}
                </option>
              ))}
          </select>
        </label>
        <label>
          {tx('errorType')}
          <select name="errorType" value={errorType} onChange={(e) => setErrorType(e.currentTarget.value)}>
            {labels.errorTypes
              .filter((r) => r.code !== 'undefined')
              .map((r) => (
                <option key={r.code} value={r.code}>
                  {r.label}
                </option>
              ))}
          </select>
        </label>
        <label>
          {tx('code')}
          <select name="code" value={code} onChange={(e) => setCode(e.currentTarget.value)}>
            {labels.deliveryCodes.map((c) => (
              <option key={c.code} value={String(c.code)}>
                {c.code} {c.meaning}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy}>
          {t('save')}
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}

type Labels = LabelsAnswer;

export function BouncesScreen(props: ScreenProps) {
  const labels = useLoad(loadLabels, [currentLanguage()]);
  const pending = useLoad(() => loadRules('undefined'), []);
  const all = useLoad(() => loadRules(), []);
  const [selected, setSelected] = useState<Rule | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const writer = can(props.user, 'write');
  const label = (list: { code: string; label: string }[] | undefined, code: string) =>
    list?.find((l) => l.code === code)?.label ?? code;
  const originText = (o: string) =>
    o === 'builtin'
      ? tx('originBuiltin')
      : o === 'user'
        ? tx('originUser')
        : o === 'observed'
          ? tx('originObserved')
          : o;
  return (
    <Page title={t('navBounces')}>
      <ErrorBanner message={labels.error ?? pending.error ?? all.error} />
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <h2>{tx('undefinedTitle')}</h2>
      <Loading loading={pending.loading && !pending.data} />
      {!writer ? <p class="muted">{tx('readOnly')}</p> : null}
      {pending.data && pending.data.length === 0 ? <p>{tx('undefinedNone')}</p> : null}
      {pending.data && pending.data.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">{tx('undefinedTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{tx('text')}</th>
                <th scope="col" class="num">
                  {tx('occurrences')}
                </th>
                <th scope="col">{tx('lastSeen')}</th>
                {writer ? <th scope="col">{tx('qualify')}</th> : null}
              </tr>
            </thead>
            <tbody>
              {pending.data.map((r) => (
                <tr key={r.id}>
                  <td class="bounce-text">{r.normalizedText ?? r.pattern}</td>
                  <td class="num">{formatNumber(r.occurrences)}</td>
                  <td>{formatTime(r.updatedAt)}</td>
                  {writer ? (
                    <td>
                      <button
                        type="button"
                        aria-label={`${tx('qualify')}: ${r.normalizedText ?? r.pattern}`}
                        onClick={() => {
                          setNotice(null);
                          setSelected(r);
                        }}
                      >
                        {tx('qualify')}
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {selected && labels.data ? (
        <QualifyForm
          key={selected.id}
          rule={selected}
          labels={labels.data}
          onCancel={() => setSelected(null)}
          onDone={(message) => {
            setSelected(null);
            setNotice(message);
            pending.reload();
            all.reload();
          }}
        />
      ) : null}

      <h2>{tx('rulesTitle')}</h2>
      <Loading loading={all.loading && !all.data} />
      {all.data ? (
        <div class="table-wrap">
          <table class="bounce-rules">
            <caption class="visually-hidden">{tx('rulesTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{tx('pattern')}</th>
                <th scope="col">{tx('regex')}</th>
                <th scope="col">{tx('errorType')}</th>
                <th scope="col">{tx('reason')}</th>
                <th scope="col" class="num">
                  {tx('code')}
                </th>
                <th scope="col">{tx('origin')}</th>
                <th scope="col">{tx('state')}</th>
                <th scope="col" class="num">
                  {tx('occurrences')}
                </th>
              </tr>
            </thead>
            <tbody>
              {all.data.map((r) => (
                <tr key={r.id} data-rule-id={r.id}>
                  <td class="bounce-text">{r.pattern}</td>
                  <td>{r.isRegex ? tx('yes') : tx('no')}</td>
                  <td>{label(labels.data?.errorTypes, r.errorType)}</td>
                  <td>{label(labels.data?.errorReasons, r.reason)}</td>
                  <td class="num">{r.code}</td>
                  <td>{originText(r.origin)}</td>
                  <td>{r.state === 'qualified' ? tx('qualified') : tx('undefinedState')}</td>
                  <td class="num">{formatNumber(r.occurrences)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Page>
  );
}
