// アドレス管理: address statuses (quarantine, blocklist, allowlist and those
// set by delivery errors), searched by channel, status and part of the
// address; an operator adds one or releases one with a reason, or imports a
// CSV (address, status, channel, reason) and reads the report of its bad rows.
import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage } from '../api';
import { formatNumber, formatTime, screenMessages, t } from '../i18n';
import type { ScreenProps } from '../routes';
import { can } from '../session';
import { ConfirmDialog, ErrorBanner, Loading, Page, Pager, must, useLoad } from '../ui';

const tx = screenMessages({
  ja: {
    searchTitle: '検索',
    listTitle: 'アドレス一覧',
    channel: 'チャネル',
    any: 'すべて',
    email: 'メールアドレス',
    sms: '電話番号（SMS）',
    status: 'ステータス',
    address: 'アドレス',
    addressPart: 'アドレス（部分一致）',
    source: '設定元',
    note: '理由',
    changedBy: '設定者',
    errors: 'エラー回数',
    updatedAt: '更新日時',
    valid: '有効',
    erroneous: 'エラー',
    quarantined: '隔離',
    blocklisted: 'ブロックリスト',
    allowlisted: '許可リスト',
    addTitle: 'アドレスを登録',
    setStatus: '設定するステータス',
    release: '解除',
    releaseWith: '解除（有効に戻す）',
    register: '登録',
    reason: '理由',
    releaseTitle: '{address} を解除',
    releaseMessage: 'このアドレスを有効に戻し、エラー回数を0にします。以後の送信対象になります。',
    saved: '{address} を「{status}」にしました。',
    none: '該当するアドレスはありません。',
    importTitle: 'CSV一括登録',
    importHelp: '列: address, status（blocklisted / allowlisted / quarantined / valid）, channel, reason',
    file: 'CSVファイル',
    importButton: '取り込む',
    importStatus: '取り込み {id}: {status}',
    importCounts: '読み込み {read}行 / 登録 {inserted} / 更新 {updated} / 不正 {rejected}',
    rejectedTitle: '取り込めなかった行',
    row: '行',
    field: '項目',
    why: '理由',
    noRejected: '不正な行はありません。',
    chooseFile: 'ファイルを選んでください。',
  },
  en: {
    searchTitle: 'Search',
    listTitle: 'Addresses',
    channel: 'Channel',
    any: 'All',
    email: 'Email address',
    sms: 'Phone number (SMS)',
    status: 'Status',
    address: 'Address',
    addressPart: 'Address (part of it)',
    source: 'Set by',
    note: 'Reason',
    changedBy: 'Changed by',
    errors: 'Errors',
    updatedAt: 'Updated',
    valid: 'valid',
    erroneous: 'erroneous',
    quarantined: 'quarantined',
    blocklisted: 'blocklisted',
    allowlisted: 'allowlisted',
    addTitle: 'Add an address',
    setStatus: 'Status to set',
    release: 'Release',
    releaseWith: 'Release (valid again)',
    register: 'Add',
    reason: 'Reason',
    releaseTitle: 'Release {address}',
    releaseMessage: 'The address becomes valid again, its error count back to 0; it will be sent to again.',
    saved: '{address} is now "{status}".',
    none: 'No address matches.',
    importTitle: 'Import a CSV',
    importHelp: 'Columns: address, status (blocklisted / allowlisted / quarantined / valid), channel, reason',
    file: 'CSV file',
    importButton: 'Import',
    importStatus: 'Import {id}: {status}',
    importCounts: 'read {read} rows / added {inserted} / updated {updated} / rejected {rejected}',
    rejectedTitle: 'Rows not imported',
    row: 'Row',
    field: 'Field',
    why: 'Reason',
    noRejected: 'No row was rejected.',
    chooseFile: 'Choose a file.',
  },
});

const STATUSES = ['valid', 'erroneous', 'quarantined', 'blocklisted', 'allowlisted'] as const;
type Status = (typeof STATUSES)[number];
type Channel = 'email' | 'sms';

interface Filters {
  channel: '' | Channel;
  status: '' | Status;
  address: string;
}

/** Cells of a CSV text (RFC 4180: quotes, doubled quotes, line breaks inside quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const body = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && body[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

const loadPage = async (f: Filters, cursor: number | undefined) =>
  must(
    await api.GET('/v1/addresses', {
      params: {
        query: {
          ...(f.channel ? { channel: f.channel } : {}),
          ...(f.status ? { status: f.status } : {}),
          ...(f.address.trim() ? { address: f.address.trim() } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
          limit: 50,
        },
      },
    }),
  );
type AddressRow = Awaited<ReturnType<typeof loadPage>>['items'][number];

function ImportPanel(props: { onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [jobId, setJobId] = useState<number | null>(null);
  const [job, setJob] = useState<{
    status: string;
    progress: { rowsRead: number; inserted: number; updated: number; rejected: number };
    error: string | null;
  } | null>(null);
  const [rejected, setRejected] = useState<string[][] | null>(null);

  // Follows the import until it ends, then reads its rejected rows.
  useEffect(() => {
    if (jobId === null) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const res = await api.GET('/v1/address-imports/{id}', { params: { path: { id: jobId } } });
      if (!live) return;
      if (!res.data) {
        setError(errorMessage(res.error, `HTTP ${res.response.status}`));
        return;
      }
      setJob(res.data);
      if (['completed', 'failed', 'cancelled'].includes(res.data.status)) {
        const csv = await api.GET('/v1/address-imports/{id}/rejected.csv', {
          params: { path: { id: jobId } },
          parseAs: 'text',
        });
        if (!live) return;
        if (csv.data !== undefined) setRejected(parseCsv(csv.data as string).filter((r) => r.length > 1));
        else setError(errorMessage(csv.error, `HTTP ${csv.response.status}`));
        props.onImported();
        return;
      }
      timer = setTimeout(poll, 1000);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [jobId]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file) {
      setError(tx('chooseFile'));
      return;
    }
    setError(null);
    setJob(null);
    setRejected(null);
    const res = await api.POST('/v1/address-imports', {
      body: file as unknown as never,
      bodySerializer: (b: unknown) => b as Blob,
      headers: { 'content-type': 'text/csv' },
    });
    if (!res.data) {
      setError(errorMessage(res.error, `HTTP ${res.response.status}`));
      return;
    }
    setJob(res.data);
    setJobId(res.data.id);
  };

  const header = rejected?.[0];
  const rows = rejected?.slice(1) ?? [];
  return (
    <section aria-labelledby="address-import-title">
      <h2 id="address-import-title">{tx('importTitle')}</h2>
      <p class="muted">{tx('importHelp')}</p>
      <form class="form-grid" onSubmit={submit}>
        <label>
          {tx('file')}
          <input
            type="file"
            name="file"
            accept=".csv,text/csv"
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
          />
        </label>
        <button type="submit">{tx('importButton')}</button>
      </form>
      <ErrorBanner message={error} />
      {job && jobId !== null ? (
        <div class="import-progress" role="status">
          <p>{tx('importStatus', { id: jobId, status: job.status })}</p>
          <p>
            {tx('importCounts', {
              read: formatNumber(job.progress.rowsRead),
              inserted: formatNumber(job.progress.inserted),
              updated: formatNumber(job.progress.updated),
              rejected: formatNumber(job.progress.rejected),
            })}
          </p>
          {job.error ? <p class="error-banner">{job.error}</p> : null}
        </div>
      ) : null}
      {rejected ? (
        rows.length === 0 ? (
          <p>{tx('noRejected')}</p>
        ) : (
          <div class="table-wrap">
            <table>
              <caption>{tx('rejectedTitle')}</caption>
              <thead>
                <tr>
                  <th scope="col" class="num">
                    {tx('row')}
                  </th>
                  <th scope="col">{tx('field')}</th>
                  <th scope="col">{tx('why')}</th>
                  {header?.slice(3).map((h, i) => (
                    <th scope="col" key={i}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => (
                  <tr key={i}>
                    {r.map((c, j) => (
                      <td key={j} class={j === 0 ? 'num' : undefined}>
                        {c}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
    </section>
  );
}

function AddForm(props: { onSaved: (message: string) => void }) {
  const [channel, setChannel] = useState<Channel>('email');
  const [address, setAddress] = useState('');
  const [status, setStatus] = useState<'blocklisted' | 'allowlisted' | 'quarantined' | 'valid'>(
    'blocklisted',
  );
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const res = await api.POST('/v1/addresses', {
      body: { channel, address, status, ...(reason.trim() ? { reason: reason.trim() } : {}) },
    });
    if (!res.data) {
      setError(errorMessage(res.error, `HTTP ${res.response.status}`));
      return;
    }
    setAddress('');
    setReason('');
    props.onSaved(tx('saved', { address: res.data.address, status: tx(res.data.status) }));
  };
  return (
    <section aria-labelledby="address-add-title">
      <h2 id="address-add-title">{tx('addTitle')}</h2>
      <ErrorBanner message={error} />
      <form class="form-grid" onSubmit={submit}>
        <label>
          {tx('channel')}
          <select
            name="channel"
            value={channel}
            onChange={(e) => setChannel(e.currentTarget.value as Channel)}
          >
            <option value="email">{tx('email')}</option>
            <option value="sms">{tx('sms')}</option>
          </select>
        </label>
        <label>
          {tx('address')}
          <input name="address" required value={address} onInput={(e) => setAddress(e.currentTarget.value)} />
        </label>
        <label>
          {tx('setStatus')}
          <select
            name="status"
            value={status}
            onChange={(e) => setStatus(e.currentTarget.value as typeof status)}
          >
            <option value="blocklisted">{tx('blocklisted')}</option>
            <option value="allowlisted">{tx('allowlisted')}</option>
            <option value="quarantined">{tx('quarantined')}</option>
            <option value="valid">{tx('releaseWith')}</option>
          </select>
        </label>
        <label>
          {tx('reason')}
          <input
            name="reason"
            maxLength={500}
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
        </label>
        <button type="submit">{tx('register')}</button>
      </form>
    </section>
  );
}

export function AddressesScreen(props: ScreenProps) {
  const writer = can(props.user, 'write');
  const [draft, setDraft] = useState<Filters>({ channel: '', status: '', address: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const [cursors, setCursors] = useState<number[]>([]);
  const cursor = cursors[cursors.length - 1];
  const list = useLoad(() => loadPage(filters, cursor), [filters, cursor]);
  const [notice, setNotice] = useState<string | null>(null);
  const [releasing, setReleasing] = useState<AddressRow | null>(null);
  const [releaseReason, setReleaseReason] = useState('');
  const [releaseError, setReleaseError] = useState<string | null>(null);

  const release = async () => {
    if (!releasing) return;
    const res = await api.POST('/v1/addresses', {
      body: {
        channel: releasing.channel as Channel,
        address: releasing.address,
        status: 'valid',
        ...(releaseReason.trim() ? { reason: releaseReason.trim() } : {}),
      },
    });
    if (!res.data) {
      setReleaseError(errorMessage(res.error, `HTTP ${res.response.status}`));
      return;
    }
    setNotice(tx('saved', { address: res.data.address, status: tx('valid') }));
    setReleasing(null);
    list.reload();
  };

  return (
    <Page title={t('navAddresses')}>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <section aria-labelledby="address-search-title">
        <h2 id="address-search-title">{tx('searchTitle')}</h2>
        <form
          class="form-grid"
          onSubmit={(e) => {
            e.preventDefault();
            setCursors([]);
            setFilters({ ...draft });
          }}
        >
          <label>
            {tx('channel')}
            <select
              name="channel"
              value={draft.channel}
              onChange={(e) => setDraft({ ...draft, channel: e.currentTarget.value as Filters['channel'] })}
            >
              <option value="">{tx('any')}</option>
              <option value="email">{tx('email')}</option>
              <option value="sms">{tx('sms')}</option>
            </select>
          </label>
          <label>
            {tx('status')}
            <select
              name="status"
              value={draft.status}
              onChange={(e) => setDraft({ ...draft, status: e.currentTarget.value as Filters['status'] })}
            >
              <option value="">{tx('any')}</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {tx(s)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {tx('addressPart')}
            <input
              name="address"
              type="search"
              value={draft.address}
              onInput={(e) => setDraft({ ...draft, address: e.currentTarget.value })}
            />
          </label>
          <button type="submit">{t('search')}</button>
        </form>
      </section>

      <h2>{tx('listTitle')}</h2>
      <ErrorBanner message={list.error} />
      <Loading loading={list.loading && !list.data} />
      {list.data && list.data.items.length === 0 ? <p>{tx('none')}</p> : null}
      {list.data && list.data.items.length > 0 ? (
        <div class="table-wrap">
          <table class="address-list">
            <caption class="visually-hidden">{tx('listTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{tx('address')}</th>
                <th scope="col">{tx('channel')}</th>
                <th scope="col">{tx('status')}</th>
                <th scope="col">{tx('note')}</th>
                <th scope="col">{tx('source')}</th>
                <th scope="col">{tx('changedBy')}</th>
                <th scope="col" class="num">
                  {tx('errors')}
                </th>
                <th scope="col">{tx('updatedAt')}</th>
                {writer ? <th scope="col">{tx('release')}</th> : null}
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((a) => (
                <tr key={a.id}>
                  <td>{a.address}</td>
                  <td>{a.channel === 'sms' ? t('channelSms') : t('channelEmail')}</td>
                  <td>
                    <span class={`address-status address-${a.status}`} data-status={a.status}>
                      {tx(a.status as Status)}
                    </span>
                  </td>
                  <td>{a.note ?? ''}</td>
                  <td>{a.source}</td>
                  <td>{a.changedBy ?? ''}</td>
                  <td class="num">{formatNumber(a.errorCount)}</td>
                  <td>{formatTime(a.updatedAt)}</td>
                  {writer ? (
                    <td>
                      {a.status !== 'valid' ? (
                        <button
                          type="button"
                          class="secondary"
                          aria-label={`${tx('release')}: ${a.address}`}
                          onClick={() => {
                            setReleaseReason('');
                            setReleaseError(null);
                            setReleasing(a);
                          }}
                        >
                          {tx('release')}
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
      <Pager
        hasPrevious={cursors.length > 0}
        nextCursor={list.data?.nextCursor}
        onPrevious={() => setCursors(cursors.slice(0, -1))}
        onNext={() => list.data?.nextCursor && setCursors([...cursors, Number(list.data.nextCursor)])}
      />

      <ConfirmDialog
        open={releasing !== null}
        title={tx('releaseTitle', { address: releasing?.address ?? '' })}
        confirmLabel={tx('release')}
        message={
          <>
            <p>{tx('releaseMessage')}</p>
            <ErrorBanner message={releaseError} />
            <label>
              {tx('reason')}
              <input
                name="releaseReason"
                maxLength={500}
                value={releaseReason}
                onInput={(e) => setReleaseReason(e.currentTarget.value)}
              />
            </label>
          </>
        }
        onCancel={() => setReleasing(null)}
        onConfirm={() => void release()}
      />

      {writer ? (
        <>
          <AddForm
            onSaved={(m) => {
              setNotice(m);
              list.reload();
            }}
          />
          <ImportPanel onImported={list.reload} />
        </>
      ) : null}
    </Page>
  );
}
