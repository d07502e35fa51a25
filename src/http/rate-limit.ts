import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterQueue, RateLimiterRedis } from 'rate-limiter-flexible';

/**
 * Client-side budget per external account (e.g. Harvest: 100 requests / 15 s per account).
 * rate-limiter-flexible does the counting: in memory for one process, in Redis when the queue
 * runner's processes must share one budget. RateLimiterQueue turns "over budget" into "wait".
 */
export interface RateLimitPolicy {
  /** Budget key: the external account, e.g. "harvest:https://api.harvestapp.com:123456". */
  key: string;
  /** Requests allowed per window. */
  points: number;
  /** Window length in ms. */
  windowMs: number;
  /**
   * Added to the window: the server starts its window when our first request arrives, slightly
   * after we counted it, so an exact window would let one request in just before the server resets.
   */
  marginMs?: number;
  /** Share the budget through Redis (several processes). */
  redisUrl?: string;
}

export interface RateLimiter {
  /** Resolves when one request may be sent. */
  acquire(signal?: AbortSignal): Promise<void>;
}

const limiters = new Map<string, RateLimiter>();
const redisClients = new Map<string, Redis>();

function redisFor(url: string): Redis {
  let client = redisClients.get(url);
  if (!client) {
    client = new Redis(url, { enableOfflineQueue: true, maxRetriesPerRequest: 2, lazyConnect: false });
    // A dead Redis must not crash a read: the error surfaces on the next consume.
    client.on('error', () => undefined);
    redisClients.set(url, client);
  }
  return client;
}

export function marginFor(windowMs: number): number {
  return Math.max(25, Math.min(1000, Math.round(windowMs * 0.05)));
}

/** One limiter per (store, key, budget) in this process, shared by every client of that account. */
export function rateLimiterFor(policy: RateLimitPolicy): RateLimiter {
  const margin = policy.marginMs ?? marginFor(policy.windowMs);
  const id = `${policy.redisUrl ?? 'memory'}|${policy.key}|${policy.points}|${policy.windowMs}|${margin}`;
  const existing = limiters.get(id);
  if (existing) return existing;
  const duration = (policy.windowMs + margin) / 1000;
  // The Redis store counts whole seconds; round up so the shared window is never shorter.
  const flexible = policy.redisUrl
    ? new RateLimiterRedis({
        storeClient: redisFor(policy.redisUrl),
        keyPrefix: 'hourbridge:rl',
        points: policy.points,
        duration: Math.ceil(duration),
      })
    : new RateLimiterMemory({ keyPrefix: 'hourbridge:rl', points: policy.points, duration });
  const queue = new RateLimiterQueue(flexible);
  const limiter: RateLimiter = {
    async acquire(signal) {
      signal?.throwIfAborted();
      await queue.removeTokens(1, policy.key);
    },
  };
  limiters.set(id, limiter);
  return limiter;
}

/** Closes shared Redis connections (process shutdown, tests). */
export async function closeRateLimiters(): Promise<void> {
  limiters.clear();
  const clients = [...redisClients.values()];
  redisClients.clear();
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
}
