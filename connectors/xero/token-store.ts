import axios, { type AxiosError } from 'axios';
import { eq, and, sql } from 'drizzle-orm';
import { connections } from '../../src/ledger/schema';
import type { Ledger } from '../../src/ledger/db';
import { ConnectorError } from '../../src/connectors/errors';
import { loadSecretKey, openJson, sealJson, type SecretKey } from '../../src/crypto/secret-box';
import type { XeroConfig } from './config.schema';
import { sleep } from './rate-budget';

/**
 * Xero OAuth 2.0 token handling (developer.xero.com/documentation/guides/oauth2/auth-flow).
 *
 * The token endpoint is called with axios directly, with the same wire format xero-node's
 * `refreshWithRefreshToken` uses (HTTP Basic client auth, form body): the SDK hard-codes
 * https://identity.xero.com/connect/token, and Hourbridge must honour `identity.tokenUrl`.
 *
 * Authorisation-code token sets live in the ledger `connections` table, sealed with
 * AES-256-GCM. A refresh is single-writer across every process: a transaction-scoped advisory
 * lock on the connection id, a re-read of the row (another process may have refreshed while we
 * waited), the refresh, and the rotated refresh token committed BEFORE the new access token is
 * used. A refresh whose response was lost is retried with the old refresh token, which Xero
 * honours for a 30-minute grace period.
 */

export interface StoredTokenSet {
  access_token: string;
  refresh_token?: string;
  /** Epoch seconds. */
  expires_at: number;
  scope?: string;
  token_type?: string;
  id_token?: string;
}

export interface TokenProvider {
  accessToken(): Promise<string>;
  /** The access token `stale` was refused: get a working one (refreshing at most once across processes). */
  refresh(stale: string): Promise<string>;
}

/** Refresh this long before expiry so a call never starts with a token about to lapse. */
const EXPIRY_MARGIN_S = 60;

export function reconnectHint(config: Pick<XeroConfig, 'id'>): string {
  return `run \`hourbridge connect xero --config <config file>\` again (destination "${config.id}")`;
}

interface TokenEndpointError {
  kind: 'invalid_grant' | 'invalid_client' | 'http' | 'network';
  status?: number;
  error?: string;
}

/** POST to the token endpoint. Never puts a token or secret into an error. */
export async function tokenRequest(config: XeroConfig, form: Record<string, string>, timeoutMs = 15_000): Promise<StoredTokenSet> {
  const basic = Buffer.from(`${config.auth.clientId}:${config.auth.clientSecret}`).toString('base64');
  try {
    const res = await axios.post(config.identity.tokenUrl, new URLSearchParams(form).toString(), {
      headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      timeout: timeoutMs,
    });
    const body = res.data as Record<string, unknown>;
    if (typeof body.access_token !== 'string') throw { kind: 'http', status: res.status } satisfies TokenEndpointError;
    return {
      access_token: body.access_token,
      refresh_token: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
      expires_at: Math.floor(Date.now() / 1000) + Number(body.expires_in ?? 1800),
      scope: typeof body.scope === 'string' ? body.scope : undefined,
      token_type: typeof body.token_type === 'string' ? body.token_type : undefined,
      id_token: typeof body.id_token === 'string' ? body.id_token : undefined,
    };
  } catch (e) {
    if ((e as TokenEndpointError).kind) throw e;
    const ax = e as AxiosError<{ error?: string }>;
    if (!ax.response) throw { kind: 'network' } satisfies TokenEndpointError;
    const error = ax.response.data?.error;
    if (error === 'invalid_grant') throw { kind: 'invalid_grant', status: ax.response.status, error } satisfies TokenEndpointError;
    if (error === 'invalid_client' || ax.response.status === 401)
      throw { kind: 'invalid_client', status: ax.response.status, error } satisfies TokenEndpointError;
    throw { kind: 'http', status: ax.response.status, error } satisfies TokenEndpointError;
  }
}

function toConnectorError(config: XeroConfig, e: unknown, what: string): ConnectorError {
  const err = e as TokenEndpointError;
  if (err.kind === 'invalid_grant') {
    return new ConnectorError(
      'auth',
      `Xero refused the stored refresh token for destination "${config.id}" (invalid_grant: revoked, expired after 60 days unused, or replaced elsewhere): ${reconnectHint(config)}`,
      { connector: 'xero', status: err.status },
    );
  }
  if (err.kind === 'invalid_client') {
    return new ConnectorError(
      'config',
      `Xero refused the client id/secret of destination "${config.id}" (${err.error ?? 'invalid_client'}); check auth.clientId and auth.clientSecret`,
      { connector: 'xero', status: err.status },
    );
  }
  if (err.kind === 'network')
    return new ConnectorError('transient', `Xero token endpoint did not answer while ${what}`, { connector: 'xero' });
  return new ConnectorError(
    err.status !== undefined && err.status >= 500 ? 'transient' : 'auth',
    `Xero token endpoint answered HTTP ${err.status ?? '?'} (${err.error ?? 'no error code'}) while ${what}`,
    { connector: 'xero', status: err.status },
  );
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
      throw toConnectorError(this.config, e, 'getting a client-credentials token');
    }
  }
}

// ---- authorisation code: ledger-backed, single-writer refresh -----------------------------------

export async function saveConnection(
  ledger: Ledger,
  key: SecretKey,
  input: { id: string; tenantId: string; tokenSet: StoredTokenSet },
): Promise<void> {
  const secret = sealJson(input.tokenSet, key);
  const expiresAt = new Date(input.tokenSet.expires_at * 1000).toISOString();
  await ledger.db
    .insert(connections)
    .values({ id: input.id, kind: 'xero', tenantId: input.tenantId, secret, expiresAt, version: 1 })
    .onConflictDoUpdate({
      target: connections.id,
      set: { tenantId: input.tenantId, secret, expiresAt, version: sql`${connections.version} + 1`, updatedAt: sql`now()` },
    });
}

export async function readConnection(
  ledger: Ledger,
  key: SecretKey,
  id: string,
): Promise<{ tokenSet: StoredTokenSet; version: number; tenantId: string | null } | undefined> {
  const [row] = await ledger.db.select().from(connections).where(eq(connections.id, id));
  if (!row) return undefined;
  return { tokenSet: openJson<StoredTokenSet>(row.secret, key), version: row.version, tenantId: row.tenantId };
}

export interface StoredTokensOptions {
  key?: SecretKey;
  /** Attempts with the same refresh token when the token endpoint does not answer. */
  lostResponseAttempts?: number;
  /** Called after every successful refresh (metrics, tests). */
  onRefresh?: () => void;
}

export class StoredTokens implements TokenProvider {
  private readonly key: SecretKey;
  private current?: StoredTokenSet;
  /** In-process single flight: concurrent callers in this process share one refresh. */
  private inflight?: Promise<string>;

  constructor(
    private readonly config: XeroConfig,
    private readonly ledger: Ledger,
    private readonly options: StoredTokensOptions = {},
  ) {
    this.key = options.key ?? loadSecretKey();
  }

  private lockSql() {
    return sql`SELECT pg_advisory_xact_lock(hashtext(${`hourbridge:connection:${this.config.id}`}))`;
  }

  async accessToken(): Promise<string> {
    if (!this.current) {
      const row = await readConnection(this.ledger, this.key, this.config.id);
      if (!row) {
        throw new ConnectorError(
          'auth',
          `No Xero connection is stored for destination "${this.config.id}": ${reconnectHint(this.config)}`,
          { connector: 'xero' },
        );
      }
      this.current = row.tokenSet;
    }
    if (this.current.expires_at - EXPIRY_MARGIN_S <= Date.now() / 1000) return this.refresh(this.current.access_token);
    return this.current.access_token;
  }

  refresh(stale: string): Promise<string> {
    if (!this.inflight) {
      this.inflight = this.refreshLocked(stale).finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  private async refreshLocked(stale: string): Promise<string> {
    const fresh = await this.ledger.db.transaction(async (tx) => {
      await tx.execute(this.lockSql());
      const [row] = await tx.select().from(connections).where(eq(connections.id, this.config.id));
      if (!row) {
        throw new ConnectorError(
          'auth',
          `No Xero connection is stored for destination "${this.config.id}": ${reconnectHint(this.config)}`,
          { connector: 'xero' },
        );
      }
      const stored = openJson<StoredTokenSet>(row.secret, this.key);
      // Another process refreshed while we waited for the lock: use its token, do not refresh again.
      if (stored.access_token !== stale && stored.expires_at - EXPIRY_MARGIN_S > Date.now() / 1000) return stored;
      if (!stored.refresh_token) {
        throw new ConnectorError(
          'auth',
          `The stored Xero connection for destination "${this.config.id}" has no refresh token (was offline_access granted?): ${reconnectHint(this.config)}`,
          { connector: 'xero' },
        );
      }
      const next = await this.callRefresh(stored.refresh_token);
      const updated = await tx
        .update(connections)
        .set({
          secret: sealJson(next, this.key),
          expiresAt: new Date(next.expires_at * 1000).toISOString(),
          version: row.version + 1,
          updatedAt: sql`now()`,
        })
        .where(and(eq(connections.id, this.config.id), eq(connections.version, row.version)))
        .returning({ version: connections.version });
      if (updated.length !== 1)
        throw new ConnectorError('transient', `Xero connection "${this.config.id}" changed during refresh; retrying`, {
          connector: 'xero',
        });
      this.options.onRefresh?.();
      return next;
    });
    // The transaction has committed: the rotated refresh token is durable before we use the new access token.
    this.current = fresh;
    return fresh.access_token;
  }

  private async callRefresh(refreshToken: string): Promise<StoredTokenSet> {
    const attempts = this.options.lostResponseAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        const set = await tokenRequest(this.config, { grant_type: 'refresh_token', refresh_token: refreshToken });
        return { ...set, refresh_token: set.refresh_token ?? refreshToken };
      } catch (e) {
        // A lost response may mean Xero already rotated: the old refresh token stays valid for
        // its grace period, so retrying with it is safe.
        if ((e as TokenEndpointError).kind === 'network' && attempt < attempts) {
          await sleep(200 * attempt);
          continue;
        }
        throw toConnectorError(this.config, e, 'refreshing the access token');
      }
    }
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
