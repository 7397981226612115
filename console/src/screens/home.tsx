// The landing screen: the navigation's entries as a list, for a first visit.
import { t } from '../i18n';
import { routes, type ScreenProps } from '../routes';
import { href } from '../router';
import { can } from '../session';
import { Page } from '../ui';

export function HomeScreen(props: ScreenProps) {
  return (
    <Page title={t('appTitle')}>
      <ul class="home-links">
        {routes
          .filter((r) => r.nav && (!r.needs || can(props.user, r.needs)))
          .map((r) => (
            <li key={r.pattern}>
              <a href={href(r.navPath ?? r.pattern)}>{t(r.nav!)}</a>
            </li>
          ))}
      </ul>
    </Page>
  );
}
