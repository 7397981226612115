// The run's fields as the manual lists them for its channel (メール, SMS,
// LINE: ウィザード利用履歴の詳細), the template as it was sent, the progress
// while it runs, the retry waves and the pre-flight check.
import type { ComponentChildren } from 'preact';
import { formatNumber, formatTime } from '../../i18n';
import { href } from '../../router';
import { ProgressBar, StatusBadge } from '../../ui';
import {
  formatPercent,
  formatShare,
  listPath,
  type Labels,
  type Preflight,
  type Run,
  type RunFigures,
} from './model';
import { tx, type Tx } from './texts';

type Row = [Tx, ComponentChildren];

function Fields(props: { rows: Row[] }) {
  return (
    <dl class="fields run-fields">
      {props.rows.map(([key, value]) => (
        <div class="field" key={key} data-field={key}>
          <dt>{tx(key)}</dt>
          <dd>{value === null || value === undefined || value === '' ? '—' : value}</dd>
        </div>
      ))}
    </dl>
  );
}

const yesNo = (b: boolean) => (b ? tx('yes') : tx('no'));

function CountLink(props: { run: Run; list: 'openers' | 'clickers' | 'unopened'; n: number | null }) {
  if (props.n === null) return <>{formatNumber(null)}</>;
  return <a href={href(listPath(props.run.channel, props.run.id, props.list))}>{formatNumber(props.n)}</a>;
}

function segmentCell(run: Run): ComponentChildren {
  if (run.target.segmentId === null) return null;
  return (
    <>
      {run.target.segmentName ?? `#${run.target.segmentId}`}{' '}
      <a href={href(listPath(run.channel, run.id, 'segment'))}>{tx('segmentLeadsLink')}</a>
    </>
  );
}

function TemplateSnapshot(props: { run: Run }) {
  const s = props.run.template.snapshot;
  const rows: Row[] = [];
  if (s) {
    if (s.emailFormat) rows.push(['emailFormat', s.emailFormat]);
    if (s.subject !== null) rows.push(['subject', s.subject]);
    if (s.from !== null) rows.push(['from', s.from]);
    if (s.replyTo !== null) rows.push(['replyTo', s.replyTo]);
    if (s.openTracking !== null) rows.push(['openTracking', yesNo(s.openTracking)]);
    if (s.clickTracking !== null) rows.push(['clickTracking', yesNo(s.clickTracking)]);
    if (s.bodyText !== null) rows.push(['bodyText', <pre class="body-preview">{s.bodyText}</pre>]);
    if (s.bodyHtml !== null) rows.push(['bodyHtml', <pre class="body-preview">{s.bodyHtml}</pre>]);
    if (s.smsBody !== null) rows.push(['smsBody', <pre class="body-preview">{s.smsBody}</pre>]);
    if (s.lineMessages !== null)
      rows.push(['lineMessages', <pre class="body-preview">{JSON.stringify(s.lineMessages, null, 2)}</pre>]);
  }
  return (
    <>
      {props.run.template.title} (#{props.run.template.id})
      {rows.length > 0 ? (
        <details class="template-snapshot">
          <summary>{tx('showTemplate')}</summary>
          <Fields rows={rows} />
        </details>
      ) : null}
    </>
  );
}

/** The manual's items for the run's channel, in the manual's order, then who did what. */
export function RunFields(props: { run: Run; labels: Labels }) {
  const { run, labels } = props;
  const f = run.figures;
  const c = run.counters;
  const running = run.status === 'running' || run.status === 'preparing';
  const statusCell = <StatusBadge status={run.status} label={labels.status(run.status)} />;
  const scheduled = run.scheduledAt ? formatTime(run.scheduledAt) : null;
  const expected = running ? formatTime(run.progress.expectedCompletionAt) : null;
  const template = <TemplateSnapshot run={run} />;
  const memo = run.template.snapshot?.memo ?? run.template.memo;
  let rows: Row[];
  if (run.channel === 'sms') {
    rows = [
      ['status', statusCell],
      ['id', run.id],
      ['templateName', template],
      ['segment', segmentCell(run)],
      ['smsPermission', yesNo(run.options.permissionFilter)],
      ['allowLongSms', yesNo(run.options.allowLongSms)],
      ['phoneField', run.options.phoneField],
      ['createdAt', formatTime(run.createdAt)],
      ['scheduledAt', scheduled],
      ['expectedCompletion', expected],
      ['statusMail', run.statusMail],
      ['includeAlreadySent', yesNo(run.options.includeAlreadySent)],
      ['startedAt', formatTime(run.startedAt)],
      ['completedAt', formatTime(run.completedAt)],
      ['smsSent', formatNumber(f.sent)],
      ['delivered', formatNumber(f.delivered)],
      ['deliveryRate', formatPercent(f.deliveryRate)],
      ['preErrors', formatNumber(c.preErrors)],
      ['errorCount', formatNumber(c.errors)],
      ['clickers', <CountLink run={run} list="clickers" n={f.clickers} />],
      ['clickRate', formatPercent(f.clickRate)],
      ['totalClicks', formatNumber(f.totalClicks)],
      ['smsMemo', memo],
    ];
  } else if (run.channel === 'line') {
    rows = [
      ['status', statusCell],
      ['id', run.id],
      ['templateName', template],
      ['segment', segmentCell(run)],
      ['createdAt', formatTime(run.createdAt)],
      ['startedAt', formatTime(run.startedAt)],
      ['completedAt', formatTime(run.completedAt)],
      ['scheduledAt', scheduled],
      ['statusMail', run.statusMail],
      ['lineSendStatus', `${formatNumber(f.sent)} / ${formatNumber(c.targets)}`],
      ['sent', formatNumber(f.sent)],
      ['targets', formatNumber(c.targets)],
      ['preErrors', formatNumber(c.preErrors)],
      ['errorCount', formatNumber(c.errors)],
      ['clickers', <CountLink run={run} list="clickers" n={f.clickers} />],
      ['clickRate', formatPercent(f.clickRate)],
      ['totalClicks', formatNumber(f.totalClicks)],
      ['lineMemo', memo],
    ];
  } else {
    rows = [
      ['status', statusCell],
      ['createdAt', formatTime(run.createdAt)],
      ['scheduledAt', scheduled ?? tx('immediate')],
      ['template', template],
      ['sendStatus', `${formatNumber(f.delivered)} / ${formatNumber(f.sent)}`],
      ['errors', formatNumber(f.errors)],
      ['deliveryRate', formatPercent(f.deliveryRate)],
      ['clickers', <CountLink run={run} list="clickers" n={f.clickers} />],
      ['clickRate', formatPercent(f.clickRate)],
      ['openRate', formatPercent(f.openRate)],
      ['unsubscribes', formatNumber(f.unsubscribes)],
      ['unsubscribeRate', formatPercent(f.unsubscribeRate)],
      ['id', run.id],
      ['expectedCompletion', expected],
      ['targetMethod', run.target.method === 'segment' ? tx('methodSegment') : tx('methodList')],
      run.target.method === 'segment'
        ? ['segment', segmentCell(run)]
        : ['leadCount', formatNumber(run.target.leadCount)],
      ['dmPermission', yesNo(run.options.permissionFilter)],
      ['includeAlreadySent', yesNo(run.options.includeAlreadySent)],
      ['updatedBy', run.updatedBy],
      ['taskId', <code>{run.taskId}</code>],
      ['remindMail', run.remindMail],
      ['remindTaskId', run.reminder ? <code>{run.reminder.id}</code> : null],
      ['remindAt', run.reminder ? formatTime(run.reminder.at) : null],
      ['startedAt', formatTime(run.startedAt)],
      ['completedAt', formatTime(run.completedAt)],
      ['sent', formatNumber(f.sent)],
      ['delivered', formatNumber(f.delivered)],
      ['preErrors', formatNumber(c.preErrors)],
      ['totalClicks', <CountLink run={run} list="clickers" n={f.totalClicks} />],
      ['openers', <CountLink run={run} list="openers" n={f.openers} />],
      ['unopened', <CountLink run={run} list="unopened" n={f.unopened} />],
      ['emailMemo', memo],
      ['statusMail', run.statusMail],
    ];
  }
  rows.push(['excluded', formatNumber(c.excluded)]);
  if (run.channel !== 'email') rows.push(['updatedBy', run.updatedBy]);
  rows.push(['createdBy', run.createdBy], ['updatedAt', formatTime(run.updatedAt)]);
  if (run.cancelledBy || run.cancelRequestedAt)
    rows.push(['cancelledBy', run.cancelledBy], ['cancelRequestedAt', formatTime(run.cancelRequestedAt)]);
  if (run.channel !== 'email') rows.push(['taskId', <code>{run.taskId}</code>]);
  if (run.errorMessage) rows.push(['errorMessage', run.errorMessage]);
  if (run.statusDetail) rows.push(['statusDetail', run.statusDetail]);
  return <Fields rows={rows} />;
}

/** The run's progress while it is being prepared or sent: a bar, 残り約N分 and the expected completion. */
export function RunProgress(props: { run: Run }) {
  const { run } = props;
  if (run.status !== 'running' && run.status !== 'preparing') return null;
  const p = run.progress;
  const targets = p.done + p.remaining;
  return (
    <section class="run-section run-progress" aria-labelledby="run-progress-title">
      <h2 id="run-progress-title">{tx('progressTitle')}</h2>
      <ProgressBar value={p.done} max={targets} label={tx('progressLabel', { done: p.done, targets })} />
      <p aria-live="polite">
        {tx('progressLabel', { done: formatNumber(p.done), targets: formatNumber(targets) })}
        {p.minutesLeft !== null ? ` · ${tx('minutesLeft', { n: p.minutesLeft })}` : ''}
        {p.expectedCompletionAt
          ? ` · ${tx('expectedCompletion')}: ${formatTime(p.expectedCompletionAt)}`
          : ''}
      </p>
      <p class="muted">{p.summary}</p>
    </section>
  );
}

/** Retry waves: those waiting (per error reason) and those done. */
export function RunWaves(props: { run: Run; labels: Labels }) {
  const w = props.run.waves;
  const rows: Row[] = [
    ['wavesPending', formatNumber(w.pending.count)],
    ['wavesNextAt', formatTime(w.pending.nextAt)],
    ['wavesRetried', formatNumber(w.retried)],
    ['wavesGivenUp', formatNumber(w.givenUp)],
    ['wavesFinishedAt', formatTime(w.finishedAt)],
  ];
  if (w.held.count > 0)
    rows.push(['wavesHeld', formatNumber(w.held.count)], ['wavesHeldUntil', formatTime(w.held.until)]);
  if (w.cancelledAt)
    rows.push(['wavesCancelledAt', formatTime(w.cancelledAt)], ['wavesCancelledBy', w.cancelledBy]);
  return (
    <section class="run-section" aria-labelledby="run-waves-title">
      <h2 id="run-waves-title">{tx('wavesTitle')}</h2>
      <Fields rows={rows} />
      {w.pending.byReason.length === 0 ? (
        <p>{tx('wavesNone')}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption>{tx('wavesPending')}</caption>
            <thead>
              <tr>
                <th scope="col">{tx('wavesReason')}</th>
                <th scope="col" class="num">
                  {tx('wavesCount')}
                </th>
                <th scope="col">{tx('wavesNextAt')}</th>
              </tr>
            </thead>
            <tbody>
              {w.pending.byReason.map((r) => (
                <tr key={r.reason}>
                  <td>{props.labels.errorReason(r.reason)}</td>
                  <td class="num">{formatNumber(r.count)}</td>
                  <td>{formatTime(r.nextAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function levelText(level: string): string {
  if (level === 'ok') return tx('levelOk');
  if (level === 'warning') return tx('levelWarning');
  if (level === 'refused') return tx('levelRefused');
  return level;
}

function checkText(check: string): string {
  switch (check) {
    case 'domain_auth':
      return tx('checkDomainAuth');
    case 'complaint_rate':
      return tx('checkComplaintRate');
    case 'excluded_share':
      return tx('checkExcludedShare');
    case 'one_click_unsubscribe':
      return tx('checkOneClick');
    default:
      return check;
  }
}

function preflightValue(check: string, value: string | number | boolean | null): string {
  if (value === null) return '—';
  if (typeof value === 'boolean') return value ? tx('yes') : tx('no');
  if (typeof value === 'number')
    return check === 'excluded_share' || check === 'complaint_rate'
      ? formatShare(value)
      : formatNumber(value);
  return value;
}

/** The pre-flight check of an email run (domain authentication, complaints, exclusions, one-click unsubscribe). */
export function RunPreflight(props: { answer: Preflight; labels: Labels }) {
  const { preflight: p, stored } = props.answer;
  const rows: Row[] = [
    ['verdict', <span class={`level level-${p.verdict}`}>{levelText(p.verdict)}</span>],
    ['fromDomain', p.fromDomain],
    ['complaintRate7d', formatShare(p.complaintRate7d)],
    ['complaintRate30d', formatShare(p.complaintRate30d)],
    ['excludedShare', p.excludedShare === null ? null : formatShare(p.excludedShare)],
  ];
  const excluded = Object.entries(p.excludedByReason);
  if (excluded.length > 0)
    rows.push([
      'excluded',
      excluded.map(([reason, n]) => `${props.labels.unsentReason(reason)}: ${formatNumber(n)}`).join(' / '),
    ]);
  if (p.block) rows.push(['block', `${p.block.code}: ${p.block.detail}`]);
  return (
    <section class="run-section" aria-labelledby="run-preflight-title">
      <h2 id="run-preflight-title">{tx('preflightTitle')}</h2>
      <p class="muted">{stored ? tx('preflightStored') : tx('preflightNow')}</p>
      <Fields rows={rows} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{tx('check')}</th>
              <th scope="col">{tx('level')}</th>
              <th scope="col">{tx('value')}</th>
              <th scope="col">{tx('message')}</th>
            </tr>
          </thead>
          <tbody>
            {p.items.map((i) => (
              <tr key={i.check}>
                <th scope="row">{checkText(i.check)}</th>
                <td>
                  <span class={`level level-${i.level}`}>{levelText(i.level)}</span>
                </td>
                <td>{preflightValue(i.check, i.value)}</td>
                <td>{i.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** 到達率, 開封率, クリック率, 配信停止率 and 未開封, with and without machine clicks and opens. */
export function RunFiguresTable(props: { run: Run; figures: RunFigures }) {
  const { all, humanOnly } = props.figures.figures;
  const fig = props.figures;
  const rows: Array<[Tx, (v: typeof all) => string, string]> = [
    ['deliveryRate', (v) => formatPercent(v.deliveryRate), 'delivery-rate'],
    ['openRate', (v) => formatPercent(v.openRate), 'open-rate'],
    ['clickRate', (v) => formatPercent(v.clickRate), 'click-rate'],
    ['unsubscribeRateRow', (v) => formatPercent(v.unsubscribeRate), 'unsubscribe-rate'],
    ['unopened', (v) => (v.unopened === null ? formatPercent(null) : formatNumber(v.unopened)), 'unopened'],
    ['sent', (v) => formatNumber(v.sent), 'sent'],
    ['delivered', (v) => formatNumber(v.delivered), 'delivered'],
    ['openers', (v) => (v.openers === null ? formatPercent(null) : formatNumber(v.openers)), 'openers'],
    ['clickers', (v) => formatNumber(v.clickers), 'clickers'],
    ['totalClicks', (v) => formatNumber(v.totalClicks), 'total-clicks'],
    ['unsubscribes', (v) => formatNumber(v.unsubscribes), 'unsubscribes'],
  ];
  return (
    <section class="run-section" aria-labelledby="run-figures-title">
      <h2 id="run-figures-title">{tx('figuresTitle')}</h2>
      <div class="table-wrap">
        <table class="run-figures">
          <thead>
            <tr>
              <th scope="col">{tx('figure')}</th>
              <th scope="col" class="num">
                {tx('withMachines')}
              </th>
              <th scope="col" class="num">
                {tx('humanOnly')}
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([key, show, name]) => (
              <tr key={key} data-figure={name}>
                <th scope="row">{tx(key)}</th>
                <td class="num" data-variant="all">
                  {show(all)}
                </td>
                <td class="num" data-variant="human">
                  {show(humanOnly)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ul class="figure-notes">
        <li>{tx('suspectedMachineClicks', { n: formatNumber(fig.suspectedMachineClicks) })}</li>
        {!fig.opens.measurable && fig.opens.reason ? (
          <li>{tx('opensNotMeasurable', { reason: fig.opens.reason })}</li>
        ) : null}
        {fig.resent > 0 ? <li>{tx('resent', { n: formatNumber(fig.resent) })}</li> : null}
        {fig.complaints ? (
          <li>
            {tx('complaints')}: {formatShare(fig.complaints.rate7d)} / {formatShare(fig.complaints.rate30d)}
          </li>
        ) : null}
      </ul>
    </section>
  );
}
