import axios, { type AxiosInstance, type Method } from 'axios';
import type { Logger } from 'pino';
import type { CheckResult } from '../connectors/contract';
import { ConnectorError } from '../connectors/errors';
import { decideRetry, type RetryPolicy } from './retry';
import { rateLimiterFor, type RateLimiter, type RateLimitPolicy } from './rate-limit';
import { redactUrl, scrubSecrets } from './redact';

export interface HttpClientOptions {
  /** Connector name used in every message, e.g. "harvest". */
  connector: string;
  baseUrl: string;
  headers?: Record<string, string>;
  /** Secret values (tokens, keys) scrubbed from any message this client produces. */
  secrets?: readonly (string | undefined)[];
  /** What to check when the API refuses the credentials, e.g. "HARVEST token, account id, …". */
  authHint: string;
  rateLimit?: Omit<RateLimitPolicy, 'redisUrl'>;
  /** A budget the caller already holds (a destination's shared budget from its services); wins over `rateLimit`. */
  limiter?: RateLimiter;
  /** Shares the rate-limit budget across processes when set (queue runner). */
  redisUrl?: string;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  log?: Logger;
  signal?: AbortSignal;
  /** Injectable for tests; defaults to a real, abortable timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => Date;
}

export interface HttpRequest {
  method?: Method;
  /** Path relative to baseUrl, or an absolute URL on the same origin (pagination links). */
  url: string;
  params?: Record<string, string | number | boolean | undefined>;
  data?: unknown;
  headers?: Record<string, string>;
}

export interface HttpResponse<T> {
  status: number;
  headers: Record<string, unknown>;
  data: T;
  url: string;
}

export interface HttpStats {
  /** Requests sent (including retried ones). */
  calls: number;
  retries: number;
  waitedMs: number;
}

export interface HttpClient {
  request<T>(req: HttpRequest): Promise<HttpResponse<T>>;
  readonly stats: HttpStats;
  readonly baseUrl: string;
  /** Absolute URL of a path or link; throws `config` for a link on a foreign origin. */
  resolve(url: string): string;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function validBaseUrl(connector: string, baseUrl: string): URL {
  try {
    const u = new URL(baseUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
    return u;
  } catch {
    throw new ConnectorError('config', `${connector}: baseUrl ${JSON.stringify(redactUrl(baseUrl))} is not an http(s) URL.`, {
      connector,
    });
  }
}

function headerRecord(headers: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (headers && typeof headers === 'object') {
    const plain =
      typeof (headers as { toJSON?: () => unknown }).toJSON === 'function'
        ? (headers as { toJSON: () => Record<string, unknown> }).toJSON()
        : (headers as Record<string, unknown>);
    for (const [k, v] of Object.entries(plain)) out[k.toLowerCase()] = v;
  }
  return out;
}

/**
 * The shared HTTP layer: one axios instance per connector instance, a per-account rate limiter,
 * and the retry loop driven by `decideRetry`. Every failure leaves as a ConnectorError whose
 * message names the connector and never contains a secret.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  if (!options.baseUrl) {
    throw new ConnectorError('config', `${options.connector}: no baseUrl configured.`, { connector: options.connector });
  }
  const base = validBaseUrl(options.connector, options.baseUrl);
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const wait = options.sleep ?? sleep;
  const now = options.now ?? (() => new Date());
  const scrub = (text: string) => scrubSecrets(text, options.secrets ?? []);
  const limiter: RateLimiter | undefined = options.limiter
    ? options.limiter
    : options.rateLimit
      ? rateLimiterFor({ ...options.rateLimit, ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}) })
      : undefined;
  const instance: AxiosInstance = axios.create({
    baseURL: baseUrl,
    headers: { Accept: 'application/json', ...options.headers },
    timeout: options.timeoutMs ?? 60_000,
    // Status codes are classified by decideRetry, not by axios.
    validateStatus: () => true,
    maxRedirects: 0,
  });
  const stats: HttpStats = { calls: 0, retries: 0, waitedMs: 0 };

  function resolve(url: string): string {
    if (/^https?:\/\//i.test(url)) {
      const u = new URL(url);
      // Credentials go only to the configured origin, whatever a pagination link says.
      if (u.origin !== base.origin) {
        throw new ConnectorError(
          'permanent',
          `${options.connector}: refusing to follow a link to ${u.origin}, which is not the configured baseUrl ${base.origin}.`,
          { connector: options.connector },
        );
      }
      return u.toString();
    }
    return `${baseUrl}/${url.replace(/^\/+/, '')}`;
  }

  async function request<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const method = (req.method ?? 'GET').toUpperCase() as Method;
    const url = resolve(req.url);
    const shown = `${method} ${redactUrl(new URL(url).pathname)}`;
    for (let attempt = 1; ; attempt++) {
      options.signal?.throwIfAborted();
      if (limiter) await limiter.acquire(options.signal);
      stats.calls++;
      const started = Date.now();
      let status: number | undefined;
      let headers: Record<string, unknown> = {};
      let error: unknown;
      try {
        const res = await instance.request<T>({
          method,
          url,
          params: req.params,
          data: req.data,
          headers: req.headers,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        status = res.status;
        headers = headerRecord(res.headers);
        if (status >= 200 && status < 300) {
          options.log?.debug(
            { connector: options.connector, method, url: redactUrl(url), status, ms: Date.now() - started },
            'http request',
          );
          return { status, headers, data: res.data, url };
        }
      } catch (err) {
        if (options.signal?.aborted) throw err;
        error = err;
      }
      const decision = decideRetry({
        status,
        headers,
        error,
        attempt,
        now: now(),
        connector: options.connector,
        authHint: options.authHint,
        what: shown,
        policy: options.retry,
      });
      options.log?.debug(
        {
          connector: options.connector,
          method,
          url: redactUrl(url),
          status,
          code: (error as { code?: string } | undefined)?.code,
          attempt,
          decision: decision.action,
          ...(decision.action === 'retry' ? { waitMs: decision.waitMs } : { category: decision.category }),
        },
        'http request failed',
      );
      if (decision.action === 'fail') {
        throw new ConnectorError(decision.category, scrub(decision.message), {
          connector: options.connector,
          ...(status !== undefined ? { status } : {}),
          ...(decision.retryAfterMs !== undefined ? { retryAfterMs: decision.retryAfterMs } : {}),
        });
      }
      stats.retries++;
      stats.waitedMs += decision.waitMs;
      await wait(decision.waitMs, options.signal);
    }
  }

  return { request, stats, baseUrl, resolve };
}

/** Turns any error into a ConnectorError without leaking secrets (for check() and read()). */
export function asConnectorError(connector: string, err: unknown, secrets: readonly (string | undefined)[] = []): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ConnectorError('permanent', scrubSecrets(`${connector}: ${message}`, secrets), { connector });
}

/**
 * A connector's `check`: run one cheap authenticated call; success is its message, any failure
 * becomes a classified CheckResult (auth on 401/403, …) with secrets scrubbed.
 */
export async function checkWith(
  connector: string,
  secrets: readonly (string | undefined)[],
  probe: () => Promise<string>,
): Promise<CheckResult> {
  try {
    return { ok: true, message: `${connector}: ${await probe()}` };
  } catch (err) {
    const e = asConnectorError(connector, err, secrets);
    return { ok: false, category: e.category, message: e.message };
  }
}
