// Every screen of the console: its hash pattern, the component that draws it,
// and where it sits in the navigation. Screens live in screens/, one file each.
import type { FunctionComponent } from 'preact';
import type { MessageKey } from './messages';
import type { Match } from './router';
import type { ConsoleUser } from './session';
import { HomeScreen } from './screens/home';
import { NewRunScreen } from './screens/new-run';
import { RunHistoryScreen } from './screens/run-history';

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
  { pattern: '/new', screen: NewRunScreen, nav: 'navNewRun', needs: 'write' },
];
