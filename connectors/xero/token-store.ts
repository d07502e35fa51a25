import { ConnectorError } from '../../src/connectors/errors';
import type { Ledger } from '../../src/ledger/db';
import type { SecretKey } from '../../src/crypto/secret-box';
import {
  EXPIRY_MARGIN_S,
  LedgerTokens,
  type LedgerTokensOptions,
  type OAuthClient,
  type StoredConnection,
  type StoredTokenSet,
  type TokenProvider,
  readConnection as readStored,
  reconnectHint as genericHint,
  saveConnection as saveStored,
  tokenFailure,
  tokenRequest as genericTokenRequest,
} from '../../src/destinations/token-store';
import type { XeroConfig } from './config.schema';

/**
 * Xero OAuth 2.0 tokens (developer.xero.com/documentation/guides/oauth2/auth-flow) on the
 * runtime's token store (src/destinations/token-store.ts: sealed in the ledger, single-writer
 * refresh across processes). What is Xero's own lives here: the token endpoint is
 * `identity.tokenUrl` with HTTP Basic client auth (the wire format xero-node's
 * `refreshWithRefreshToken` uses; the SDK hard-codes identity.xero.com, and Hourbridge must
 * honour the override), and custom connections (client_credentials), which have no refresh token
 * and are cached per process. Xero honours a rotated refresh token for a 30-minute grace period,
 * so a refresh whose answer was lost is retried with the old one.
 */

export type { StoredTokenSet, TokenProvider } from '../../src/destinations/token-store';
export type StoredTokensOptions = LedgerTokensOptions;

export function xeroOAuthClient(config: XeroConfig): OAuthClient {
  return {
    kind: 'xero',
    label: 'Xero',
    connectionId: config.id,
    tokenUrl: config.identity.tokenUrl,
    clientId: config.auth.clientId,
    clientSecret: config.auth.clientSecret,
    clientAuth: 'basic',
    defaultExpiresInS: 1800,
    invalidGrantReasons: 'revoked, expired after 60 days unused, or replaced elsewhere',
  };
}

export function reconnectHint(config: Pick<XeroConfig, 'id'>): string {
  return genericHint({ kind: 'xero', connectionId: config.id });
}

/** POST to Xero's token endpoint. Never puts a token or secret into an error. */
export function tokenRequest(config: XeroConfig, form: Record<string, string>): Promise<StoredTokenSet> {
  return genericTokenRequest(xeroOAuthClient(config), form);
}

// ---- client credentials (custom connections) --------------------------------------------------

const ccCache = new Map<string, StoredTokenSet>();

export class ClientCredentialsTokens implements TokenProvider {
  constructor(private readonly config: XeroConfig) {}
  private get cacheKey() {
    return `${this.config.id}:${this.config.auth.clientId}:${this.config.identity.tokenUrl}`;
  }
  async accessToken(): Promise<string> {
    const cached = ccCache.get(this.cacheKey);
    if (cached && cached.expires_at - EXPIRY_MARGIN_S > Date.now() / 1000) return cached.access_token;
    return this.fetch();
  }
  async refresh(stale: string): Promise<string> {
    const cached = ccCache.get(this.cacheKey);
    if (cached && cached.access_token !== stale && cached.expires_at - EXPIRY_MARGIN_S > Date.now() / 1000) return cached.access_token;
    return this.fetch();
  }
  private async fetch(): Promise<string> {
    if (this.config.auth.grant !== 'client_credentials') throw new Error('not a client_credentials config');
    try {
      const set = await tokenRequest(this.config, { grant_type: 'client_credentials', scope: this.config.auth.scopes.join(' ') });
      ccCache.set(this.cacheKey, set);
      return set.access_token;
    } catch (e) {
      throw tokenFailure(xeroOAuthClient(this.config), e, 'getting a client-credentials token');
    }
  }
}

// ---- authorisation code: the runtime's store --------------------------------------------------

export function saveConnection(ledger: Ledger, key: SecretKey, input: { id: string; tenantId: string; tokenSet: StoredTokenSet }) {
  return saveStored(ledger, key, { ...input, kind: 'xero' });
}

export function readConnection(ledger: Ledger, key: SecretKey, id: string): Promise<StoredConnection | undefined> {
  return readStored(ledger, key, id);
}

export class StoredTokens extends LedgerTokens {
  constructor(config: XeroConfig, ledger: Ledger, options: StoredTokensOptions = {}) {
    super(xeroOAuthClient(config), ledger, options);
  }
}

export function tokenProviderFor(config: XeroConfig, ledger: Ledger | undefined, options: StoredTokensOptions = {}): TokenProvider {
  if (config.auth.grant === 'client_credentials') return new ClientCredentialsTokens(config);
  if (!ledger) {
    throw new ConnectorError('config', `Xero destination "${config.id}" uses authorization_code and needs the ledger to hold its tokens`, {
      connector: 'xero',
    });
  }
  return new StoredTokens(config, ledger, options);
}
