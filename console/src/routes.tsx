// Every screen of the console: its hash pattern, the component that draws it,
// and where it sits in the navigation. Screens live in screens/, one file each.
import type { FunctionComponent } from 'preact';
import type { MessageKey } from './messages';
import type { Match } from './router';
import type { ConsoleUser } from './session';
import { HomeScreen } from './screens/home';
import { LeadScreen } from './screens/lead';
import { LeadSearchScreen } from './screens/lead-search';
import { SendDetailScreen, SendsScreen } from './screens/sends';
import { RunDetailScreen } from './screens/run-detail';
import { NewRunScreen } from './screens/new-run';
import { RunHistoryScreen } from './screens/run-history';
import { BouncesScreen } from './screens/bounces';
import { AddressesScreen } from './screens/addresses';
import { DomainRulesScreen } from './screens/domain-rules';
import { UsageScreen } from './screens/usage';
import { SendingDomainsScreen } from './screens/sending-domains';
import { ApiKeysScreen } from './screens/api-keys';

export interface ScreenProps {
  match: Match;
  user: ConsoleUser;
}

export interface RouteDef {
  pattern: string;
  screen: FunctionComponent<ScreenProps>;
  /** Shown in the navigation under this text, linking to `navPath` (default: the pattern). */
  nav?: MessageKey;
  navPath?: string;
  /** Only for users who may do this (the API refuses others anyway). */
  needs?: 'write' | 'admin';
}

export const routes: RouteDef[] = [
  { pattern: '/', screen: HomeScreen },
  { pattern: '/runs/:channel', screen: RunHistoryScreen, nav: 'navHistory', navPath: '/runs/email' },
  { pattern: '/runs/:channel/:id', screen: RunDetailScreen },
  { pattern: '/new', screen: NewRunScreen, nav: 'navNewRun', needs: 'write' },
  { pattern: '/sends/:channel', screen: SendsScreen, nav: 'navSends', navPath: '/sends/email' },
  { pattern: '/send/:id', screen: SendDetailScreen },
  { pattern: '/leads/:id', screen: LeadScreen },
  { pattern: '/lead-search', screen: LeadSearchScreen, nav: 'navLeadSearch' },
  { pattern: '/bounces', screen: BouncesScreen, nav: 'navBounces' },
  { pattern: '/addresses', screen: AddressesScreen, nav: 'navAddresses' },
  { pattern: '/domain-rules', screen: DomainRulesScreen, nav: 'navDomainRules' },
  { pattern: '/usage', screen: UsageScreen, nav: 'navUsage' },
  { pattern: '/sending-domains', screen: SendingDomainsScreen, nav: 'navSendingDomains' },
  { pattern: '/api-keys', screen: ApiKeysScreen, nav: 'navApiKeys', needs: 'admin' },
];
