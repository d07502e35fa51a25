import axios, { type AxiosInstance, type Method } from 'axios';
import type { Logger } from 'pino';
import { ConnectorError } from '../connectors/errors';
import { decideRetry } from '../http/retry';
import { rateLimiterFor, type RateLimiter } from '../http/rate-limit';
import type { TokenProvider } from './token-store';

/**
 * HTTP for OAuth destinations (QuickBooks Online, Exact Online): a bearer token from the
 * runtime's token store (one refresh on a 401, single-writer across processes), the vendor's
 * per-account budgets (requests per window through rate-limiter-flexible, shared through Redis
 * in the queue runner; concurrent requests per account in this process), 429s waited out as the
 * vendor says (Retry-After or its own reset header), and 5xx / lost answers retried only where
 * a retry cannot duplicate a write (`retrySafe`: reads, and writes the vendor deduplicates).
 * A write that is not retry-safe and got no answer leaves as an `uncertain` ApiCallError, so
 * the connector looks before it writes again.
 */

export interface ApiClientOptions {
  /** Connector kind for messages and errors, e.g. "quickbooks". */
  connector: string;
  label: string;
  baseUrl: string;
  tokens: TokenProvider;
  /** Budget key: the vendor account (realm, division). */
  budgetKey: string;
  requestsPerWindow: number;
  windowMs: number;
  /** A second, longer budget (Exact Online's daily limit). */
  daily?: { requests: number };
  concurrent: number;
  maxAttempts: number;
  timeoutMs: number;
  redisUrl?: string;
  log?: Logger;
  signal?: AbortSignal;
  /** Vendor wait hint on a 429 besides Retry-After, in ms from now (e.g. Exact's X-RateLimit-Minutely-Reset). */
  waitHint?: (headers: Record<string, unknown>, now: Date) => number | undefined;
  /** Every response's headers (budget read-back). */
  onHeaders?: (headers: Record<string, unknown>) => void;
  /** Base of the backoff between retries (tests shorten it). */
  backoffBaseMs?: number;
}

export interface ApiRequest {
  method?: Method;
  /** Path relative to baseUrl. */
  url: string;
  params?: Record<string, string | number | undefined>;
  data?: unknown;
  /** A retry cannot duplicate anything: reads, and writes the vendor deduplicates (QuickBooks requestid). */
  retrySafe: boolean;
  /** Human label, e.g. "create estimate". */
  label: string;
}

export interface ApiResponse<T> {
  status: number;
  data: T;
  headers: Record<string, unknown>;
}

export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  constructor(
    readonly label: string,
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }
  /** The vendor may have applied the request although we have no (good) answer. */
  get uncertain(): boolean {
    return this.status === 0 || this.status === 408 || this.status >= 500;
  }
}

/** In-process counting semaphore, one per vendor account: the vendor's concurrent-request limit. */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(readonly size: number) {}
  async enter(): Promise<void> {
    if (this.active < this.size) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
const gates = new Map<string, Gate>();

function lowerHeaders(h: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (h && typeof h === 'object') {
    const plain = typeof (h as { toJSON?: () => unknown }).toJSON === 'function' ? (h as { toJSON: () => object }).toJSON() : h;
    for (const [k, v] of Object.entries(plain as Record<string, unknown>)) out[k.toLowerCase()] = v;
  }
  return out;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

export class ApiClient {
  private readonly http: AxiosInstance;
  private readonly minute: RateLimiter;
  private readonly day?: RateLimiter;
  private readonly gate: Gate;
  /** Requests sent, 429s seen, refreshes done: for tests and the run summary. */
  readonly stats = { calls: 0, throttled: 0, retries: 0, refreshes: 0 };

  constructor(readonly options: ApiClientOptions) {
    this.http = axios.create({
      baseURL: options.baseUrl.replace(/\/+$/, ''),
      timeout: options.timeoutMs,
      validateStatus: () => true,
      maxRedirects: 0,
      headers: { Accept: 'application/json' },
    });
    const redis = options.redisUrl ? { redisUrl: options.redisUrl } : {};
    this.minute = rateLimiterFor({
      key: `${options.connector}:${options.budgetKey}`,
      points: options.requestsPerWindow,
      windowMs: options.windowMs,
      ...redis,
    });
    if (options.daily) {
      this.day = rateLimiterFor({
        key: `${options.connector}:${options.budgetKey}:day`,
        points: options.daily.requests,
        windowMs: 86_400_000,
        ...redis,
      });
    }
    const gateKey = `${options.connector}:${options.budgetKey}:${options.concurrent}`;
    let gate = gates.get(gateKey);
    if (!gate) {
      gate = new Gate(options.concurrent);
      gates.set(gateKey, gate);
    }
    this.gate = gate;
  }

  async request<T>(req: ApiRequest): Promise<ApiResponse<T>> {
    const o = this.options;
    let token = await o.tokens.accessToken();
    // Two rounds: the first may hand back a token another process refreshed a while ago, which
    // the vendor has since refused too (revoked, or its clock ahead of ours); the second then
    // refreshes for real (the store refreshes whenever the stored token is the refused one).
    let refreshRounds = 0;
    for (let attempt = 1; ; attempt++) {
      o.signal?.throwIfAborted();
      if (this.day) await this.day.acquire(o.signal);
      await this.minute.acquire(o.signal);
      await this.gate.enter();
      let status = 0;
      let headers: Record<string, unknown> = {};
      let body: unknown;
      let error: unknown;
      try {
        this.stats.calls++;
        const res = await this.http.request({
          method: req.method ?? 'GET',
          url: req.url,
          params: req.params,
          data: req.data,
          headers: { Authorization: `Bearer ${token}`, ...(req.data !== undefined ? { 'Content-Type': 'application/json' } : {}) },
          ...(o.signal ? { signal: o.signal } : {}),
        });
        status = res.status;
        headers = lowerHeaders(res.headers);
        body = res.data;
      } catch (e) {
        if (o.signal?.aborted) throw e;
        error = e;
      } finally {
        this.gate.leave();
      }
      if (status > 0) o.onHeaders?.(headers);
      if (status >= 200 && status < 300) return { status, data: body as T, headers };
      if (status === 401 && refreshRounds < 2) {
        // The access token lapsed or was refused: refresh (single writer across processes), then again.
        refreshRounds++;
        this.stats.refreshes++;
        const next = await o.tokens.refresh(token);
        if (next === token) refreshRounds = 2;
        token = next;
        attempt--;
        continue;
      }
      if (status === 401 || status === 403) {
        throw new ConnectorError(
          'auth',
          `${o.label} refused the access token (HTTP ${status}) for ${req.label}; check the app's scopes, or run \`hourbridge connect ${o.connector}\` again`,
          { connector: o.connector, status },
        );
      }
      const unanswered = status === 0 || status === 408 || status >= 500;
      if (status === 429) this.stats.throttled++;
      if (unanswered && !req.retrySafe) {
        throw new ApiCallError(req.label, status, body, `${o.label} ${req.label}: ${status === 0 ? 'no answer' : `HTTP ${status}`}`);
      }
      if (status !== 429 && !unanswered) {
        throw new ApiCallError(req.label, status, body, `${o.label} ${req.label}: HTTP ${status}`);
      }
      const now = new Date();
      const decision = decideRetry({
        status: status === 0 ? undefined : status,
        headers,
        error,
        attempt,
        now,
        connector: o.connector,
        what: req.label,
        policy: { maxAttempts: o.maxAttempts, baseDelayMs: o.backoffBaseMs ?? 500, maxDelayMs: 30_000, maxRetryAfterMs: 120_000 },
      });
      if (decision.action === 'fail') {
        if (status === 429)
          throw new ConnectorError('rate_limited', `${o.label} ${req.label}: ${decision.message}`, {
            connector: o.connector,
            status,
            ...(decision.retryAfterMs !== undefined ? { retryAfterMs: decision.retryAfterMs } : {}),
          });
        throw new ApiCallError(
          req.label,
          status,
          body,
          `${o.label} ${req.label}: ${status === 0 ? 'no answer' : `HTTP ${status}`} after ${attempt} attempts`,
        );
      }
      let wait = decision.waitMs;
      if (status === 429 && headers['retry-after'] === undefined) {
        const hint = o.waitHint?.(headers, now);
        if (hint !== undefined) wait = Math.min(hint + 50, 120_000);
      }
      this.stats.retries++;
      o.log?.debug({ connector: o.connector, call: req.label, status, attempt, waitMs: wait }, 'retrying');
      await sleep(wait, o.signal);
    }
  }
}
