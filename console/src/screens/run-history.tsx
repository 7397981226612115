// ウィザード利用履歴 (issue 20, screen 1) for email, SMS and LINE: the runs of
// one channel from GET /v1/wizard-runs with their status in the manual's
// colours, progress and 残り約N分 refreshed while a run is live, and the
// manual's searches: 簡易検索 (template title or memo) and 詳細検索 (AND across
// fields, OR within the statuses, text partial and case-sensitive — the API's
// semantics). The criteria live in the hash query, so a search is a link and
// survives a language switch. [削除] cancels through DELETE /v1/wizard-runs/:id
// after a confirmation saying what will happen.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { accountTimeZone, currentLanguage, formatNumber, formatTime, screenMessages, t } from '../i18n';
import type { ScreenProps } from '../routes';
import { href, navigate } from '../router';
import { can } from '../session';
import {
  ConfirmDialog,
  ErrorBanner,
  Loading,
  must,
  Page,
  Pager,
  ProgressBar,
  StatusBadge,
  useLoad,
} from '../ui';
import type { paths } from '../api-types';
import { zonedLocalToIso } from '../zoned-time';
import { loadAccountZone, loadLabels } from '../labels';

type Run = paths['/v1/wizard-runs/{id}']['get']['responses'][200]['content']['application/json'];
type RunQuery = NonNullable<paths['/v1/wizard-runs']['get']['parameters']['query']>;
type Status = NonNullable<RunQuery['status']>[number];

export const CHANNELS = ['email', 'sms', 'line'] as const;
export type ChannelName = (typeof CHANNELS)[number];
const STATUSES: Status[] = ['reserved', 'preparing', 'running', 'completed', 'error', 'cancelled'];
const LIVE: readonly string[] = ['reserved', 'preparing', 'running'];
const CANCELLABLE: readonly string[] = ['reserved', 'preparing', 'running'];
const RANGES = ['created', 'scheduled', 'started', 'completed'] as const;
const TEXT_FIELDS = ['q', 'title', 'memo'] as const;
const FLAG_FIELDS = ['includeAlreadySent', 'permissionFilter'] as const;
/** How often the list is read again while a run on it is reserved, preparing or running. */
const LIVE_REFRESH_MS = 1000;

const tx = screenMessages({
  ja: {
    title: 'ウィザード利用履歴（{channel}）',
    simpleSearch: '簡易検索',
    detailedSearch: '詳細検索',
    startSearch: '検索開始',
    q: 'テンプレート名・メモ',
    templateTitle: 'テンプレート名',
    memo: 'テンプレートメモ',
    status: 'ステータス（いずれか）',
    createdFrom: '登録日時（から）',
    createdTo: '登録日時（まで）',
    scheduledFrom: '送信予約日時（から）',
    scheduledTo: '送信予約日時（まで）',
    startedFrom: '送信開始日時（から）',
    startedTo: '送信開始日時（まで）',
    completedFrom: '送信完了日時（から）',
    completedTo: '送信完了日時（まで）',
    includeAlreadySent: '送信済の人も含めて送信する',
    permissionFilterEmail: 'DM許可',
    permissionFilterSms: 'SMS送信許可フラグ',
    permissionFilterLine: '許可フラグ',
    any: '指定なし',
    yes: 'する',
    no: 'しない',
    searchHint:
      'テキストは部分一致で、大文字と小文字を区別します。項目間はAND、1つの項目内の複数選択はORで検索します。時刻は {zone} です。',
    id: 'ID',
    template: 'テンプレート',
    segment: '送信対象者の検索条件',
    createdAt: '登録日時',
    scheduledAt: '送信予約日時',
    immediate: '即時',
    progress: '送信状況',
    deliveredOfSent: '到達数/送信数',
    errors: 'エラー',
    deliveryRate: '到達率',
    openRate: '開封率',
    clickers: 'クリック者',
    clickRate: 'クリック率',
    unsubscribes: '停止数',
    actions: '操作',
    detail: '詳細',
    delete: '削除',
    minutesLeft: '残り約{n}分',
    progressOf: '{done}/{targets}件',
    progressLabel: 'ID {id} の送信状況',
    shown: '{n}件を表示',
    none: '該当する履歴はありません。',
    confirmTitle: 'ID {id}「{template}」を削除しますか',
    confirmReserved: 'この送信予約を削除します。メッセージは1通も送信されません。',
    confirmRunning:
      '送信を中止します。すでに送信処理を行ったメッセージは取り消せず、送信通数としてカウントされます（{done}/{targets}件処理済み）。残りのリードには送信されません。',
    confirmWaves: '待機中の再送（{n}件）を取り消します。送信済みのメッセージはそのままカウントされます。',
    deleteButton: '削除する',
    deleted: 'ID {id} を削除しました（{status}）。',
    channelNav: 'チャネル',
  },
  en: {
    title: 'Wizard run history ({channel})',
    simpleSearch: 'Simple search',
    detailedSearch: 'Detailed search',
    startSearch: 'Search',
    q: 'Template title or memo',
    templateTitle: 'Template title',
    memo: 'Template memo',
    status: 'Status (any of)',
    createdFrom: 'Created from',
    createdTo: 'Created to',
    scheduledFrom: 'Scheduled from',
    scheduledTo: 'Scheduled to',
    startedFrom: 'Started from',
    startedTo: 'Started to',
    completedFrom: 'Completed from',
    completedTo: 'Completed to',
    includeAlreadySent: 'Include leads already sent to',
    permissionFilterEmail: 'DM permission',
    permissionFilterSms: 'SMS permission flag',
    permissionFilterLine: 'Permission flag',
    any: 'Any',
    yes: 'Yes',
    no: 'No',
    searchHint:
      'Text matches partially and is case-sensitive. Fields combine with AND, several choices in one field with OR. Times are in {zone}.',
    id: 'ID',
    template: 'Template',
    segment: 'Target segment',
    createdAt: 'Created',
    scheduledAt: 'Scheduled',
    immediate: 'Immediate',
    progress: 'Progress',
    deliveredOfSent: 'Delivered/sent',
    errors: 'Errors',
    deliveryRate: 'Delivery rate',
    openRate: 'Open rate',
    clickers: 'Clickers',
    clickRate: 'Click rate',
    unsubscribes: 'Unsubscribes',
    actions: 'Actions',
    detail: 'Detail',
    delete: 'Delete',
    minutesLeft: 'about {n} min left',
    progressOf: '{done}/{targets}',
    progressLabel: 'Progress of run {id}',
    shown: '{n} shown',
    none: 'No run matches.',
    confirmTitle: 'Delete run {id} "{template}"?',
    confirmReserved: 'This reservation is deleted. Nothing is sent.',
    confirmRunning:
      'The run stops. Messages already handed over cannot be recalled and stay counted as sent ({done}/{targets} processed). The remaining leads get nothing.',
    confirmWaves: 'The pending retries ({n}) are cancelled. Messages already sent stay counted.',
    deleteButton: 'Delete',
    deleted: 'Run {id} deleted ({status}).',
    channelNav: 'Channel',
  },
});

const channelText = (c: ChannelName) =>
  t(c === 'email' ? 'channelEmail' : c === 'sms' ? 'channelSms' : 'channelLine');

/** A rate as the API gives it (percent, 2 decimals) or a dash when not measurable. */
function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return t('notMeasurable');
  return `${new Intl.NumberFormat(currentLanguage() === 'ja' ? 'ja-JP' : 'en-GB', { maximumFractionDigits: 2 }).format(rate)}%`;
}

/** The search criteria as kept in the hash query (datetime-local values in the account's zone). */
function criteriaOf(query: URLSearchParams) {
  return {
    mode: query.get('mode') === 'detailed' ? ('detailed' as const) : ('simple' as const),
    text: Object.fromEntries(TEXT_FIELDS.map((k) => [k, query.get(k) ?? ''])) as Record<
      (typeof TEXT_FIELDS)[number],
      string
    >,
    status: query.getAll('status').filter((s): s is Status => (STATUSES as string[]).includes(s)),
    ranges: Object.fromEntries(
      RANGES.flatMap((r) => [`${r}From`, `${r}To`]).map((k) => [k, query.get(k) ?? '']),
    ) as Record<string, string>,
    flags: Object.fromEntries(FLAG_FIELDS.map((k) => [k, query.get(k) ?? ''])) as Record<
      (typeof FLAG_FIELDS)[number],
      string
    >,
  };
}
type Criteria = ReturnType<typeof criteriaOf>;

function apiQuery(channel: ChannelName, c: Criteria, cursor: string | undefined, zone: string): RunQuery {
  const q: RunQuery = { channel: [channel], sort: 'createdAt', order: 'desc', limit: 50, cursor };
  if (c.mode === 'simple') {
    if (c.text.q) q.q = c.text.q;
    return q;
  }
  if (c.text.title) q.title = c.text.title;
  if (c.text.memo) q.memo = c.text.memo;
  if (c.status.length) q.status = c.status;
  for (const [k, v] of Object.entries(c.ranges)) {
    const iso = v ? zonedLocalToIso(v, zone, k.endsWith('To') ? 59 : 0) : null;
    if (iso) (q as Record<string, unknown>)[k] = iso;
  }
  for (const k of FLAG_FIELDS) if (c.flags[k]) q[k] = c.flags[k] === 'true';
  return q;
}

function searchHref(channel: ChannelName, c: Criteria): string {
  const p = new URLSearchParams();
  if (c.mode === 'detailed') p.set('mode', 'detailed');
  const texts = c.mode === 'simple' ? (['q'] as const) : (['title', 'memo'] as const);
  for (const k of texts) if (c.text[k]) p.set(k, c.text[k]);
  if (c.mode === 'detailed') {
    for (const s of c.status) p.append('status', s);
    for (const [k, v] of Object.entries(c.ranges)) if (v) p.set(k, v);
    for (const [k, v] of Object.entries(c.flags)) if (v) p.set(k, v);
  }
  const qs = p.toString();
  return `/runs/${channel}${qs ? `?${qs}` : ''}`;
}

function SearchForm(props: { channel: ChannelName; criteria: Criteria; statusLabel: (s: string) => string }) {
  const [c, setC] = useState<Criteria>(props.criteria);
  const zone = accountTimeZone();
  const submit = (e: Event) => {
    e.preventDefault();
    navigate(searchHref(props.channel, c));
  };
  const permissionLabel =
    props.channel === 'email'
      ? tx('permissionFilterEmail')
      : props.channel === 'sms'
        ? tx('permissionFilterSms')
        : tx('permissionFilterLine');
  const flagSelect = (k: (typeof FLAG_FIELDS)[number], label: string) => (
    <label key={k}>
      {label}
      <select
        name={k}
        value={c.flags[k]}
        onChange={(e) => setC({ ...c, flags: { ...c.flags, [k]: e.currentTarget.value } })}
      >
        <option value="">{tx('any')}</option>
        <option value="true">{tx('yes')}</option>
        <option value="false">{tx('no')}</option>
      </select>
    </label>
  );
  return (
    <form class="run-search" role="search" onSubmit={submit}>
      <div class="run-search-modes">
        <button
          type="button"
          class={c.mode === 'simple' ? '' : 'secondary'}
          aria-pressed={c.mode === 'simple'}
          onClick={() => setC({ ...c, mode: 'simple' })}
        >
          {tx('simpleSearch')}
        </button>
        <button
          type="button"
          class={c.mode === 'detailed' ? '' : 'secondary'}
          aria-pressed={c.mode === 'detailed'}
          onClick={() => setC({ ...c, mode: 'detailed' })}
        >
          {tx('detailedSearch')}
        </button>
      </div>
      <div class="form-grid">
        {c.mode === 'simple' ? (
          <label>
            {tx('q')}
            <input
              name="q"
              type="search"
              value={c.text.q}
              maxLength={200}
              onInput={(e) => setC({ ...c, text: { ...c.text, q: e.currentTarget.value } })}
            />
          </label>
        ) : (
          <>
            <label>
              {tx('templateTitle')}
              <input
                name="title"
                type="search"
                value={c.text.title}
                maxLength={200}
                onInput={(e) => setC({ ...c, text: { ...c.text, title: e.currentTarget.value } })}
              />
            </label>
            <label>
              {tx('memo')}
              <input
                name="memo"
                type="search"
                value={c.text.memo}
                maxLength={200}
                onInput={(e) => setC({ ...c, text: { ...c.text, memo: e.currentTarget.value } })}
              />
            </label>
            <fieldset>
              <legend>{tx('status')}</legend>
              {STATUSES.map((s) => (
                <label key={s}>
                  <input
                    type="checkbox"
                    name="status"
                    value={s}
                    checked={c.status.includes(s)}
                    onChange={(e) =>
                      setC({
                        ...c,
                        status: e.currentTarget.checked ? [...c.status, s] : c.status.filter((x) => x !== s),
                      })
                    }
                  />
                  {props.statusLabel(s)}
                </label>
              ))}
            </fieldset>
            {RANGES.flatMap((r) => [`${r}From`, `${r}To`] as const).map((k) => (
              <label key={k}>
                {tx(k)}
                <input
                  name={k}
                  type="datetime-local"
                  value={c.ranges[k]}
                  onInput={(e) => setC({ ...c, ranges: { ...c.ranges, [k]: e.currentTarget.value } })}
                />
              </label>
            ))}
            {flagSelect('includeAlreadySent', tx('includeAlreadySent'))}
            {flagSelect('permissionFilter', permissionLabel)}
          </>
        )}
        <button type="submit">{tx('startSearch')}</button>
        <button type="button" class="secondary" onClick={() => navigate(`/runs/${props.channel}`)}>
          {t('clear')}
        </button>
      </div>
      <p class="hint">{tx('searchHint', { zone })}</p>
    </form>
  );
}

function confirmText(run: Run): string {
  if (run.status === 'reserved') return tx('confirmReserved');
  if (run.status === 'completed') return tx('confirmWaves', { n: formatNumber(run.waves.pending.count) });
  return tx('confirmRunning', {
    done: formatNumber(run.progress.done),
    targets: formatNumber(run.counters.targets),
  });
}

/** [削除] is offered where DELETE does something: a live run, or a completed run's pending retry waves. */
function deletable(run: Run): boolean {
  return CANCELLABLE.includes(run.status) || (run.status === 'completed' && run.waves.pending.count > 0);
}

export function RunHistoryScreen(props: ScreenProps) {
  const channel = (CHANNELS as readonly string[]).includes(props.match.params.channel ?? '')
    ? (props.match.params.channel as ChannelName)
    : 'email';
  const criteria = criteriaOf(props.match.query);
  const queryKey = props.match.query.toString();
  // The page's cursors, back to the first page when the search changes.
  const [pages, setPages] = useState<{ key: string; cursors: (string | undefined)[] }>({
    key: queryKey,
    cursors: [undefined],
  });
  const cursors = pages.key === queryKey ? pages.cursors : [undefined];
  const setCursors = (next: (string | undefined)[]) => setPages({ key: queryKey, cursors: next });
  const cursor = cursors[cursors.length - 1];
  const [live, setLive] = useState(false);
  const [confirming, setConfirming] = useState<Run | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const writer = can(props.user, 'write');

  const labels = useLoad(loadLabels, [currentLanguage()]);
  const statusLabel = (s: string) => labels.data?.runStatuses.find((l) => l.code === s)?.label ?? s;

  const runs = useLoad(
    async () => {
      const zone = await loadAccountZone();
      const page = must(
        await api.GET('/v1/wizard-runs', {
          params: { query: apiQuery(channel, criteria, cursor, zone) },
        }),
      );
      setLive(page.items.some((r) => LIVE.includes(r.status)));
      return page;
    },
    [channel, queryKey, cursor],
    live ? LIVE_REFRESH_MS : undefined,
  );

  const cancel = async (run: Run) => {
    setConfirming(null);
    setActionError(null);
    const answer = await api.DELETE('/v1/wizard-runs/{id}', { params: { path: { id: run.id } } });
    if (!answer.response.ok || !answer.data) {
      const err = answer.error as { message?: string } | undefined;
      setActionError(err?.message ?? `HTTP ${answer.response.status}`);
    } else {
      setNotice(tx('deleted', { id: run.id, status: statusLabel(answer.data.status) }));
    }
    runs.reload();
  };

  const items = runs.data?.items ?? [];
  const email = channel === 'email';
  return (
    <Page title={tx('title', { channel: channelText(channel) })}>
      <nav class="channel-tabs" aria-label={tx('channelNav')}>
        {CHANNELS.map((c) => (
          <a key={c} href={href(`/runs/${c}`)} aria-current={c === channel ? 'page' : undefined}>
            {channelText(c)}
          </a>
        ))}
      </nav>
      <SearchForm
        key={`${channel}|${queryKey}`}
        channel={channel}
        criteria={criteria}
        statusLabel={statusLabel}
      />
      <ErrorBanner message={runs.error ?? labels.error ?? actionError} />
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <Loading loading={runs.loading && !runs.data} />
      {runs.data ? (
        <>
          <p class="run-count" aria-live="polite">
            {tx('shown', { n: formatNumber(items.length) })}
          </p>
          {items.length === 0 ? (
            <p>{tx('none')}</p>
          ) : (
            <div class="table-wrap">
              <table class="run-history">
                <thead>
                  <tr>
                    <th scope="col" class="num">
                      {tx('id')}
                    </th>
                    <th scope="col">{tx('template')}</th>
                    <th scope="col">{tx('createdAt')}</th>
                    <th scope="col">{tx('scheduledAt')}</th>
                    <th scope="col">{tx('progress')}</th>
                    <th scope="col" class="num">
                      {tx('deliveredOfSent')}
                    </th>
                    <th scope="col" class="num">
                      {tx('errors')}
                    </th>
                    <th scope="col" class="num">
                      {tx('deliveryRate')}
                    </th>
                    {email ? (
                      <th scope="col" class="num">
                        {tx('openRate')}
                      </th>
                    ) : null}
                    <th scope="col" class="num">
                      {tx('clickers')}
                    </th>
                    <th scope="col" class="num">
                      {tx('clickRate')}
                    </th>
                    <th scope="col" class="num">
                      {tx('unsubscribes')}
                    </th>
                    <th scope="col">{tx('actions')}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((r) => (
                    <tr key={r.id} data-run-id={r.id}>
                      <td class="num">{r.id}</td>
                      <td>
                        <span class="run-template">{r.template.title}</span>
                        {r.target.segmentName ? (
                          <span class="run-segment">
                            {tx('segment')}: {r.target.segmentName}
                          </span>
                        ) : null}
                      </td>
                      <td>{formatTime(r.createdAt)}</td>
                      <td>{r.scheduledAt ? formatTime(r.scheduledAt) : tx('immediate')}</td>
                      <td class="run-progress">
                        <StatusBadge status={r.status} label={statusLabel(r.status)} />
                        {/* A reservation has no targets yet (they are selected at its start): no bar. */}
                        {r.status === 'reserved' ? null : (
                          <ProgressBar
                            value={r.progress.done}
                            max={r.counters.targets}
                            label={tx('progressLabel', { id: r.id })}
                          />
                        )}
                        {r.status === 'reserved' ? null : (
                          <span class="run-progress-text">
                            {tx('progressOf', {
                              done: formatNumber(r.progress.done),
                              targets: formatNumber(r.counters.targets),
                            })}
                            {r.status === 'running' && r.progress.minutesLeft !== null ? (
                              <span class="run-eta"> {tx('minutesLeft', { n: r.progress.minutesLeft })}</span>
                            ) : null}
                          </span>
                        )}
                      </td>
                      <td class="num">
                        {formatNumber(r.counters.delivered)}/{formatNumber(r.counters.sent)}
                      </td>
                      <td class="num">{formatNumber(r.counters.errors)}</td>
                      <td class="num">{percent(r.figures.deliveryRate)}</td>
                      {email ? <td class="num">{percent(r.figures.openRate)}</td> : null}
                      <td class="num">{formatNumber(r.counters.clickers)}</td>
                      <td class="num">{percent(r.figures.clickRate)}</td>
                      <td class="num">{formatNumber(r.counters.unsubscribes)}</td>
                      <td class="run-actions">
                        <a
                          href={href(`/runs/${channel}/${r.id}`)}
                          aria-label={`${tx('detail')} ${tx('id')} ${r.id}`}
                        >
                          [{tx('detail')}]
                        </a>
                        {writer && deletable(r) ? (
                          <button
                            type="button"
                            class="link-button"
                            aria-label={`${tx('delete')} ${tx('id')} ${r.id}`}
                            onClick={() => {
                              setNotice(null);
                              setConfirming(r);
                            }}
                          >
                            [{tx('delete')}]
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager
            hasPrevious={cursors.length > 1}
            nextCursor={runs.data.nextCursor}
            onPrevious={() => setCursors(cursors.slice(0, -1))}
            onNext={() => runs.data?.nextCursor && setCursors([...cursors, runs.data.nextCursor])}
          />
        </>
      ) : null}
      <ConfirmDialog
        open={confirming !== null}
        title={
          confirming ? tx('confirmTitle', { id: confirming.id, template: confirming.template.title }) : ''
        }
        message={confirming ? <p>{confirmText(confirming)}</p> : null}
        confirmLabel={tx('deleteButton')}
        onConfirm={() => confirming && void cancel(confirming)}
        onCancel={() => setConfirming(null)}
      />
    </Page>
  );
}
