// 複合検索: leads found by their own fields and their individual send history
// (channel, run, template, result, code, sent time, clicked, opened,
// unsubscribed), with the count; the search saved as a segment to send to.
// The console builds the same filter a REST client sends (POST /v1/leads/search
// and POST /v1/segments compile it alike), so a saved search selects the
// leads it showed.
import { useState } from 'preact/hooks';
import { api } from '../api';
import { accountTimeZone, formatNumber, screenMessages, t } from '../i18n';
import type { ScreenProps } from '../routes';
import { zonedLocalToIso } from '../zoned-time';
import { ResultChoices } from './sends';
import { href } from '../router';
import { can } from '../session';
import { ErrorBanner, must, Page } from '../ui';

const tx = screenMessages({
  ja: {
    title: '複合検索（送信履歴からリードを探す）',
    leadFields: 'リードの項目',
    name: '氏名（部分一致）',
    email: 'メールアドレス（部分一致）',
    emailValid: 'メール有効フラグ',
    any: '指定なし',
    validOnly: '有効',
    invalidOnly: '無効',
    history: '送信履歴',
    exists: '条件',
    has: 'この送信がある',
    hasNot: 'この送信がない',
    channel: 'チャネル',
    runId: 'ウィザードID',
    templateId: 'テンプレートID',
    result: '結果',
    codes: 'コード（カンマ区切り）',
    sentFrom: '送信日時（から）',
    sentTo: '送信日時（まで）',
    clicked: 'クリック',
    opened: '開封',
    unsubscribed: '配信停止',
    yes: 'あり',
    no: 'なし',
    total: '{n}件',
    id: 'ID',
    saveTitle: 'セグメントとして保存',
    segmentName: 'セグメント名',
    segmentChannel: '送信チャネル',
    saved: 'セグメント「{name}」（ID {id}）を保存しました',
    sendToIt: 'このセグメントに送信',
    badNumber: '{field}は数字で入力してください',
  },
  en: {
    title: 'Lead search by send history',
    leadFields: 'Lead fields',
    name: 'Name (contains)',
    email: 'Email address (contains)',
    emailValid: 'Email valid flag',
    any: 'any',
    validOnly: 'valid',
    invalidOnly: 'invalid',
    history: 'Send history',
    exists: 'Condition',
    has: 'has such a send',
    hasNot: 'has no such send',
    channel: 'Channel',
    runId: 'Wizard run ID',
    templateId: 'Template ID',
    result: 'Result',
    codes: 'Codes (comma separated)',
    sentFrom: 'Sent from',
    sentTo: 'Sent until',
    clicked: 'Clicked',
    opened: 'Opened',
    unsubscribed: 'Unsubscribed',
    yes: 'yes',
    no: 'no',
    total: '{n} leads',
    id: 'ID',
    saveTitle: 'Save as a segment',
    segmentName: 'Segment name',
    segmentChannel: 'Channel to send on',
    saved: 'Saved segment "{name}" (ID {id})',
    sendToIt: 'Send to this segment',
    badNumber: '{field} must be a number',
  },
});

type Tri = '' | 'true' | 'false';

interface SearchForm {
  name: string;
  email: string;
  emailValid: Tri;
  useHistory: boolean;
  exists: 'true' | 'false';
  channel: '' | 'email' | 'sms' | 'line';
  runId: string;
  templateId: string;
  results: string[];
  codes: string;
  sentFrom: string;
  sentTo: string;
  clicked: Tri;
  opened: Tri;
  unsubscribed: Tri;
}

const EMPTY: SearchForm = {
  name: '',
  email: '',
  emailValid: '',
  useHistory: true,
  exists: 'true',
  channel: '',
  runId: '',
  templateId: '',
  results: [],
  codes: '',
  sentFrom: '',
  sentTo: '',
  clicked: '',
  opened: '',
  unsubscribed: '',
};

/** The filter language of domain/segment-filter.ts for this form; a string names a field that is wrong. */
export function buildFilter(f: SearchForm): Record<string, unknown> | string {
  const all: unknown[] = [];
  if (f.name.trim()) all.push({ field: 'name', op: 'contains', value: f.name.trim() });
  if (f.email.trim()) all.push({ field: 'email', op: 'contains', value: f.email.trim() });
  if (f.emailValid) all.push({ field: 'email_valid', op: 'eq', value: f.emailValid === 'true' });
  const sends: Record<string, unknown> = {};
  if (f.channel) sends.channel = f.channel;
  if (f.runId.trim()) {
    if (!/^\d+$/.test(f.runId.trim())) return tx('runId');
    sends.runId = Number(f.runId.trim());
  }
  if (f.templateId.trim()) {
    if (!/^\d+$/.test(f.templateId.trim())) return tx('templateId');
    sends.templateId = Number(f.templateId.trim());
  }
  if (f.results.length) sends.result = f.results;
  if (f.codes.trim()) {
    const codes = f.codes.split(',').map((s) => s.trim());
    if (!codes.every((c) => /^\d{1,5}$/.test(c))) return tx('codes');
    sends.code = codes.map(Number);
  }
  const from = zonedLocalToIso(f.sentFrom, accountTimeZone());
  const to = zonedLocalToIso(f.sentTo, accountTimeZone(), 59);
  if (from) sends.sentFrom = from;
  if (to) sends.sentTo = to;
  for (const k of ['clicked', 'opened', 'unsubscribed'] as const) if (f[k]) sends[k] = f[k] === 'true';
  if (f.useHistory && (Object.keys(sends).length > 0 || f.exists === 'false'))
    all.push({ sends: { ...sends, exists: f.exists === 'true' } });
  return { all };
}

function TriSelect(props: { label: string; name: string; value: Tri; onChange: (v: Tri) => void }) {
  return (
    <label>
      {props.label}
      <select
        name={props.name}
        value={props.value}
        onChange={(e) => props.onChange(e.currentTarget.value as Tri)}
      >
        <option value="">{tx('any')}</option>
        <option value="true">{tx('yes')}</option>
        <option value="false">{tx('no')}</option>
      </select>
    </label>
  );
}

type SearchAnswer = Awaited<ReturnType<typeof search>>;

async function search(filter: Record<string, unknown>, cursor?: number) {
  return must(await api.POST('/v1/leads/search', { body: { filter, limit: 50, cursor, count: true } }));
}

export function LeadSearchScreen(props: ScreenProps) {
  const [form, setForm] = useState<SearchForm>(EMPTY);
  const [filter, setFilter] = useState<Record<string, unknown> | null>(null);
  const [answer, setAnswer] = useState<SearchAnswer | null>(null);
  const [cursors, setCursors] = useState<number[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [segmentName, setSegmentName] = useState('');
  const [segmentChannel, setSegmentChannel] = useState<'email' | 'sms' | 'line'>('email');
  const [saved, setSaved] = useState<{ id: number; name: string; channel: string } | null>(null);
  const set = (patch: Partial<SearchForm>) => setForm({ ...form, ...patch });

  const run = async (f: Record<string, unknown>, cursor?: number) => {
    try {
      setAnswer(await search(f, cursor));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const built = buildFilter(form);
    if (typeof built === 'string') {
      setError(tx('badNumber', { field: built }));
      return;
    }
    setFilter(built);
    setCursors([]);
    setSaved(null);
    await run(built);
  };
  const save = async (e: Event) => {
    e.preventDefault();
    if (!filter) return;
    try {
      const seg = must(
        await api.POST('/v1/segments', { body: { name: segmentName, channel: segmentChannel, filter } }),
      );
      setSaved({ id: seg.id, name: seg.name, channel: seg.channel });
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <Page title={tx('title')}>
      <form onSubmit={submit} aria-label={t('search')}>
        <fieldset class="form-grid">
          <legend>{tx('leadFields')}</legend>
          <label>
            {tx('name')}
            <input name="name" value={form.name} onInput={(e) => set({ name: e.currentTarget.value })} />
          </label>
          <label>
            {tx('email')}
            <input name="email" value={form.email} onInput={(e) => set({ email: e.currentTarget.value })} />
          </label>
          <label>
            {tx('emailValid')}
            <select
              name="emailValid"
              value={form.emailValid}
              onChange={(e) => set({ emailValid: e.currentTarget.value as Tri })}
            >
              <option value="">{tx('any')}</option>
              <option value="true">{tx('validOnly')}</option>
              <option value="false">{tx('invalidOnly')}</option>
            </select>
          </label>
        </fieldset>
        <fieldset class="form-grid">
          <legend>{tx('history')}</legend>
          <label>
            {tx('exists')}
            <select
              name="exists"
              value={form.exists}
              onChange={(e) => set({ exists: e.currentTarget.value as 'true' | 'false' })}
            >
              <option value="true">{tx('has')}</option>
              <option value="false">{tx('hasNot')}</option>
            </select>
          </label>
          <label>
            {tx('channel')}
            <select
              name="channel"
              value={form.channel}
              onChange={(e) => set({ channel: e.currentTarget.value as SearchForm['channel'] })}
            >
              <option value="">{tx('any')}</option>
              <option value="email">{t('channelEmail')}</option>
              <option value="sms">{t('channelSms')}</option>
              <option value="line">{t('channelLine')}</option>
            </select>
          </label>
          <label>
            {tx('runId')}
            <input
              name="runId"
              inputMode="numeric"
              value={form.runId}
              onInput={(e) => set({ runId: e.currentTarget.value })}
            />
          </label>
          <label>
            {tx('templateId')}
            <input
              name="templateId"
              inputMode="numeric"
              value={form.templateId}
              onInput={(e) => set({ templateId: e.currentTarget.value })}
            />
          </label>
          <ResultChoices
            legend={tx('result')}
            chosen={form.results}
            onChange={(results) => set({ results })}
          />
          <label>
            {tx('codes')}
            <input name="codes" value={form.codes} onInput={(e) => set({ codes: e.currentTarget.value })} />
          </label>
          <label>
            {tx('sentFrom')}
            <input
              type="datetime-local"
              name="sentFrom"
              value={form.sentFrom}
              onInput={(e) => set({ sentFrom: e.currentTarget.value })}
            />
          </label>
          <label>
            {tx('sentTo')}
            <input
              type="datetime-local"
              name="sentTo"
              value={form.sentTo}
              onInput={(e) => set({ sentTo: e.currentTarget.value })}
            />
          </label>
          <TriSelect
            label={tx('clicked')}
            name="clicked"
            value={form.clicked}
            onChange={(v) => set({ clicked: v })}
          />
          <TriSelect
            label={tx('opened')}
            name="opened"
            value={form.opened}
            onChange={(v) => set({ opened: v })}
          />
          <TriSelect
            label={tx('unsubscribed')}
            name="unsubscribed"
            value={form.unsubscribed}
            onChange={(v) => set({ unsubscribed: v })}
          />
        </fieldset>
        <p>
          <button type="submit">{t('search')}</button>{' '}
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setForm(EMPTY);
              setAnswer(null);
              setFilter(null);
            }}
          >
            {t('clear')}
          </button>
        </p>
      </form>
      <ErrorBanner message={error} />
      {answer ? (
        <>
          <p class="total" aria-live="polite">
            {tx('total', { n: formatNumber(answer.total ?? answer.items.length) })}
          </p>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{tx('id')}</th>
                  <th scope="col">{tx('name')}</th>
                  <th scope="col">{tx('email')}</th>
                  <th scope="col">{tx('emailValid')}</th>
                </tr>
              </thead>
              <tbody>
                {answer.items.map((l) => (
                  <tr key={l.id}>
                    <td>
                      <a href={href(`/leads/${l.id}`)}>#{l.id}</a>
                    </td>
                    <td>{l.name}</td>
                    <td>{l.email ?? '—'}</td>
                    <td>{l.emailValid ? tx('validOnly') : tx('invalidOnly')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="pages">
            <button
              type="button"
              disabled={cursors.length === 0}
              onClick={() => {
                const prev = cursors.slice(0, -1);
                setCursors(prev);
                if (filter) void run(filter, prev[prev.length - 1]);
              }}
            >
              {t('previous')}
            </button>
            <button
              type="button"
              disabled={answer.nextCursor === null}
              onClick={() => {
                if (answer.nextCursor === null || !filter) return;
                setCursors([...cursors, answer.nextCursor]);
                void run(filter, answer.nextCursor);
              }}
            >
              {t('next')}
            </button>
          </nav>
          {can(props.user, 'write') ? (
            <form class="form-grid" onSubmit={save} aria-label={tx('saveTitle')}>
              <label>
                {tx('segmentName')}
                <input
                  name="segmentName"
                  required
                  maxLength={200}
                  value={segmentName}
                  onInput={(e) => setSegmentName(e.currentTarget.value)}
                />
              </label>
              <label>
                {tx('segmentChannel')}
                <select
                  name="segmentChannel"
                  value={segmentChannel}
                  onChange={(e) => setSegmentChannel(e.currentTarget.value as 'email' | 'sms' | 'line')}
                >
                  <option value="email">{t('channelEmail')}</option>
                  <option value="sms">{t('channelSms')}</option>
                  <option value="line">{t('channelLine')}</option>
                </select>
              </label>
              <button type="submit">{tx('saveTitle')}</button>
            </form>
          ) : null}
          {saved ? (
            <p class="saved" role="status">
              {tx('saved', { name: saved.name, id: saved.id })}{' '}
              <a href={href(`/new?channel=${saved.channel}&segment=${saved.id}`)}>{tx('sendToIt')}</a>
            </p>
          ) : null}
        </>
      ) : null}
    </Page>
  );
}
