import { ConnectorError } from '../connectors/errors';
import { decideRetry, type RetryPolicy } from './retry';
import { sleep } from './client';
import { scrubSecrets } from './redact';
import type { RateLimiter } from './rate-limit';

/**
 * The retry loop for calls made through a vendor SDK (googleapis) rather than the axios client:
 * the same `decideRetry`, the same ConnectorError categories, the same secret scrubbing.
 */
export interface RetryLoopOptions {
  connector: string;
  authHint: string;
  what: string;
  policy?: Partial<RetryPolicy>;
  secrets?: readonly (string | undefined)[];
  limiter?: RateLimiter;
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Pulls status and lower-cased headers out of the SDK's error (undefined status = network error). */
  describe: (err: unknown) => { status?: number; headers?: Record<string, unknown> };
  onCall?: () => void;
}

export async function withRetries<T>(fn: () => Promise<T>, o: RetryLoopOptions): Promise<T> {
  const wait = o.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    o.signal?.throwIfAborted();
    if (o.limiter) await o.limiter.acquire(o.signal);
    o.onCall?.();
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ConnectorError) throw err;
      const { status, headers } = o.describe(err);
      const d = decideRetry({
        status,
        headers,
        error: err,
        attempt,
        now: new Date(),
        connector: o.connector,
        authHint: o.authHint,
        what: o.what,
        policy: o.policy,
      });
      if (d.action === 'fail') {
        throw new ConnectorError(d.category, scrubSecrets(d.message, o.secrets ?? []), {
          connector: o.connector,
          ...(status !== undefined ? { status } : {}),
          ...(d.retryAfterMs !== undefined ? { retryAfterMs: d.retryAfterMs } : {}),
        });
      }
      await wait(d.waitMs, o.signal);
    }
  }
}
