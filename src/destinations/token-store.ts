import axios, { type AxiosError } from 'axios';
import { and, eq, sql } from 'drizzle-orm';
import { connections } from '../ledger/schema';
import type { Ledger } from '../ledger/db';
import { ConnectorError } from '../connectors/errors';
import { loadSecretKey, openJson, sealJson, type SecretKey } from '../crypto/secret-box';

/**
 * The runtime's OAuth 2.0 token store for destinations (RFC 6749 §4.1 / §6). A connector
 * describes its token endpoint (`OAuthClient`); the store owns the rest:
 *
 * - Token sets live in the ledger `connections` table, sealed with AES-256-GCM under
 *   HOURBRIDGE_SECRET_KEY (src/crypto/secret-box.ts); never in clear text, logs or errors.
 * - A refresh is single-writer across every process: a transaction-scoped advisory lock on the
 *   connection id, a re-read of the row (another process may have refreshed while we waited),
 *   the refresh, and the rotated refresh token committed BEFORE the new access token is used.
 *   Vendors that rotate refresh tokens on every use (Xero, QuickBooks Online, Exact Online)
 *   invalidate the old one, so two processes refreshing at once must never both call the token
 *   endpoint with it, and a rotated token must never exist only in a process's memory.
 * - A refresh whose response was lost is retried with the same refresh token
 *   (`lostResponseAttempts`): the vendors above honour the previous token for a grace period.
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

/** How to reach one connection's token endpoint. */
export interface OAuthClient {
  /** Destination kind, e.g. "xero" (the `connections.kind` column, the `hourbridge connect <kind>` argument). */
  kind: string;
  /** Vendor name for messages, e.g. "Xero". */
  label: string;
  /** Destination id: the connection's key in the ledger. */
  connectionId: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** `basic` (HTTP Basic, RFC 6749 §2.3.1, the default) or `body` (client_id/client_secret in the form). */
  clientAuth?: 'basic' | 'body';
  /** Lifetime assumed when the endpoint sends no expires_in. */
  defaultExpiresInS?: number;
  timeoutMs?: number;
  /** Why the vendor says invalid_grant, for the message (default: "revoked, expired, or replaced elsewhere"). */
  invalidGrantReasons?: string;
}

/** Refresh this long before expiry so a call never starts with a token about to lapse. */
export const EXPIRY_MARGIN_S = 60;

export function reconnectHint(client: Pick<OAuthClient, 'kind' | 'connectionId'>): string {
  return `run \`hourbridge connect ${client.kind} --config <config file>\` again (destination "${client.connectionId}")`;
}

export interface TokenEndpointError {
  kind: 'invalid_grant' | 'invalid_client' | 'http' | 'network';
  status?: number;
  error?: string;
}

export function isTokenEndpointError(e: unknown): e is TokenEndpointError {
  return typeof e === 'object' && e !== null && typeof (e as TokenEndpointError).kind === 'string' && !(e instanceof Error);
}

/** POST to the token endpoint. Never puts a token or secret into an error. */
export async function tokenRequest(client: OAuthClient, form: Record<string, string>): Promise<StoredTokenSet> {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };
  const body = { ...form };
  if ((client.clientAuth ?? 'basic') === 'basic') {
    headers.Authorization = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
  } else {
    body.client_id = client.clientId;
    body.client_secret = client.clientSecret;
  }
  try {
    const res = await axios.post(client.tokenUrl, new URLSearchParams(body).toString(), { headers, timeout: client.timeoutMs ?? 15_000 });
    const data = res.data as Record<string, unknown>;
    if (typeof data.access_token !== 'string') throw { kind: 'http', status: res.status } satisfies TokenEndpointError;
    return {
      access_token: data.access_token,
      refresh_token: typeof data.refresh_token === 'string' ? data.refresh_token : undefined,
      expires_at: Math.floor(Date.now() / 1000) + Number(data.expires_in ?? client.defaultExpiresInS ?? 1800),
      scope: typeof data.scope === 'string' ? data.scope : undefined,
      token_type: typeof data.token_type === 'string' ? data.token_type : undefined,
      id_token: typeof data.id_token === 'string' ? data.id_token : undefined,
    };
  } catch (e) {
    if (isTokenEndpointError(e)) throw e;
    const ax = e as AxiosError<{ error?: string }>;
    if (!ax.response) throw { kind: 'network' } satisfies TokenEndpointError;
    const error = typeof ax.response.data?.error === 'string' ? ax.response.data.error : undefined;
    if (error === 'invalid_grant') throw { kind: 'invalid_grant', status: ax.response.status, error } satisfies TokenEndpointError;
    if (error === 'invalid_client' || ax.response.status === 401)
      throw { kind: 'invalid_client', status: ax.response.status, error } satisfies TokenEndpointError;
    throw { kind: 'http', status: ax.response.status, error } satisfies TokenEndpointError;
  }
}

/** A token endpoint failure as the runtime's typed error, with what to do about it. */
export function tokenFailure(client: OAuthClient, e: unknown, what: string): ConnectorError {
  if (!isTokenEndpointError(e))
    return e instanceof ConnectorError
      ? e
      : new ConnectorError('transient', `${client.label} token endpoint failed while ${what}`, { connector: client.kind });
  const connector = client.kind;
  if (e.kind === 'invalid_grant') {
    return new ConnectorError(
      'auth',
      `${client.label} refused the stored refresh token for destination "${client.connectionId}" (invalid_grant: ${client.invalidGrantReasons ?? 'revoked, expired, or replaced elsewhere'}): ${reconnectHint(client)}`,
      { connector, status: e.status },
    );
  }
  if (e.kind === 'invalid_client') {
    return new ConnectorError(
      'config',
      `${client.label} refused the client id/secret of destination "${client.connectionId}" (${e.error ?? 'invalid_client'}); check auth.clientId and auth.clientSecret`,
      { connector, status: e.status },
    );
  }
  if (e.kind === 'network')
    return new ConnectorError('transient', `${client.label} token endpoint did not answer while ${what}`, { connector });
  return new ConnectorError(
    e.status !== undefined && e.status >= 500 ? 'transient' : 'auth',
    `${client.label} token endpoint answered HTTP ${e.status ?? '?'} (${e.error ?? 'no error code'}) while ${what}`,
    { connector, status: e.status },
  );
}

// ---- the ledger rows ----------------------------------------------------------------------------

export interface StoredConnection {
  tokenSet: StoredTokenSet;
  version: number;
  /** The vendor's account the consent chose: Xero tenant, QuickBooks realm, Exact division. */
  tenantId: string | null;
}

export async function saveConnection(
  ledger: Ledger,
  key: SecretKey,
  input: { id: string; kind: string; tenantId: string; tokenSet: StoredTokenSet },
): Promise<void> {
  const secret = sealJson(input.tokenSet, key);
  const expiresAt = new Date(input.tokenSet.expires_at * 1000).toISOString();
  await ledger.db
    .insert(connections)
    .values({ id: input.id, kind: input.kind, tenantId: input.tenantId, secret, expiresAt, version: 1 })
    .onConflictDoUpdate({
      target: connections.id,
      set: {
        kind: input.kind,
        tenantId: input.tenantId,
        secret,
        expiresAt,
        version: sql`${connections.version} + 1`,
        updatedAt: sql`now()`,
      },
    });
}

export async function readConnection(ledger: Ledger, key: SecretKey, id: string): Promise<StoredConnection | undefined> {
  const [row] = await ledger.db.select().from(connections).where(eq(connections.id, id));
  if (!row) return undefined;
  return { tokenSet: openJson<StoredTokenSet>(row.secret, key), version: row.version, tenantId: row.tenantId };
}

// ---- authorisation code: ledger-backed, single-writer refresh -----------------------------------

export interface LedgerTokensOptions {
  key?: SecretKey;
  /** Attempts with the same refresh token when the token endpoint does not answer. */
  lostResponseAttempts?: number;
  /** Called after every successful refresh (metrics, tests). */
  onRefresh?: () => void;
  /** Pause between lost-response attempts (tests shorten it). */
  retryDelayMs?: number;
  /**
   * A refresh token from the config (headless set-ups: one issued by the vendor's playground)
   * used only while the ledger holds no connection: it is stored on first use, and from its
   * first refresh on the ledger's rotated token is the one that counts.
   */
  seed?: { refreshToken: string; tenantId: string };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class LedgerTokens implements TokenProvider {
  private readonly key: SecretKey;
  private current?: StoredConnection;
  /** In-process single flight: concurrent callers in this process share one refresh. */
  private inflight?: Promise<string>;

  constructor(
    private readonly client: OAuthClient,
    private readonly ledger: Ledger,
    private readonly options: LedgerTokensOptions = {},
  ) {
    this.key = options.key ?? loadSecretKey();
  }

  private missing(): ConnectorError {
    return new ConnectorError(
      'auth',
      `No ${this.client.label} connection is stored for destination "${this.client.connectionId}": ${reconnectHint(this.client)}`,
      { connector: this.client.kind },
    );
  }

  /** The stored account id (tenant, realm, division) the consent chose. */
  async tenantId(): Promise<string | null> {
    if (!this.current) {
      this.current = await readConnection(this.ledger, this.key, this.client.connectionId);
      if (!this.current && this.options.seed) {
        await this.plantSeed(this.options.seed);
        this.current = await readConnection(this.ledger, this.key, this.client.connectionId);
      }
      if (!this.current) throw this.missing();
    }
    return this.current.tenantId;
  }

  /** Stores the configured refresh token as an expired connection, unless a process already stored one. */
  private async plantSeed(seed: { refreshToken: string; tenantId: string }): Promise<void> {
    const tokenSet: StoredTokenSet = { access_token: '', refresh_token: seed.refreshToken, expires_at: 0 };
    await this.ledger.db
      .insert(connections)
      .values({
        id: this.client.connectionId,
        kind: this.client.kind,
        tenantId: seed.tenantId,
        secret: sealJson(tokenSet, this.key),
        expiresAt: new Date(0).toISOString(),
        version: 1,
      })
      .onConflictDoNothing({ target: connections.id });
  }

  async accessToken(): Promise<string> {
    await this.tenantId();
    const set = this.current!.tokenSet;
    if (set.expires_at - EXPIRY_MARGIN_S <= Date.now() / 1000) return this.refresh(set.access_token);
    return set.access_token;
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
    const id = this.client.connectionId;
    const fresh = await this.ledger.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`hourbridge:connection:${id}`}))`);
      const [row] = await tx.select().from(connections).where(eq(connections.id, id));
      if (!row) throw this.missing();
      const stored = openJson<StoredTokenSet>(row.secret, this.key);
      // Another process refreshed while we waited for the lock: use its token, do not refresh again.
      if (stored.access_token !== stale && stored.expires_at - EXPIRY_MARGIN_S > Date.now() / 1000) {
        return { tokenSet: stored, version: row.version, tenantId: row.tenantId };
      }
      if (!stored.refresh_token) {
        throw new ConnectorError(
          'auth',
          `The stored ${this.client.label} connection for destination "${id}" has no refresh token: ${reconnectHint(this.client)}`,
          { connector: this.client.kind },
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
        .where(and(eq(connections.id, id), eq(connections.version, row.version)))
        .returning({ version: connections.version });
      if (updated.length !== 1)
        throw new ConnectorError('transient', `${this.client.label} connection "${id}" changed during refresh; retrying`, {
          connector: this.client.kind,
        });
      this.options.onRefresh?.();
      return { tokenSet: next, version: row.version + 1, tenantId: row.tenantId };
    });
    // The transaction has committed: the rotated refresh token is durable before we use the new access token.
    this.current = fresh;
    return fresh.tokenSet.access_token;
  }

  private async callRefresh(refreshToken: string): Promise<StoredTokenSet> {
    const attempts = this.options.lostResponseAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        const set = await tokenRequest(this.client, { grant_type: 'refresh_token', refresh_token: refreshToken });
        // Some endpoints do not rotate on every refresh: keep the one we have then.
        return { ...set, refresh_token: set.refresh_token ?? refreshToken };
      } catch (e) {
        // A lost response may mean the vendor already rotated: the old refresh token stays valid
        // for its grace period, so retrying with it is safe.
        if (isTokenEndpointError(e) && e.kind === 'network' && attempt < attempts) {
          await sleep((this.options.retryDelayMs ?? 200) * attempt);
          continue;
        }
        throw tokenFailure(this.client, e, 'refreshing the access token');
      }
    }
  }
}

// ---- the narrow service a connector is given ----------------------------------------------------

/** What a destination may do with stored connections: save one (connect), read its tokens (write). */
export interface ConnectionStore {
  save(input: { id: string; kind: string; tenantId: string; tokenSet: StoredTokenSet }): Promise<void>;
  read(id: string): Promise<StoredConnection | undefined>;
  tokens(client: OAuthClient, options?: Omit<LedgerTokensOptions, 'key'>): LedgerTokens;
}

export function ledgerConnectionStore(ledger: Ledger, key: SecretKey = loadSecretKey()): ConnectionStore {
  return {
    save: (input) => saveConnection(ledger, key, input),
    read: (id) => readConnection(ledger, key, id),
    tokens: (client, options) => new LedgerTokens(client, ledger, { ...options, key }),
  };
}

/** The connection store of a run; a clear config error where there is no ledger to hold tokens. */
export function connectionStoreOf(
  services: { ledger?: Ledger } | undefined,
  client: Pick<OAuthClient, 'kind' | 'label' | 'connectionId'>,
): ConnectionStore {
  if (!services?.ledger) {
    throw new ConnectorError(
      'config',
      `${client.label} destination "${client.connectionId}" keeps its OAuth tokens in the ledger, and this run has none`,
      { connector: client.kind },
    );
  }
  return ledgerConnectionStore(services.ledger);
}
