// 個別送信履歴: each channel's individual sends, searched the manual's way
// (AND across fields, OR within result and code; address and title partial),
// and one send's detail with every field and every attempt.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { accountTimeZone, formatNumber, formatTime, screenMessages, t } from '../i18n';
import { useLabels, type SendItem } from '../labels';
import type { ScreenProps } from '../routes';
import { zonedLocalToIso } from '../zoned-time';
import { href, navigate } from '../router';
import { ErrorBanner, Loading, must, Page, Pager, useLoad } from '../ui';

const tx = screenMessages({
  ja: {
    title: '個別送信履歴（{channel}）',
    detailTitle: '個別送信 #{id}',
    address: '宛先',
    templateTitle: 'テンプレート名',
    runId: 'ウィザードID',
    result: '結果',
    code: 'コード',
    codes: 'コード（カンマ区切り）',
    sentFrom: '送信日時（から）',
    sentTo: '送信日時（まで）',
    sentAt: '送信日時',
    deliveredAt: '到達日時',
    createdAt: '作成日時',
    updatedAt: '更新日時',
    lead: 'リード',
    clicks: 'クリック数',
    openedAt: '開封日時',
    detail: '詳細',
    detailText: '結果詳細',
    errorType: 'エラー種別',
    errorReason: 'エラー理由',
    attempts: '送信回数',
    nextAttemptAt: '次回再送日時',
    messageId: 'メッセージID',
    smsSegments: 'SMS通数',
    lineAccount: 'LINE公式アカウント',
    body: '本文',
    attemptHistory: '送信の記録',
    attempt: '回',
    at: '日時',
    resendReason: '再送理由',
    none: '該当する送信はありません',
    single: '個別送信',
    badCodes: 'コードは数字をカンマで区切って入力してください',
  },
  en: {
    title: 'Individual sends ({channel})',
    detailTitle: 'Individual send #{id}',
    address: 'Address',
    templateTitle: 'Template title',
    runId: 'Wizard run ID',
    result: 'Result',
    code: 'Code',
    codes: 'Codes (comma separated)',
    sentFrom: 'Sent from',
    sentTo: 'Sent until',
    sentAt: 'Sent at',
    deliveredAt: 'Delivered at',
    createdAt: 'Created at',
    updatedAt: 'Updated at',
    lead: 'Lead',
    clicks: 'Clicks',
    openedAt: 'Opened at',
    detail: 'Detail',
    detailText: 'Result detail',
    errorType: 'Error type',
    errorReason: 'Error reason',
    attempts: 'Attempts',
    nextAttemptAt: 'Next attempt',
    messageId: 'Message ID',
    smsSegments: 'SMS parts',
    lineAccount: 'LINE official account',
    body: 'Body',
    attemptHistory: 'Attempts',
    attempt: 'No.',
    at: 'At',
    resendReason: 'Resend reason',
    none: 'No send matches',
    single: 'single send',
    badCodes: 'Enter codes as numbers separated by commas',
  },
});

const RESULTS = ['delivered', 'sent', 'error', 'pre_error', 'pending'] as const;
type Result = (typeof RESULTS)[number];
type Channel = 'email' | 'sms' | 'line';

export function channelName(channel: string): string {
  return channel === 'sms' ? t('channelSms') : channel === 'line' ? t('channelLine') : t('channelEmail');
}

interface SendQuery {
  address: string;
  title: string;
  runId: string;
  results: Result[];
  codes: string;
  sentFrom: string;
  sentTo: string;
}

const EMPTY: SendQuery = {
  address: '',
  title: '',
  runId: '',
  results: [],
  codes: '',
  sentFrom: '',
  sentTo: '',
};

function parseCodes(text: string): number[] | null {
  if (text.trim() === '') return [];
  const parts = text.split(',').map((s) => s.trim());
  if (!parts.every((p) => /^\d{1,5}$/.test(p))) return null;
  return parts.map(Number);
}

/** The send results as checkboxes (OR within the field), labelled in the console's language. */
export function ResultChoices<R extends string>(props: {
  legend: string;
  chosen: R[];
  onChange: (chosen: R[]) => void;
  results?: readonly R[];
}) {
  const labels = useLabels();
  return (
    <fieldset>
      <legend>{props.legend}</legend>
      {(props.results ?? (RESULTS as unknown as readonly R[])).map((r) => (
        <label key={r}>
          <input
            type="checkbox"
            name="result"
            value={r}
            checked={props.chosen.includes(r)}
            onChange={(e) =>
              props.onChange(
                e.currentTarget.checked ? [...props.chosen, r] : props.chosen.filter((x) => x !== r),
              )
            }
          />
          {labels.sendResult(r)}
        </label>
      ))}
    </fieldset>
  );
}

/** Links to the same screen for each channel, the current one marked. */
export function ChannelTabs(props: { base: string; current: string }) {
  return (
    <nav
      class="channel-tabs"
      aria-label={t('channelEmail') + ' / ' + t('channelSms') + ' / ' + t('channelLine')}
    >
      {(['email', 'sms', 'line'] as const).map((c) => (
        <a key={c} href={href(`${props.base}/${c}`)} aria-current={c === props.current ? 'page' : undefined}>
          {channelName(c)}
        </a>
      ))}
    </nav>
  );
}

export function SendTable(props: { items: SendItem[]; showLead?: boolean }) {
  const labels = useLabels();
  if (props.items.length === 0) return <p>{tx('none')}</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">ID</th>
            <th scope="col">{tx('sentAt')}</th>
            <th scope="col">{tx('address')}</th>
            {props.showLead === false ? null : <th scope="col">{tx('lead')}</th>}
            <th scope="col">{tx('templateTitle')}</th>
            <th scope="col">{tx('runId')}</th>
            <th scope="col">{tx('result')}</th>
            <th scope="col">{tx('code')}</th>
            <th scope="col" class="num">
              {tx('clicks')}
            </th>
            <th scope="col">{tx('openedAt')}</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((s) => (
            <tr key={s.id}>
              <td>
                <a href={href(`/send/${s.id}`)}>{s.id}</a>
              </td>
              <td>{formatTime(s.sentAt ?? s.createdAt)}</td>
              <td>{s.address}</td>
              {props.showLead === false ? null : (
                <td>
                  <a href={href(`/leads/${s.leadId}`)}>#{s.leadId}</a>
                </td>
              )}
              <td>{s.templateTitle}</td>
              <td>
                {s.runId === null ? (
                  tx('single')
                ) : (
                  <a href={href(`/runs/${s.channel}/${s.runId}`)}>{s.runId}</a>
                )}
              </td>
              <td data-result={s.result}>{labels.sendResult(s.result)}</td>
              <td title={labels.codeMeaning(s.code)}>{s.code ?? '—'}</td>
              <td class="num">{formatNumber(s.clickCount)}</td>
              <td>{formatTime(s.openedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function SendsScreen(props: ScreenProps) {
  const channel = (
    ['email', 'sms', 'line'].includes(props.match.params.channel ?? '') ? props.match.params.channel : 'email'
  ) as Channel;
  const [form, setForm] = useState<SendQuery>(EMPTY);
  const [applied, setApplied] = useState<SendQuery>(EMPTY);
  const [formError, setFormError] = useState<string | null>(null);
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];

  const page = useLoad(async () => {
    const codes = parseCodes(applied.codes) ?? [];
    return must(
      await api.GET('/v1/sends', {
        params: {
          query: {
            channel: [channel],
            address: applied.address || undefined,
            title: applied.title || undefined,
            runId: applied.runId ? Number(applied.runId) : undefined,
            result: applied.results.length ? applied.results : undefined,
            code: codes.length ? codes : undefined,
            sentFrom: zonedLocalToIso(applied.sentFrom, accountTimeZone()) ?? undefined,
            sentTo: zonedLocalToIso(applied.sentTo, accountTimeZone(), 59) ?? undefined,
            limit: 50,
            cursor,
          },
        },
      }),
    );
  }, [channel, applied, cursor]);

  const submit = (e: Event) => {
    e.preventDefault();
    if (parseCodes(form.codes) === null) {
      setFormError(tx('badCodes'));
      return;
    }
    setFormError(null);
    setCursors([]);
    setApplied(form);
  };

  return (
    <Page
      title={tx('title', { channel: channelName(channel) })}
      actions={<ChannelTabs base="/sends" current={channel} />}
    >
      <form class="form-grid" onSubmit={submit} aria-label={t('search')}>
        <label>
          {tx('address')}
          <input
            name="address"
            value={form.address}
            onInput={(e) => setForm({ ...form, address: e.currentTarget.value })}
          />
        </label>
        <label>
          {tx('templateTitle')}
          <input
            name="title"
            value={form.title}
            onInput={(e) => setForm({ ...form, title: e.currentTarget.value })}
          />
        </label>
        <label>
          {tx('runId')}
          <input
            name="runId"
            inputMode="numeric"
            pattern="[0-9]*"
            value={form.runId}
            onInput={(e) => setForm({ ...form, runId: e.currentTarget.value })}
          />
        </label>
        <ResultChoices
          legend={tx('result')}
          chosen={form.results}
          onChange={(results) => setForm({ ...form, results })}
        />
        <label>
          {tx('codes')}
          <input
            name="codes"
            value={form.codes}
            onInput={(e) => setForm({ ...form, codes: e.currentTarget.value })}
          />
        </label>
        <label>
          {tx('sentFrom')}
          <input
            type="datetime-local"
            name="sentFrom"
            value={form.sentFrom}
            onInput={(e) => setForm({ ...form, sentFrom: e.currentTarget.value })}
          />
        </label>
        <label>
          {tx('sentTo')}
          <input
            type="datetime-local"
            name="sentTo"
            value={form.sentTo}
            onInput={(e) => setForm({ ...form, sentTo: e.currentTarget.value })}
          />
        </label>
        <button type="submit">{t('search')}</button>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setForm(EMPTY);
            setApplied(EMPTY);
            setCursors([]);
          }}
        >
          {t('clear')}
        </button>
      </form>
      <ErrorBanner message={formError ?? page.error} />
      <Loading loading={page.loading} />
      {page.data ? <SendTable items={page.data.items} /> : null}
      <Pager
        hasPrevious={cursors.length > 0}
        nextCursor={page.data?.nextCursor}
        onPrevious={() => setCursors(cursors.slice(0, -1))}
        onNext={() => page.data?.nextCursor && setCursors([...cursors, page.data.nextCursor])}
      />
    </Page>
  );
}

export function SendDetailScreen(props: ScreenProps) {
  const id = props.match.params.id ?? '';
  const labels = useLabels();
  const send = useLoad(async () => must(await api.GET('/v1/sends/{id}', { params: { path: { id } } })), [id]);
  const s = send.data;
  return (
    <Page title={tx('detailTitle', { id })}>
      <ErrorBanner message={send.error} />
      <Loading loading={send.loading} />
      {s ? (
        <>
          <dl class="fields">
            <dt>{tx('result')}</dt>
            <dd data-result={s.result}>{labels.sendResult(s.result)}</dd>
            <dt>{tx('code')}</dt>
            <dd>{s.code === null ? '—' : `${s.code} ${labels.codeMeaning(s.code)}`}</dd>
            <dt>{tx('detailText')}</dt>
            <dd>{labels.detail(s.detail)}</dd>
            <dt>{tx('errorType')}</dt>
            <dd>{s.errorType ?? '—'}</dd>
            <dt>{tx('errorReason')}</dt>
            <dd>{labels.errorReason(s.errorReason)}</dd>
            <dt>{tx('address')}</dt>
            <dd>{s.address}</dd>
            <dt>{tx('lead')}</dt>
            <dd>
              <a href={href(`/leads/${s.leadId}`)}>#{s.leadId}</a>
            </dd>
            <dt>{tx('templateTitle')}</dt>
            <dd>{s.templateTitle}</dd>
            <dt>{tx('runId')}</dt>
            <dd>
              {s.runId === null ? (
                tx('single')
              ) : (
                <a href={href(`/runs/${s.channel}/${s.runId}`)}>{s.runId}</a>
              )}
            </dd>
            <dt>{tx('createdAt')}</dt>
            <dd>{formatTime(s.createdAt)}</dd>
            <dt>{tx('sentAt')}</dt>
            <dd>{formatTime(s.sentAt)}</dd>
            <dt>{tx('deliveredAt')}</dt>
            <dd>{formatTime(s.deliveredAt)}</dd>
            <dt>{tx('openedAt')}</dt>
            <dd>{formatTime(s.openedAt)}</dd>
            <dt>{tx('clicks')}</dt>
            <dd>{formatNumber(s.clickCount)}</dd>
            <dt>{tx('attempts')}</dt>
            <dd>{formatNumber(s.attempts)}</dd>
            <dt>{tx('nextAttemptAt')}</dt>
            <dd>{formatTime(s.nextAttemptAt)}</dd>
            <dt>{tx('messageId')}</dt>
            <dd>{s.messageId ?? '—'}</dd>
            {s.channel === 'sms' ? (
              <>
                <dt>{tx('smsSegments')}</dt>
                <dd>{formatNumber(s.smsSegments)}</dd>
              </>
            ) : null}
            {s.channel === 'line' ? (
              <>
                <dt>{tx('lineAccount')}</dt>
                <dd>{s.lineAccountName ?? '—'}</dd>
              </>
            ) : null}
            <dt>{tx('updatedAt')}</dt>
            <dd>{formatTime(s.updatedAt)}</dd>
          </dl>
          <h2>{tx('body')}</h2>
          <pre class="message-body">{s.body ?? '—'}</pre>
          <h2>{tx('attemptHistory')}</h2>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{tx('attempt')}</th>
                  <th scope="col">{tx('at')}</th>
                  <th scope="col">{tx('result')}</th>
                  <th scope="col">{tx('code')}</th>
                  <th scope="col">{tx('detailText')}</th>
                  <th scope="col">{tx('messageId')}</th>
                  <th scope="col">{tx('resendReason')}</th>
                </tr>
              </thead>
              <tbody>
                {(s.attemptHistory ?? []).map((a) => (
                  <tr key={a.attempt}>
                    <td>{a.attempt}</td>
                    <td>{formatTime(a.at)}</td>
                    <td>{labels.sendResult(a.result)}</td>
                    <td>{a.code ?? '—'}</td>
                    <td>{labels.detail(a.detail)}</td>
                    <td>{a.messageId ?? '—'}</td>
                    <td>{a.resendReason ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p>
            <button type="button" class="secondary" onClick={() => navigate(`/sends/${s.channel}`)}>
              {tx('title', { channel: channelName(s.channel) })}
            </button>
          </p>
        </>
      ) : null}
    </Page>
  );
}
