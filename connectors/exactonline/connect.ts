import type { ConnectOptions, ConnectSummary } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { runAuthorizationCodeFlow } from '../../src/destinations/oauth-connect';
import { type ExactOnlineConfig, siteBase } from './config.schema';
import { ExactSession, exactOAuthClient } from './exact-session';

/**
 * `hourbridge connect exactonline`: the runtime's authorisation-code flow with PKCE on a local
 * callback against the region's site (start.exactonline.<region>/api/oauth2/auth), then
 * /current/Me names the user's current division. The token set is stored sealed in the ledger.
 * https://support.exactonline.com/community/s/knowledge-base#All-All-DNO-Content-oauth-eol-oauth-devstep2
 */
export async function connectExact(config: ExactOnlineConfig, options: ConnectOptions): Promise<ConnectSummary> {
  const { tokenSet } = await runAuthorizationCodeFlow({
    client: exactOAuthClient(config),
    authorizeUrl: `${siteBase(config)}/api/oauth2/auth`,
    scopes: [],
    redirectUri: config.auth.redirectUri,
    port: options.port,
    openUrl: options.openUrl,
    log: options.log,
    timeoutMs: options.timeoutMs,
    // Exact asks again for consent without this.
    extraParams: { force_login: '0' },
  });
  const fixed = { accessToken: async () => tokenSet.access_token, refresh: async () => tokenSet.access_token };
  const me = await new ExactSession(config, { tokens: fixed, log: options.log }).me();
  if (!Number.isInteger(me.CurrentDivision)) {
    throw new ConnectorError('transient', 'Exact Online did not name a current division', { connector: 'exactonline' });
  }
  await options.connections.save({ id: config.id, kind: 'exactonline', tenantId: String(config.division), tokenSet });
  const note =
    me.CurrentDivision === config.division
      ? ''
      : ` (the user's current division is ${me.CurrentDivision}; Hourbridge writes to division ${config.division} as configured)`;
  return {
    tenantId: String(config.division),
    tenantName: me.FullName,
    message: `Connected ${config.id} to Exact Online division ${config.division} on ${siteBase(config)}${note}.`,
  };
}
