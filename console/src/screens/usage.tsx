// 利用状況: messages sent per channel per day or per month (GET /v1/usage, days
// of the account's time zone; an SMS counts its parts), as a stacked bar chart
// (chart.js) with the same numbers in a table beside it, which is also the
// chart's text alternative.
import { useEffect, useRef, useState } from 'preact/hooks';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { api } from '../api';
import { accountTimeZone, formatNumber, screenMessages, t } from '../i18n';
import type { ScreenProps } from '../routes';
import { ErrorBanner, Loading, Page, must, useLoad } from '../ui';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

const tx = screenMessages({
  ja: {
    granularity: '集計単位',
    day: '日別',
    month: '月別',
    from: '開始',
    to: '終了',
    show: '表示',
    period: '期間',
    total: '合計',
    chartLabel: '{from}〜{to} のチャネル別送信通数の棒グラフ。合計 {total} 通。数値は右の表のとおり。',
    tableCaption: 'チャネル別送信通数（SMSは分割後の通数）',
    note: '日付はアカウントのタイムゾーン（{zone}）で数えます。',
  },
  en: {
    granularity: 'Per',
    day: 'day',
    month: 'month',
    from: 'From',
    to: 'To',
    show: 'Show',
    period: 'Period',
    total: 'Total',
    chartLabel:
      'Bar chart of messages sent per channel from {from} to {to}; {total} in all. The numbers are in the table beside it.',
    tableCaption: 'Messages sent per channel (SMS in parts)',
    note: "Days are counted in the account's time zone ({zone}).",
  },
});

/** Today (or this month) in the account's zone, moved back `back` days or months. */
function localPeriod(granularity: 'day' | 'month', back: number): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: accountTimeZone(),
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(new Date());
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (granularity === 'month') {
    const d = new Date(Date.UTC(get('year'), get('month') - 1 - back, 1));
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;
  }
  const d = new Date(Date.UTC(get('year'), get('month') - 1, get('day') - back));
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

const COLOURS: Record<string, string> = { email: '#1d4ed8', sms: '#b45309', line: '#15803d' };

interface Query {
  granularity: 'day' | 'month';
  from: string;
  to: string;
}

const loadUsage = async (q: Query) => must(await api.GET('/v1/usage', { params: { query: q } }));
type Usage = Awaited<ReturnType<typeof loadUsage>>;

function UsageChart(props: { usage: Usage; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const u = props.usage;
    const chart = new Chart(canvas.current, {
      type: 'bar',
      data: {
        labels: u.periods.map((p) => p.period),
        datasets: u.totals.map((c) => ({
          label: c.label,
          data: u.periods.map((p) => p.channels.find((x) => x.channel === c.channel)?.messages ?? 0),
          backgroundColor: COLOURS[c.channel] ?? '#4b5563',
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
    return () => chart.destroy();
  }, [props.usage]);
  return (
    <div class="usage-chart">
      <canvas ref={canvas} role="img" aria-label={props.label} aria-describedby="usage-table-caption" />
    </div>
  );
}

export function UsageScreen(_props: ScreenProps) {
  const initial: Query = { granularity: 'day', from: localPeriod('day', 13), to: localPeriod('day', 0) };
  const [draft, setDraft] = useState<Query>(initial);
  const [query, setQuery] = useState<Query>(initial);
  const usage = useLoad(() => loadUsage(query), [query.granularity, query.from, query.to]);
  const u = usage.data;
  const total = u ? u.totals.reduce((a, c) => a + c.messages, 0) : 0;
  const inputType = draft.granularity === 'day' ? 'date' : 'month';
  return (
    <Page title={t('navUsage')}>
      <form
        class="form-grid"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ ...draft });
        }}
      >
        <label>
          {tx('granularity')}
          <select
            name="granularity"
            value={draft.granularity}
            onChange={(e) => {
              const g = e.currentTarget.value as Query['granularity'];
              setDraft({
                granularity: g,
                from: localPeriod(g, g === 'day' ? 13 : 11),
                to: localPeriod(g, 0),
              });
            }}
          >
            <option value="day">{tx('day')}</option>
            <option value="month">{tx('month')}</option>
          </select>
        </label>
        <label>
          {tx('from')}
          <input
            name="from"
            type={inputType}
            required
            value={draft.from}
            onInput={(e) => setDraft({ ...draft, from: e.currentTarget.value })}
          />
        </label>
        <label>
          {tx('to')}
          <input
            name="to"
            type={inputType}
            required
            value={draft.to}
            onInput={(e) => setDraft({ ...draft, to: e.currentTarget.value })}
          />
        </label>
        <button type="submit">{tx('show')}</button>
      </form>
      <p class="muted">{tx('note', { zone: u?.timeZone ?? accountTimeZone() })}</p>
      <ErrorBanner message={usage.error} />
      <Loading loading={usage.loading && !u} />
      {u ? (
        <div class="usage-layout">
          <UsageChart
            usage={u}
            label={tx('chartLabel', { from: query.from, to: query.to, total: formatNumber(total) })}
          />
          <div class="table-wrap usage-table">
            <table>
              <caption id="usage-table-caption">{tx('tableCaption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{tx('period')}</th>
                  {u.totals.map((c) => (
                    <th scope="col" class="num" key={c.channel}>
                      {c.label}
                    </th>
                  ))}
                  <th scope="col" class="num">
                    {tx('total')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {u.periods.map((p) => (
                  <tr key={p.period} data-period={p.period}>
                    <th scope="row">{p.period}</th>
                    {u.totals.map((c) => (
                      <td class="num" key={c.channel} data-channel={c.channel}>
                        {formatNumber(p.channels.find((x) => x.channel === c.channel)?.messages ?? 0)}
                      </td>
                    ))}
                    <td class="num" data-channel="total">
                      {formatNumber(p.messages)}
                    </td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr data-period="total">
                  <th scope="row">{tx('total')}</th>
                  {u.totals.map((c) => (
                    <td class="num" key={c.channel} data-channel={c.channel}>
                      {formatNumber(c.messages)}
                    </td>
                  ))}
                  <td class="num" data-channel="total">
                    {formatNumber(total)}
                  </td>
                </tr>
              </tfoot>
            </table>
          </div>
        </div>
      ) : null}
    </Page>
  );
}
