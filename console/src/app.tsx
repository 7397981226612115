// The console's frame: the session (login form when there is none), the
// navigation, the language switch, and the screen the hash route selects.
import { useEffect, useState } from 'preact/hooks';
import { setUnauthorizedHandler } from './api';
import { currentLanguage, onLanguageChange, setLanguage, t, type Language } from './i18n';
import { loadLabels } from './labels';
import { matchPattern, useLocation, href } from './router';
import { routes } from './routes';
import { can, currentSession, logIn, logOut, type ConsoleUser } from './session';
import { ErrorBanner, Page } from './ui';

function LoginForm(props: { onLoggedIn: (user: ConsoleUser) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const result = await logIn(username, password);
    setBusy(false);
    if (typeof result === 'string') setError(result);
    else props.onLoggedIn(result);
  };
  return (
    <main class="login" id="main">
      <form class="login-form" onSubmit={submit}>
        <h1>{t('appTitle')}</h1>
        <ErrorBanner message={error} />
        <label>
          {t('username')}
          <input
            name="username"
            autoComplete="username"
            required
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label>
          {t('password')}
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {t('logIn')}
        </button>
        <LanguageSwitch />
      </form>
    </main>
  );
}

function LanguageSwitch() {
  const lang = currentLanguage();
  return (
    <label class="language-switch">
      {t('language')}
      <select name="language" value={lang} onChange={(e) => setLanguage(e.currentTarget.value as Language)}>
        <option value="ja">日本語</option>
        <option value="en">English</option>
      </select>
    </label>
  );
}

export function App() {
  const [user, setUser] = useState<ConsoleUser | null | undefined>(undefined);
  const [, setRenderTick] = useState(0);
  const location = useLocation();

  useEffect(() => onLanguageChange(() => setRenderTick((n) => n + 1)), []);
  useEffect(() => {
    document.documentElement.lang = currentLanguage();
    setUnauthorizedHandler(() => setUser(null));
    currentSession().then(setUser, () => setUser(null));
  }, []);
  useEffect(() => {
    if (!user) return;
    // The labels carry the account's time zone (loadLabels sets it); a failure shows on the screens.
    loadLabels().catch(() => undefined);
  }, [user]);
  // Focus the new screen's heading so keyboard and screen-reader users land on it.
  useEffect(() => {
    document.getElementById('page-title')?.focus();
  }, [location.path]);

  if (user === undefined) return <p class="loading">{t('loading')}</p>;
  if (user === null) return <LoginForm onLoggedIn={setUser} />;

  let screen = null;
  for (const r of routes) {
    const params = matchPattern(r.pattern, location.path);
    if (params) {
      const Screen = r.screen;
      // key: a new language re-mounts the screen, so it reloads the API's labels in that language.
      screen = (
        <Screen
          key={`${location.path}|${currentLanguage()}`}
          match={{ params, query: location.query }}
          user={user}
        />
      );
      break;
    }
  }

  return (
    <div class="shell">
      <button type="button" class="skip-link" onClick={() => document.getElementById('main')?.focus()}>
        {t('skipToContent')}
      </button>
      <header class="topbar">
        <a class="brand" href={href('/')}>
          {t('appTitle')}
        </a>
        <div class="topbar-right">
          <span class="who">{t('signedInAs', { name: user.name, role: user.role })}</span>
          <LanguageSwitch />
          <button
            type="button"
            onClick={async () => {
              await logOut();
              setUser(null);
            }}
          >
            {t('logOut')}
          </button>
        </div>
      </header>
      <nav class="sidenav" aria-label={t('appTitle')}>
        <ul>
          {routes
            .filter((r) => r.nav && (!r.needs || can(user, r.needs)))
            .map((r) => {
              const path = r.navPath ?? r.pattern;
              const current = location.path === path || location.path.startsWith(`${path}/`);
              return (
                <li key={r.pattern}>
                  <a href={href(path)} aria-current={current ? 'page' : undefined}>
                    {t(r.nav!)}
                  </a>
                </li>
              );
            })}
        </ul>
      </nav>
      <main id="main" class="content" tabIndex={-1}>
        {screen ?? (
          <Page title={t('notFound')}>
            <p>
              <a href={href('/')}>{t('appTitle')}</a>
            </p>
          </Page>
        )}
      </main>
    </div>
  );
}
