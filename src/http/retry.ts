import type { FailureCategory } from '../connectors/errors';

/**
 * The one place that decides whether a failed HTTP call is retried, how long to wait, or how it
 * fails. Pure (time and randomness are inputs) so every branch is unit-tested.
 */
export interface RetryPolicy {
  /** Total attempts including the first. */
  maxAttempts: number;
  /** Base of the exponential backoff (attempt 1 → up to base, attempt 2 → up to 2·base, …). */
  baseDelayMs: number;
  /** Cap of one computed backoff. */
  maxDelayMs: number;
  /**
   * Longest server-requested wait (Retry-After) honoured in-process. Longer waits fail as
   * `rate_limited` with `retryAfterMs`, so a queue runner can reschedule instead of sleeping.
   */
  maxRetryAfterMs: number;
  /** Extra response headers holding "seconds until the budget resets" (e.g. Toggl's quota header). */
  resetHeaders: readonly string[];
  /** Added to a server-requested wait, so the next call lands after the reset, not on it. */
  retryAfterPaddingMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 15 * 60_000,
  resetHeaders: [],
  retryAfterPaddingMs: 50,
};

export interface RetryInput {
  /** HTTP status, absent when no response arrived (network error, timeout). */
  status?: number;
  /** Response headers, lower-cased names. */
  headers?: Record<string, unknown>;
  /** The thrown error when no response arrived. */
  error?: unknown;
  /** Attempts made so far, including the one that just failed (≥ 1). */
  attempt: number;
  now: Date;
  /** Connector name for messages, e.g. "harvest". */
  connector: string;
  /** What a person should check when credentials are refused, e.g. "the token and account id". */
  authHint?: string;
  /** Human description of the call, e.g. "GET /v2/time_entries" (already scrubbed). */
  what?: string;
  policy?: Partial<RetryPolicy>;
  /** Uniform [0,1) source for the jitter; Math.random when absent. */
  random?: () => number;
}

export type RetryDecision =
  | { action: 'retry'; waitMs: number; category: 'rate_limited' | 'transient' }
  | { action: 'fail'; category: FailureCategory; message: string; retryAfterMs?: number };

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). Returns ms, or undefined. */
export function parseRetryAfter(value: unknown, now: Date): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw === null) return undefined;
  const text = String(raw).trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/** Exponential backoff with full jitter (a uniform wait in [0, min(cap, base·2^(attempt−1))]). */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'ETIMEOUT',
]);
const CONFIG_CODES = new Set(['ERR_INVALID_URL', 'ERR_MISSING_BASE_URL', 'ERR_BAD_OPTION_VALUE', 'ERR_BAD_OPTION']);

function errorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export function decideRetry(input: RetryInput): RetryDecision {
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...input.policy };
  const random = input.random ?? Math.random;
  const who = input.connector;
  const what = input.what ? `${input.what} ` : '';
  const exhausted = input.attempt >= policy.maxAttempts;
  const headers = input.headers ?? {};

  if (input.status === undefined) {
    const code = errorCode(input.error);
    if (code !== undefined && CONFIG_CODES.has(code)) {
      return {
        action: 'fail',
        category: 'config',
        message: `${who}: ${what}cannot be sent (${code}); check the connector's baseUrl.`,
      };
    }
    if (code === undefined || NETWORK_CODES.has(code) || code.startsWith('E')) {
      if (exhausted) {
        return {
          action: 'fail',
          category: 'transient',
          message: `${who}: ${what}got no response after ${input.attempt} attempts (${code ?? 'network error'}); check that the baseUrl is reachable.`,
        };
      }
      return { action: 'retry', category: 'transient', waitMs: backoffMs(input.attempt, policy, random) };
    }
    return { action: 'fail', category: 'permanent', message: `${who}: ${what}failed (${code}).` };
  }

  const status = input.status;
  if (status >= 200 && status < 400) {
    return { action: 'fail', category: 'permanent', message: `${who}: ${what}returned unexpected HTTP ${status}.` };
  }
  if (status === 401 || status === 403) {
    const hint = input.authHint ?? 'the API token and its permissions';
    const refused = status === 401 ? 'rejected the credentials' : 'denied access';
    return {
      action: 'fail',
      category: 'auth',
      message: `${who}: the API ${refused} (HTTP ${status}) for ${what.trim() || 'the request'}. Check ${hint}.`,
    };
  }
  if (status === 429 || status === 402 || status === 408 || status >= 500) {
    const limited = status === 429 || status === 402;
    const category = limited ? 'rate_limited' : 'transient';
    let serverWait = parseRetryAfter(headers['retry-after'], input.now);
    for (const name of policy.resetHeaders) {
      if (serverWait !== undefined) break;
      serverWait = parseRetryAfter(headers[name.toLowerCase()], input.now);
    }
    if (serverWait !== undefined && serverWait > policy.maxRetryAfterMs) {
      return {
        action: 'fail',
        category,
        retryAfterMs: serverWait,
        message: `${who}: ${what}is rate limited (HTTP ${status}); the API asks to wait ${Math.ceil(serverWait / 1000)} s, longer than this run waits.`,
      };
    }
    if (exhausted) {
      return {
        action: 'fail',
        category,
        ...(serverWait !== undefined ? { retryAfterMs: serverWait } : {}),
        message: limited
          ? `${who}: ${what}is still rate limited (HTTP ${status}) after ${input.attempt} attempts.`
          : `${who}: ${what}failed with HTTP ${status} after ${input.attempt} attempts; the service may be down.`,
      };
    }
    const waitMs = serverWait !== undefined ? serverWait + policy.retryAfterPaddingMs : backoffMs(input.attempt, policy, random);
    return { action: 'retry', category, waitMs };
  }
  return {
    action: 'fail',
    category: 'permanent',
    message: `${who}: ${what}was refused with HTTP ${status}; retrying will not help.`,
  };
}
