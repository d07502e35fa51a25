import { Redis } from 'ioredis';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export function resolveRedisUrl(configured?: string): string {
  return configured || process.env.REDIS_URL || DEFAULT_REDIS_URL;
}

/**
 * An ioredis connection as BullMQ needs it: `maxRetriesPerRequest: null` so a command waits out
 * a Redis restart instead of failing the worker (BullMQ docs, "going to production"), and a
 * capped reconnect back-off so a worker comes back within seconds of Redis returning.
 */
export function createRedis(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(200 * times, 2000),
  });
}

/** Redis URL without its password, for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://(unparseable url)';
  }
}
