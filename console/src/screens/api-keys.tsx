// APIキー (admin): the API keys with their scopes and state; an admin creates
// one (the key is shown here once, never again: only its hash is kept) and
// revokes one after a confirmation that says what stops working.
import { useState } from 'preact/hooks';
import { api, errorMessage } from '../api';
import { formatTime, screenMessages, t } from '../i18n';
import type { ScreenProps } from '../routes';
import { can } from '../session';
import { ConfirmDialog, ErrorBanner, Loading, Page, must, useLoad } from '../ui';

const tx = screenMessages({
  ja: {
    listTitle: 'APIキー一覧',
    name: '名前',
    prefix: 'キーの先頭',
    scopes: '権限',
    state: '状態',
    active: '有効',
    revoked: '無効（{time}）',
    created: '作成日時',
    revoke: '無効にする',
    revokeTitle: 'APIキー「{name}」を無効にする',
    revokeMessage: 'このキーを使うプログラムは直ちにAPIを呼べなくなります（401）。元に戻せません。',
    createTitle: 'APIキーを作成',
    create: '作成',
    read: '読み取り（read）',
    write: '書き込み（write）',
    admin: '管理（admin）',
    newKey: '新しいAPIキー「{name}」',
    newKeyNote: 'このキーは今回しか表示されません。今すぐ控えてください。',
    newKeyLabel: 'APIキー',
    none: 'APIキーはありません。',
    needScope: '権限を1つ以上選んでください。',
    actions: '操作',
    adminOnly: 'APIキーは管理者のみ扱えます。',
  },
  en: {
    listTitle: 'API keys',
    name: 'Name',
    prefix: 'Key starts with',
    scopes: 'Scopes',
    state: 'State',
    active: 'active',
    revoked: 'revoked ({time})',
    created: 'Created',
    revoke: 'Revoke',
    revokeTitle: 'Revoke the API key "{name}"',
    revokeMessage:
      'Programs using this key can no longer call the API (401), from now on. This cannot be undone.',
    createTitle: 'Create an API key',
    create: 'Create',
    read: 'read',
    write: 'write',
    admin: 'admin',
    newKey: 'New API key "{name}"',
    newKeyNote: 'The key is shown this once only. Keep it now.',
    newKeyLabel: 'API key',
    none: 'No API key.',
    needScope: 'Choose at least one scope.',
    actions: 'Actions',
    adminOnly: 'Only an admin manages API keys.',
  },
});

const SCOPES = ['read', 'write', 'admin'] as const;
type Scope = (typeof SCOPES)[number];

const loadKeys = async () => must(await api.GET('/v1/api-keys')).items;
type Key = Awaited<ReturnType<typeof loadKeys>>[number];

export function ApiKeysScreen(props: ScreenProps) {
  // Reached by its address without the admin role: nothing to show (the API refuses it too).
  if (!can(props.user, 'admin'))
    return (
      <Page title={t('navApiKeys')}>
        <p>{tx('adminOnly')}</p>
      </Page>
    );
  return <ApiKeys />;
}

function ApiKeys() {
  const keys = useLoad(loadKeys, []);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['read']);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<{ key: string; name: string } | null>(null);
  const [revoking, setRevoking] = useState<Key | null>(null);

  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (scopes.length === 0) {
      setError(tx('needScope'));
      return;
    }
    const res = await api.POST('/v1/api-keys', { body: { name: name.trim(), scopes } });
    if (!res.data) {
      setError(errorMessage(res.error, `HTTP ${res.response.status}`));
      return;
    }
    setCreated({ key: res.data.key, name: res.data.apiKey.name });
    setName('');
    keys.reload();
  };
  const revoke = async () => {
    if (!revoking) return;
    const res = await api.POST('/v1/api-keys/{id}/revoke', { params: { path: { id: revoking.id } } });
    setRevoking(null);
    if (!res.data) setError(errorMessage(res.error, `HTTP ${res.response.status}`));
    keys.reload();
  };

  return (
    <Page title={t('navApiKeys')}>
      <ErrorBanner message={error ?? keys.error} />
      {created ? (
        <section class="new-key" aria-labelledby="new-key-title" role="status">
          <h2 id="new-key-title">{tx('newKey', { name: created.name })}</h2>
          <p>{tx('newKeyNote')}</p>
          <label>
            {tx('newKeyLabel')}
            <input
              name="newKey"
              readOnly
              value={created.key}
              size={60}
              onFocus={(e) => e.currentTarget.select()}
            />
          </label>
          <button type="button" class="secondary" onClick={() => setCreated(null)}>
            {t('close')}
          </button>
        </section>
      ) : null}

      <section aria-labelledby="api-key-create">
        <h2 id="api-key-create">{tx('createTitle')}</h2>
        <form class="form-grid" onSubmit={create}>
          <label>
            {tx('name')}
            <input
              name="name"
              required
              maxLength={200}
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          </label>
          <fieldset>
            <legend>{tx('scopes')}</legend>
            {SCOPES.map((s) => (
              <label key={s}>
                <input
                  type="checkbox"
                  name="scopes"
                  value={s}
                  checked={scopes.includes(s)}
                  onChange={(e) =>
                    setScopes(e.currentTarget.checked ? [...scopes, s] : scopes.filter((x) => x !== s))
                  }
                />
                {tx(s)}
              </label>
            ))}
          </fieldset>
          <button type="submit">{tx('create')}</button>
        </form>
      </section>

      <h2>{tx('listTitle')}</h2>
      <Loading loading={keys.loading && !keys.data} />
      {keys.data && keys.data.length === 0 ? <p>{tx('none')}</p> : null}
      {keys.data && keys.data.length > 0 ? (
        <div class="table-wrap">
          <table class="api-keys">
            <caption class="visually-hidden">{tx('listTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{tx('name')}</th>
                <th scope="col">{tx('prefix')}</th>
                <th scope="col">{tx('scopes')}</th>
                <th scope="col">{tx('state')}</th>
                <th scope="col">{tx('created')}</th>
                <th scope="col">{tx('actions')}</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((k) => (
                <tr key={k.id} data-key-id={k.id} data-status={k.status}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>{k.scopes.join(', ')}</td>
                  <td>
                    {k.status === 'active' ? tx('active') : tx('revoked', { time: formatTime(k.revokedAt) })}
                  </td>
                  <td>{formatTime(k.createdAt)}</td>
                  <td>
                    {k.status === 'active' ? (
                      <button
                        type="button"
                        class="danger"
                        aria-label={`${tx('revoke')}: ${k.name}`}
                        onClick={() => setRevoking(k)}
                      >
                        {tx('revoke')}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ConfirmDialog
        open={revoking !== null}
        title={tx('revokeTitle', { name: revoking?.name ?? '' })}
        message={tx('revokeMessage')}
        confirmLabel={tx('revoke')}
        onCancel={() => setRevoking(null)}
        onConfirm={() => void revoke()}
      />
    </Page>
  );
}
