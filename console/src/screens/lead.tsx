// A lead's page: its fields and flags, its sends on every channel, and its
// access log (every click and open with time, URL, part, IP, user agent and
// the machine-click mark with its reasons).
import { useState } from 'preact/hooks';
import { api } from '../api';
import { formatTime, screenMessages } from '../i18n';
import type { ScreenProps } from '../routes';
import { ErrorBanner, Loading, must, Page, Pager, useLoad } from '../ui';
import { SendTable } from './sends';

const tx = screenMessages({
  ja: {
    title: 'リード #{id}',
    name: '氏名',
    email: 'メールアドレス',
    phones: '電話番号',
    lineUserId: 'LINEユーザーID',
    friend: 'LINE友だち状態',
    externalId: '外部ID',
    emailValid: 'メール有効フラグ',
    valid: '有効',
    invalid: '無効',
    errorCount: '連続エラー回数',
    smsPermission: 'SMS送信許可',
    dmPermission: 'DM送信許可',
    unsubscribed: '配信停止',
    yes: 'あり',
    no: 'なし',
    attributes: '属性',
    createdAt: '作成日時',
    updatedAt: '更新日時',
    deleted: '削除日時',
    sends: '送信履歴',
    accessLog: 'アクセスログ',
    kind: '種別',
    at: '日時',
    url: 'URL',
    part: 'パート',
    ip: 'IPアドレス',
    userAgent: 'ユーザーエージェント',
    machine: '機械判定',
    human: '—',
    click: 'クリック',
    open: '開封',
    unsubscribe: '配信停止',
    noAccess: 'アクセスはありません',
    template: 'テンプレート',
  },
  en: {
    title: 'Lead #{id}',
    name: 'Name',
    email: 'Email address',
    phones: 'Phone numbers',
    lineUserId: 'LINE user ID',
    friend: 'LINE friend status',
    externalId: 'External ID',
    emailValid: 'Email valid flag',
    valid: 'valid',
    invalid: 'invalid',
    errorCount: 'Consecutive errors',
    smsPermission: 'SMS allowed',
    dmPermission: 'DM allowed',
    unsubscribed: 'Unsubscribed',
    yes: 'yes',
    no: 'no',
    attributes: 'Attributes',
    createdAt: 'Created at',
    updatedAt: 'Updated at',
    deleted: 'Deleted at',
    sends: 'Send history',
    accessLog: 'Access log',
    kind: 'Kind',
    at: 'At',
    url: 'URL',
    part: 'Part',
    ip: 'IP address',
    userAgent: 'User agent',
    machine: 'Machine',
    human: '—',
    click: 'click',
    open: 'open',
    unsubscribe: 'unsubscribe',
    noAccess: 'No access recorded',
    template: 'Template',
  },
});

export function LeadScreen(props: ScreenProps) {
  const id = Number(props.match.params.id);
  const lead = useLoad(async () => must(await api.GET('/v1/leads/{id}', { params: { path: { id } } })), [id]);
  const [sendCursors, setSendCursors] = useState<string[]>([]);
  const sendCursor = sendCursors[sendCursors.length - 1];
  const sends = useLoad(
    async () =>
      must(
        await api.GET('/v1/leads/{id}/sends', {
          params: { path: { id }, query: { limit: 20, cursor: sendCursor } },
        }),
      ),
    [id, sendCursor],
  );
  const [logCursors, setLogCursors] = useState<string[]>([]);
  const logCursor = logCursors[logCursors.length - 1];
  const log = useLoad(
    async () =>
      must(
        await api.GET('/v1/leads/{id}/access-log', {
          params: { path: { id }, query: { limit: 50, cursor: logCursor } },
        }),
      ),
    [id, logCursor],
  );
  const l = lead.data;
  const yesNo = (b: boolean) => (b ? tx('yes') : tx('no'));
  return (
    <Page title={tx('title', { id })}>
      <ErrorBanner message={lead.error} />
      <Loading loading={lead.loading} />
      {l ? (
        <dl class="fields">
          <dt>{tx('name')}</dt>
          <dd>{l.name}</dd>
          <dt>{tx('email')}</dt>
          <dd>{l.email ?? '—'}</dd>
          <dt>{tx('emailValid')}</dt>
          <dd data-email-valid={String(l.emailValid)}>{l.emailValid ? tx('valid') : tx('invalid')}</dd>
          <dt>{tx('errorCount')}</dt>
          <dd>{l.emailErrorCount}</dd>
          <dt>{tx('phones')}</dt>
          <dd>
            {Object.entries(l.phones)
              .map(([k, v]) => `${k}: ${v}`)
              .join(', ') || '—'}
          </dd>
          <dt>{tx('lineUserId')}</dt>
          <dd>{l.lineUserId ?? '—'}</dd>
          <dt>{tx('friend')}</dt>
          <dd>{l.lineFriendStatus}</dd>
          <dt>{tx('externalId')}</dt>
          <dd>{l.externalId ?? '—'}</dd>
          <dt>{tx('smsPermission')}</dt>
          <dd>{yesNo(l.smsPermission)}</dd>
          <dt>{tx('dmPermission')}</dt>
          <dd>{yesNo(l.dmPermission)}</dd>
          <dt>{tx('unsubscribed')}</dt>
          <dd>
            {(['email', 'sms', 'line'] as const)
              .map((c) => `${c}: ${l.unsubscribed[c] ? formatTime(l.unsubscribed[c]) : tx('no')}`)
              .join(' / ')}
          </dd>
          <dt>{tx('attributes')}</dt>
          <dd>
            <code>{JSON.stringify(l.attributes)}</code>
          </dd>
          <dt>{tx('createdAt')}</dt>
          <dd>{formatTime(l.createdAt)}</dd>
          <dt>{tx('updatedAt')}</dt>
          <dd>{formatTime(l.updatedAt)}</dd>
          {l.deletedAt ? (
            <>
              <dt>{tx('deleted')}</dt>
              <dd>{formatTime(l.deletedAt)}</dd>
            </>
          ) : null}
        </dl>
      ) : null}

      <h2>{tx('sends')}</h2>
      <ErrorBanner message={sends.error} />
      {sends.data ? <SendTable items={sends.data.items} showLead={false} /> : null}
      <Pager
        hasPrevious={sendCursors.length > 0}
        nextCursor={sends.data?.nextCursor}
        onPrevious={() => setSendCursors(sendCursors.slice(0, -1))}
        onNext={() => sends.data?.nextCursor && setSendCursors([...sendCursors, sends.data.nextCursor])}
      />

      <h2>{tx('accessLog')}</h2>
      <ErrorBanner message={log.error} />
      {log.data && log.data.items.length === 0 ? <p>{tx('noAccess')}</p> : null}
      {log.data && log.data.items.length > 0 ? (
        <div class="table-wrap">
          <table class="access-log">
            <thead>
              <tr>
                <th scope="col">{tx('at')}</th>
                <th scope="col">{tx('kind')}</th>
                <th scope="col">{tx('template')}</th>
                <th scope="col">{tx('url')}</th>
                <th scope="col">{tx('part')}</th>
                <th scope="col">{tx('ip')}</th>
                <th scope="col">{tx('userAgent')}</th>
                <th scope="col">{tx('machine')}</th>
              </tr>
            </thead>
            <tbody>
              {log.data.items.map((e) => (
                <tr key={e.id} data-kind={e.kind} data-machine={String(e.machine)}>
                  <td>{formatTime(e.at)}</td>
                  <td>{tx(e.kind)}</td>
                  <td>{e.templateTitle}</td>
                  <td class="wrap">{e.url ?? '—'}</td>
                  <td>{e.partLabel ?? e.part ?? '—'}</td>
                  <td>{e.ip ?? '—'}</td>
                  <td class="wrap">{e.userAgent ?? '—'}</td>
                  <td>{e.machine ? e.machineReasons.map((r) => r.label).join(', ') : tx('human')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager
        hasPrevious={logCursors.length > 0}
        nextCursor={log.data?.nextCursor}
        onPrevious={() => setLogCursors(logCursors.slice(0, -1))}
        onNext={() => log.data?.nextCursor && setLogCursors([...logCursors, log.data.nextCursor])}
      />
    </Page>
  );
}
