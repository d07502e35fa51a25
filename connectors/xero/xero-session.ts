import { XeroClient } from 'xero-node';
import type { AccountingApi } from 'xero-node';
import type { Logger } from 'pino';
import { Redis } from 'ioredis';
import { ConnectorError } from '../../src/connectors/errors';
import { decideRetry } from '../../src/http/retry';
import type { Ledger } from '../../src/ledger/db';
import type { XeroConfig } from './config.schema';
import { RateBudget, memoryBudget, numberHeader, sleep } from './rate-budget';
import { tokenProviderFor, type StoredTokensOptions, type TokenProvider } from './token-store';

/**
 * One xero-node client per organisation per run (the SDK keeps the token on the client
 * object), wrapped so that every call goes through the shared rate budget, refreshes a
 * refused access token once, honours 429s, and turns the SDK's JSON-string rejections into a
 * typed error.
 */

export interface XeroFailure {
  /** HTTP status; 0 when no answer arrived (network failure or our timeout). */
  status: number;
  body: unknown;
  headers: Record<string, unknown>;
}

export class XeroCallError extends Error {
  override readonly name = 'XeroCallError';
  constructor(
    readonly label: string,
    readonly failure: XeroFailure,
  ) {
    super(`Xero ${label}: ${describeFailure(failure)}`);
  }
  /** The request may have been applied by Xero even though we have no answer. */
  get uncertain(): boolean {
    const s = this.failure.status;
    return s === 0 || s === 408 || s >= 500;
  }
}

/** xero-node v20 rejects with JSON.stringify({response: {statusCode, body, headers}}) (see ApiError.generateError). */
export function parseSdkRejection(e: unknown): XeroFailure {
  let v: unknown = e;
  if (typeof e === 'string') {
    try {
      v = JSON.parse(e);
    } catch {
      return { status: 0, body: e, headers: {} };
    }
  }
  const r = (
    v as {
      response?: { statusCode?: number; status?: number; body?: unknown; data?: unknown; headers?: Record<string, unknown> };
      body?: unknown;
    }
  )?.response;
  if (r && typeof r === 'object') {
    return { status: r.statusCode ?? r.status ?? 0, body: r.body ?? r.data ?? (v as { body?: unknown }).body, headers: r.headers ?? {} };
  }
  return { status: 0, body: e instanceof Error ? e.message : String(e), headers: {} };
}

/** Xero's own words: the validation messages if there are any, else its Message/Detail/Title. */
export function describeFailure(f: XeroFailure): string {
  const b = f.body as Record<string, unknown> | string | undefined;
  if (f.status === 0) return `no answer (${typeof b === 'string' ? b : 'network error'})`;
  if (b && typeof b === 'object') {
    const elements = (b.Elements ?? b.elements) as Record<string, unknown>[] | undefined;
    const msgs = (elements ?? []).flatMap((el) =>
      ((el.ValidationErrors ?? el.validationErrors ?? []) as { Message?: string; message?: string }[]).map(
        (v) => v.Message ?? v.message ?? '',
      ),
    );
    if (msgs.filter(Boolean).length > 0) return `HTTP ${f.status}: ${msgs.filter(Boolean).join('; ')}`;
    const text = (b.Message ?? b.message ?? b.Detail ?? b.detail ?? b.Title ?? b.title) as string | undefined;
    if (text) return `HTTP ${f.status}: ${text}`;
  }
  return `HTTP ${f.status}`;
}

function lowerCased(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function problemOf(headers: Record<string, unknown>): string {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === 'x-rate-limit-problem') return String(v).toLowerCase();
  return '';
}

export interface SessionOptions {
  log?: Logger;
  signal?: AbortSignal;
  ledger?: Ledger;
  redisUrl?: string;
  tokens?: TokenProvider;
  tokenOptions?: StoredTokensOptions;
}

export interface CallOptions {
  /** Safe to repeat (reads): retry timeouts, network failures and 5xx here. */
  idempotent?: boolean;
}

export class XeroSession {
  readonly client = new XeroClient();
  readonly api: AccountingApi;
  readonly tokens: TokenProvider;
  private budget!: RateBudget;
  private redis?: Redis;
  private tokenInUse?: string;
  readonly counters = { calls: 0, waitedMinute: 0, retriedConcurrent: 0, refreshed: 0 };

  private constructor(
    readonly config: XeroConfig,
    private readonly options: SessionOptions,
  ) {
    this.api = this.client.accountingApi;
    this.api.basePath = config.baseUrl.replace(/\/$/, '');
    this.tokens = options.tokens ?? tokenProviderFor(config, options.ledger, options.tokenOptions);
  }

  static async open(config: XeroConfig, options: SessionOptions = {}): Promise<XeroSession> {
    const s = new XeroSession(config, options);
    const limits = {
      concurrent: config.rateLimits.concurrent,
      callsPerWindow: config.rateLimits.callsPerWindow,
      windowMs: config.rateLimits.windowMs,
      callsPerDay: config.rateLimits.callsPerDay,
    };
    if (options.redisUrl) {
      s.redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: false });
      s.budget = new RateBudget(config.tenantId, limits, s.redis, Math.max(config.requestTimeoutMs * 2, 10_000));
    } else {
      s.budget = memoryBudget(config.tenantId, limits);
    }
    return s;
  }

  async close(): Promise<void> {
    if (this.redis) await this.redis.quit().catch(() => undefined);
  }

  get tenantId(): string {
    return this.config.tenantId;
  }

  private async setToken(): Promise<string> {
    const token = await this.tokens.accessToken();
    if (token !== this.tokenInUse) {
      this.tokenInUse = token;
      this.api.accessToken = token;
    }
    return token;
  }

  /**
   * Run one SDK call under the organisation's budget. 429 minute → wait Retry-After (all
   * processes) and retry; 429 concurrent or naming no problem → wait Retry-After if given, else
   * back off with jitter, and retry; at most `maxAttempts` attempts per call for 429s, then a
   * ConnectorError rate_limited; 429 day → ConnectorError rate_limited with retryAfterMs (the
   * work is parked); 401 → one refresh, then retry.
   */
  async call<T>(
    label: string,
    fn: (api: AccountingApi) => Promise<{ response: { headers?: unknown }; body: T }>,
    opts: CallOptions = {},
  ): Promise<T> {
    let refreshed = false;
    let transientAttempts = 0;
    let rateLimitedAttempts = 0;
    for (;;) {
      const token = await this.setToken();
      const admission = await this.budget.admit(this.options.signal);
      let failure: XeroFailure;
      try {
        this.counters.calls++;
        const result = await withTimeout(fn(this.api), this.config.requestTimeoutMs);
        await this.budget.observe(result.response.headers as Record<string, unknown>);
        return result.body;
      } catch (e) {
        failure = parseSdkRejection(e);
      } finally {
        await admission.release();
      }
      await this.budget.observe(failure.headers);

      if (failure.status === 429) {
        const problem = problemOf(failure.headers);
        if (problem === 'day') {
          const retryAfterS = numberHeader(failure.headers, 'retry-after');
          const waitMs = retryAfterS !== undefined ? retryAfterS * 1000 : 86_400_000;
          await this.budget.blockDay(waitMs);
          throw new ConnectorError(
            'rate_limited',
            `Xero daily call limit reached for organisation ${this.tenantId}; the push is parked for ${Math.ceil(waitMs / 60_000)} min (until the daily window resets)`,
            {
              connector: 'xero',
              status: 429,
              retryAfterMs: waitMs,
            },
          );
        }
        // minute, concurrent, or a 429 that names no problem: the shared retry decision honours
        // Retry-After when given (backoff with jitter otherwise) and caps the attempts, so a
        // throttled organisation is never hammered and never waited on forever.
        const decision = decideRetry({
          status: 429,
          headers: lowerCased(failure.headers),
          attempt: ++rateLimitedAttempts,
          now: new Date(),
          connector: 'xero',
          what: label,
          policy: { maxAttempts: this.config.maxAttempts, baseDelayMs: 200, maxDelayMs: 5_000, maxRetryAfterMs: 15 * 60_000 },
        });
        if (decision.action === 'fail') {
          throw new ConnectorError(
            'rate_limited',
            `${decision.message} (organisation ${this.tenantId}${problem ? `, limit: ${problem}` : ''})`,
            {
              connector: 'xero',
              status: 429,
              retryAfterMs: decision.retryAfterMs ?? 60_000,
            },
          );
        }
        if (problem === 'minute' || problem === 'appminute') {
          this.counters.waitedMinute++;
          this.options.log?.info({ label, waitMs: decision.waitMs }, 'xero minute limit reached; waiting Retry-After');
          await this.budget.blockWindow(decision.waitMs);
        } else {
          this.counters.retriedConcurrent++;
          this.options.log?.info(
            { label, waitMs: decision.waitMs, problem: problem || 'unnamed' },
            'xero answered 429; waiting before retrying',
          );
        }
        await sleep(decision.waitMs, this.options.signal);
        continue;
      }
      if (failure.status === 401 && !refreshed) {
        refreshed = true;
        this.counters.refreshed++;
        await this.tokens.refresh(token);
        continue;
      }
      if (failure.status === 401) {
        throw new ConnectorError(
          'auth',
          `Xero refused the access token for destination "${this.config.id}" even after a refresh (${describeFailure(failure)})`,
          { connector: 'xero', status: 401 },
        );
      }
      if (failure.status === 403) {
        throw new ConnectorError(
          'auth',
          `Xero refused access to organisation ${this.tenantId} (${describeFailure(failure)}): check tenantId and that the app is still connected with the scopes ${this.config.auth.scopes.join(' ')}`,
          {
            connector: 'xero',
            status: 403,
          },
        );
      }
      const err = new XeroCallError(label, failure);
      if (opts.idempotent && err.uncertain && ++transientAttempts < this.config.maxAttempts) {
        await sleep(backoffMs(transientAttempts), this.options.signal);
        continue;
      }
      throw err;
    }
  }
}

export function backoffMs(attempt: number): number {
  return Math.min(200 * 2 ** (attempt - 1), 5_000) * (0.75 + Math.random() * 0.5);
}

/** xero-node gives no per-call timeout option, so the wait is bounded here; a late answer is ignored. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
