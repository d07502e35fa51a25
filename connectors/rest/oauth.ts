import { createHash } from 'node:crypto';
import type { ConnectorContext } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { createHttpClient } from '../../src/http/client';
import { retryPolicy } from '../../src/http/settings';
import type { AuthConfig, RestConfig } from './config.schema';

type OAuth2 = Extract<AuthConfig, { type: 'oauth2' }>;

interface Cached {
  token: string;
  /** Epoch ms after which the token is fetched again (its expiry minus a margin). */
  renewAt: number;
}

/**
 * Tokens by (token URL, client, scope, audience, secret): every read of this process reuses a
 * live token instead of asking the token server each run. Held in memory only, never in the
 * ledger, a cursor or a job.
 */
const cache = new Map<string, Cached>();
const inFlight = new Map<string, Promise<Cached>>();

/** Forgets every cached token (tests). */
export function clearOAuthTokens(): void {
  cache.clear();
  inFlight.clear();
}

interface TokenResponse {
  access_token?: unknown;
  token_type?: unknown;
  expires_in?: unknown;
}

/**
 * OAuth 2.0 client-credentials grant (RFC 6749 §4.4): POST grant_type=client_credentials to the
 * token endpoint, the client authenticated by HTTP Basic (§2.3.1) or in the form body. One POST
 * with a form body is all the grant is; it goes through the shared HTTP layer (retries,
 * classification, scrubbing), so no OAuth library is needed for it.
 */
export class OAuthTokens {
  private readonly key: string;

  constructor(
    private readonly auth: OAuth2,
    private readonly config: RestConfig,
    private readonly ctx: ConnectorContext,
    /** The source's secret list: issued tokens are added, so they are scrubbed like the secret. */
    private readonly secrets: string[],
    private readonly now: () => Date,
  ) {
    const secretHash = createHash('sha256').update(auth.secret).digest('base64url');
    this.key = [auth.tokenUrl, auth.clientId, auth.scope ?? '', auth.audience ?? '', secretHash].join('\u001f');
  }

  async get(): Promise<string> {
    const hit = cache.get(this.key);
    if (hit && hit.renewAt > this.now().getTime()) {
      if (!this.secrets.includes(hit.token)) this.secrets.push(hit.token);
      return hit.token;
    }
    let pending = inFlight.get(this.key);
    if (!pending) {
      pending = this.fetch().finally(() => inFlight.delete(this.key));
      inFlight.set(this.key, pending);
    }
    return (await pending).token;
  }

  invalidate(): void {
    cache.delete(this.key);
  }

  private async fetch(): Promise<Cached> {
    const who = `rest (${this.config.id})`;
    const url = new URL(this.auth.tokenUrl);
    const http = createHttpClient({
      connector: who,
      baseUrl: url.origin,
      secrets: this.secrets,
      authHint: 'auth.clientId, the client secret in auth.secret, auth.tokenUrl and auth.scope (the token endpoint refused them)',
      retry: retryPolicy(this.config.retry),
      log: this.ctx.log,
      ...(this.ctx.signal ? { signal: this.ctx.signal } : {}),
    });
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.auth.scope) form.set('scope', this.auth.scope);
    if (this.auth.audience) form.set('audience', this.auth.audience);
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (this.auth.clientAuth === 'basic') {
      // RFC 6749 §2.3.1: client id and secret are form-urlencoded before the Basic encoding.
      const basic = Buffer.from(`${encodeURIComponent(this.auth.clientId)}:${encodeURIComponent(this.auth.secret)}`).toString('base64');
      this.secrets.push(basic);
      headers.Authorization = `Basic ${basic}`;
    } else {
      form.set('client_id', this.auth.clientId);
      form.set('client_secret', this.auth.secret);
    }
    const started = this.now().getTime();
    const res = await http.request<TokenResponse>({ method: 'POST', url: url.toString(), data: form.toString(), headers });
    const body = res.data ?? {};
    if (typeof body.access_token !== 'string' || body.access_token === '') {
      throw new ConnectorError('auth', `${who}: the token endpoint answered without an access_token; check auth.tokenUrl.`, {
        connector: who,
      });
    }
    if (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer') {
      throw new ConnectorError(
        'config',
        `${who}: the token endpoint issued a "${body.token_type}" token; only bearer tokens are supported.`,
        {
          connector: who,
        },
      );
    }
    this.secrets.push(body.access_token);
    const expiresIn = Number(body.expires_in);
    // No expires_in (RFC 6749 §5.1 makes it optional): keep it an hour, a 401 fetches a new one.
    const lifeMs = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : 3_600_000;
    const margin = Math.min(60_000, lifeMs / 10);
    const cached = { token: body.access_token, renewAt: started + lifeMs - margin };
    cache.set(this.key, cached);
    this.ctx.log.debug({ source: this.config.id, expiresInS: Math.round(lifeMs / 1000) }, 'rest: OAuth access token issued');
    return cached;
  }
}
