import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/loader';
import type { Ledger } from '../ledger/db';
import type { UiChecks, UiRunner } from './actions';
import type { LiveFeed } from './live';
import type { UiSessions } from './sessions';

/** What the pages are served from: the ledger and config, the runner behind the actions, sessions and the live feed. */
export interface UiContext {
  config: LoadedConfig;
  ledger: Ledger;
  log: Logger;
  runner: UiRunner;
  checks: UiChecks;
  sessions: UiSessions;
  live: LiveFeed;
}

export const UI_CONTEXT = Symbol('hourbridge.ui-context');
