import type { ConnectorContext } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { createHttpClient, sleep, type HttpClient, type HttpResponse } from '../../src/http/client';
import { parseRetryAfter } from '../../src/http/retry';
import { retryPolicy } from '../../src/http/settings';
import type { AuthConfig, RestConfig } from './config.schema';
import { OAuthTokens } from './oauth';

/** What a person checks when the API refuses the credentials, by auth type. */
function authHint(auth: AuthConfig): string {
  switch (auth.type) {
    case 'bearer':
      return 'the token in auth.secret, and that it may list the records at request.path';
    case 'basic':
      return 'auth.username and the password in auth.secret';
    case 'apiKey':
      return `the API key in auth.secret, and that the API expects it in the ${auth.in} ${auth.name}`;
    case 'oauth2':
      return 'auth.clientId, the client secret in auth.secret, auth.tokenUrl and auth.scope';
  }
}

export interface RestHttp {
  /** GET a listing page: `url` is request.path or an absolute next-page URL on baseUrl's origin. */
  get(url: string, params: Record<string, string | number | boolean>): Promise<HttpResponse<unknown>>;
  readonly stats: HttpClient['stats'];
  /** Secret values to scrub from anything this source says (the configured secret and issued tokens). */
  readonly secrets: string[];
  /** A next-page URL as it may be kept in a cursor: without a query-string API key. */
  storable(url: string): string;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/**
 * The shared HTTP layer (axios, `decideRetry`, rate-limit budget, secret scrubbing) with this
 * source's authentication on top: static headers for bearer, basic and header API keys; a query
 * parameter added to every request (and stripped from every kept URL) for query API keys; a
 * cached client-credentials token for OAuth 2.0, fetched again when it expires or when the API
 * answers 401 (once per request).
 */
export function restHttp(config: RestConfig, ctx: ConnectorContext, now: () => Date = () => new Date()): RestHttp {
  const who = `rest (${config.id})`;
  const auth = config.auth;
  const secrets: string[] = [auth.secret];
  // Credentials belong in auth.secret; a header that looks like one (X-…-Token, …-Key) is scrubbed
  // from messages too, in case an admin put one there.
  for (const [name, value] of Object.entries(config.request.headers)) if (/token|secret|key|auth|password/i.test(name)) secrets.push(value);
  const headers: Record<string, string> = { Accept: 'application/json', ...config.request.headers };
  if (auth.type === 'bearer') headers.Authorization = `Bearer ${auth.secret}`;
  if (auth.type === 'basic') {
    const basic = Buffer.from(`${auth.username}:${auth.secret}`).toString('base64');
    headers.Authorization = `Basic ${basic}`;
    secrets.push(basic);
  }
  if (auth.type === 'apiKey' && auth.in === 'header') headers[auth.name] = auth.prefix ? `${auth.prefix} ${auth.secret}` : auth.secret;

  const http = createHttpClient({
    connector: who,
    baseUrl: config.baseUrl,
    headers,
    secrets,
    authHint: authHint(auth),
    rateLimit: {
      key: `rest:${originOf(config.baseUrl)}:${config.id}`,
      points: config.rateLimit.requests,
      windowMs: config.rateLimit.perSeconds * 1000,
    },
    ...(ctx.services?.redisUrl ? { redisUrl: ctx.services.redisUrl } : {}),
    retry: { ...retryPolicy(config.retry), resetHeaders: config.rateLimit.resetHeaders },
    log: ctx.log,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    now,
  });
  const tokens = auth.type === 'oauth2' ? new OAuthTokens(auth, config, ctx, secrets, now) : undefined;
  const queryKey = auth.type === 'apiKey' && auth.in === 'query' ? auth.name : undefined;

  function storable(url: string): string {
    if (!queryKey || !/^https?:\/\//i.test(url)) return url;
    const u = new URL(url);
    u.searchParams.delete(queryKey);
    return u.toString();
  }

  /** Epoch ms before which no request is sent: the API said its budget is used up until then. */
  let pauseUntil = 0;
  /** Budget headers of a successful answer: at 0 remaining, the next request waits for the reset the API names. */
  function noteBudget(res: HttpResponse<unknown>): void {
    const rl = config.rateLimit;
    if (!rl.remainingHeader) return;
    const raw = res.headers[rl.remainingHeader.toLowerCase()];
    const remaining = raw === undefined || raw === null || raw === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(remaining) || remaining > 0) return;
    const waitMs = rl.resetHeader ? parseRetryAfter(res.headers[rl.resetHeader.toLowerCase()], now()) : undefined;
    pauseUntil = now().getTime() + Math.min(waitMs ?? rl.perSeconds * 1000, 15 * 60_000);
  }

  async function get(url: string, params: Record<string, string | number | boolean>): Promise<HttpResponse<unknown>> {
    const target = storable(url);
    const query = queryKey ? { ...params, [queryKey]: auth.secret } : params;
    const pause = pauseUntil - now().getTime();
    if (pause > 0) {
      ctx.log.debug({ source: config.id, waitMs: pause }, 'rest: request budget used up; waiting for the reset');
      http.stats.waitedMs += pause;
      await sleep(pause, ctx.signal);
    }
    for (let attempt = 1; ; attempt++) {
      const extra: Record<string, string> = tokens ? { Authorization: `Bearer ${await tokens.get()}` } : {};
      try {
        const res = await http.request<unknown>({ url: target, params: query, headers: extra });
        noteBudget(res);
        return res;
      } catch (err) {
        // An access token can be revoked or expire early: fetch a new one and try once more.
        if (tokens && attempt === 1 && err instanceof ConnectorError && err.details.status === 401) {
          tokens.invalidate();
          continue;
        }
        throw err;
      }
    }
  }

  return { get, stats: http.stats, secrets, storable };
}
