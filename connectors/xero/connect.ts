import axios from 'axios';
import type { Logger } from 'pino';
import type { ConnectOptions, ConnectSummary } from '../../src/connectors/contract';
import type { Ledger } from '../../src/ledger/db';
import { ConnectorError } from '../../src/connectors/errors';
import type { SecretKey } from '../../src/crypto/secret-box';
import { runAuthorizationCodeFlow } from '../../src/destinations/oauth-connect';
import { ledgerConnectionStore } from '../../src/destinations/token-store';
import type { XeroConfig } from './config.schema';
import { xeroOAuthClient } from './token-store';

/**
 * `hourbridge connect xero`: the runtime's authorisation-code flow with PKCE on a local callback
 * (src/destinations/oauth-connect.ts; developer.xero.com/documentation/guides/oauth2/pkce-flow),
 * then Xero's own step: GET /connections lists the organisations the consent covers, and the
 * configured tenantId must be one of them. The consent URL is not built with xero-node's
 * `buildConsentUrl`, which needs OIDC discovery against identity.xero.com and cannot add a PKCE
 * challenge.
 */

export interface XeroTenant {
  tenantId: string;
  tenantName: string;
  tenantType: string;
}

export interface XeroConnectOptions extends ConnectOptions {
  /** Picks the organisation when the config's tenantId is not among those authorised. */
  chooseTenant?: (tenants: XeroTenant[]) => string | Promise<string>;
}

export interface ConnectResult extends ConnectSummary {
  tenantName: string;
  tenants: XeroTenant[];
}

export async function connectXero(config: XeroConfig, options: XeroConnectOptions): Promise<ConnectResult> {
  if (config.auth.grant !== 'authorization_code') {
    throw new ConnectorError(
      'config',
      `Xero destination "${config.id}" uses client_credentials (a custom connection): it needs no connect step`,
      { connector: 'xero' },
    );
  }
  const { tokenSet } = await runAuthorizationCodeFlow({
    client: xeroOAuthClient(config),
    authorizeUrl: config.identity.authorizeUrl,
    scopes: config.auth.scopes,
    redirectUri: config.auth.redirectUri,
    port: options.port,
    openUrl: options.openUrl,
    log: options.log,
    timeoutMs: options.timeoutMs,
    noRefreshTokenHint: 'add offline_access to auth.scopes',
  });

  // GET /connections: the organisations this consent covers (developer.xero.com/documentation/guides/oauth2/tenants).
  const res = await axios.get<{ tenantId: string; tenantName: string; tenantType: string }[]>(config.identity.connectionsUrl, {
    headers: { Authorization: `Bearer ${tokenSet.access_token}`, Accept: 'application/json' },
    timeout: 15_000,
  });
  const tenants = res.data
    .filter((t) => t.tenantType === 'ORGANISATION')
    .map((t) => ({ tenantId: t.tenantId, tenantName: t.tenantName, tenantType: t.tenantType }));
  let tenantId = tenants.some((t) => t.tenantId === config.tenantId) ? config.tenantId : undefined;
  if (!tenantId && options.chooseTenant && tenants.length > 0) tenantId = await options.chooseTenant(tenants);
  const chosen = tenants.find((t) => t.tenantId === tenantId);
  if (!chosen) {
    const list = tenants.map((t) => `${t.tenantName} (${t.tenantId})`).join(', ') || 'none';
    throw new ConnectorError(
      'config',
      `tenantId ${config.tenantId} of destination "${config.id}" is not among the organisations you authorised: ${list}; set tenantId to one of them and connect again`,
      { connector: 'xero' },
    );
  }
  await options.connections.save({ id: config.id, kind: 'xero', tenantId: chosen.tenantId, tokenSet });
  options.log?.info({ destination: config.id, tenantId: chosen.tenantId, tenantName: chosen.tenantName }, 'xero connected');
  return {
    tenantId: chosen.tenantId,
    tenantName: chosen.tenantName,
    tenants,
    message: `Connected ${config.id} to Xero organisation "${chosen.tenantName}" (${chosen.tenantId}).`,
  };
}

export interface ConnectFlowOptions extends Omit<XeroConnectOptions, 'connections'> {
  config: XeroConfig;
  ledger: Ledger;
  key?: SecretKey;
  log?: Logger;
}

/** The flow on a ledger directly (tests, scripts). */
export function runConnectFlow(options: ConnectFlowOptions): Promise<ConnectResult> {
  const { config, ledger, key, ...rest } = options;
  return connectXero(config, { ...rest, connections: ledgerConnectionStore(ledger, key) });
}
