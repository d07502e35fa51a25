import type { ConnectOptions, ConnectSummary } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { runAuthorizationCodeFlow } from '../../src/destinations/oauth-connect';
import type { QuickBooksConfig } from './config.schema';
import { QboSession, intuitOAuthClient } from './qbo-session';

/**
 * `hourbridge connect quickbooks`: the runtime's authorisation-code flow with PKCE on a local
 * callback; Intuit names the company the user chose in the callback's `realmId`, which must be
 * the configured one. The token set is stored sealed in the ledger under the destination id.
 * https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
 */
export async function connectQuickBooks(config: QuickBooksConfig, options: ConnectOptions): Promise<ConnectSummary> {
  const { tokenSet, callback } = await runAuthorizationCodeFlow({
    client: intuitOAuthClient(config),
    authorizeUrl: config.oauth.authorizeUrl,
    scopes: config.auth.scopes,
    redirectUri: config.auth.redirectUri,
    port: options.port,
    openUrl: options.openUrl,
    log: options.log,
    timeoutMs: options.timeoutMs,
  });
  const realm = callback.get('realmId');
  if (realm !== config.realmId) {
    throw new ConnectorError(
      'config',
      `the consent covers QuickBooks company ${realm ?? '(none named)'}, not realmId ${config.realmId} of destination "${config.id}"; choose that company on the consent page, or set realmId to ${realm ?? 'the right one'}`,
      { connector: 'quickbooks' },
    );
  }
  await options.connections.save({ id: config.id, kind: 'quickbooks', tenantId: realm, tokenSet });
  const fixed = { accessToken: async () => tokenSet.access_token, refresh: async () => tokenSet.access_token };
  const name = await new QboSession(config, { tokens: fixed, log: options.log }).companyName().catch(() => realm);
  options.log?.info({ destination: config.id, realmId: realm }, 'quickbooks connected');
  return { tenantId: realm, tenantName: name, message: `Connected ${config.id} to QuickBooks company "${name}" (realm ${realm}).` };
}
