import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { ConnectorError } from '../connectors/errors';

/**
 * One call budget per destination account (a Xero organisation, a Moneybird administration),
 * shared by every process that talks to it: a number of concurrent calls, calls per window, a
 * daily cap. The per-window and per-day counts use rate-limiter-flexible (Redis when the queue
 * runner provides it, in-process memory for the inline runner); the vendor's "remaining" headers
 * (Xero's X-MinLimit-Remaining / X-DayLimit-Remaining, Moneybird's RateLimit-Remaining) pull our
 * counters down when the vendor has seen more calls than we counted (other apps, other
 * processes, clock skew).
 *
 * Moved here from the Xero destination; the Xero scope (connectors/xero/rate-budget.ts) keeps
 * its Redis keys (`hb:xero:…`) and messages.
 */

/** Who the budget is for: names its Redis keys, its messages and the headers it reads. */
export interface BudgetScope {
  /** Key namespace, e.g. "xero" → hb:xero:min, hb:xero:day, hb:xero:conc:<account>. */
  vendor: string;
  /** Human name in messages, e.g. "Xero". */
  label: string;
  /** What the account is called in messages, e.g. "organisation", "administration". */
  account: string;
  /** Lower-case response headers holding the calls left in the window / the day. */
  windowRemainingHeader?: string;
  dayRemainingHeader?: string;
}

export interface BudgetLimits {
  concurrent: number;
  callsPerWindow: number;
  windowMs: number;
  callsPerDay: number;
}

/**
 * Our window is a little longer than the vendor's so that our window k+1 never opens before its
 * window k has closed (request latency would otherwise land early calls in a full window):
 * 2 % of the window, at least 100 ms.
 */
export const WINDOW_SAFETY = 0.02;
export const WINDOW_SAFETY_MIN_MS = 100;
export function paddedWindowMs(windowMs: number): number {
  return windowMs + Math.max(windowMs * WINDOW_SAFETY, WINDOW_SAFETY_MIN_MS);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
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
export { sleep };

interface Semaphore {
  acquire(signal?: AbortSignal): Promise<() => Promise<void>>;
}

/** In-process counting semaphore (inline runner: one process holds the whole budget). */
class MemorySemaphore implements Semaphore {
  private used = 0;
  private waiters: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async acquire(): Promise<() => Promise<void>> {
    while (this.used >= this.limit) await new Promise<void>((r) => this.waiters.push(r));
    this.used++;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      this.used--;
      this.waiters.shift()?.();
    };
  }
}

/**
 * Redis lease semaphore (queue runner: many processes). rate-limiter-flexible has no
 * concurrency primitive, so this is a small sorted set of leases: a slot is a member whose
 * score is its expiry; a crashed holder's lease lapses after `leaseMs` instead of leaking a slot.
 */
const ACQUIRE_LUA = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0`;

class RedisSemaphore implements Semaphore {
  private seq = 0;
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly limit: number,
    private readonly leaseMs: number,
  ) {}
  async acquire(signal?: AbortSignal): Promise<() => Promise<void>> {
    const member = `${process.pid}:${Date.now()}:${++this.seq}:${Math.random()}`;
    for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
      const now = Date.now();
      const ok = await this.redis.eval(
        ACQUIRE_LUA,
        1,
        this.key,
        String(now),
        String(now + this.leaseMs),
        String(this.limit),
        member,
        String(this.leaseMs * 2),
      );
      if (ok === 1) return async () => void (await this.redis.zrem(this.key, member));
      await sleep(wait, signal);
    }
  }
}

export interface Admission {
  release(): Promise<void>;
}

export class RateBudget {
  private readonly minute: RateLimiterAbstract;
  private readonly day: RateLimiterAbstract;
  private readonly slots: Semaphore;
  private readonly redisMode: boolean;

  constructor(
    readonly scope: BudgetScope,
    private readonly orgKey: string,
    readonly limits: BudgetLimits,
    redis?: Redis,
    leaseMs = 120_000,
  ) {
    const v = scope.vendor;
    const windowSec = paddedWindowMs(limits.windowMs) / 1000;
    this.redisMode = redis !== undefined;
    if (redis) {
      // RateLimiterRedis keeps whole seconds: round the window up, never down.
      this.minute = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `hb:${v}:min`,
        points: limits.callsPerWindow,
        duration: Math.ceil(windowSec),
      });
      this.day = new RateLimiterRedis({ storeClient: redis, keyPrefix: `hb:${v}:day`, points: limits.callsPerDay, duration: 86_400 });
      this.slots = new RedisSemaphore(redis, `hb:${v}:conc:${orgKey}`, limits.concurrent, leaseMs);
    } else {
      this.minute = new RateLimiterMemory({ keyPrefix: `hb:${v}:min`, points: limits.callsPerWindow, duration: windowSec });
      this.day = new RateLimiterMemory({ keyPrefix: `hb:${v}:day`, points: limits.callsPerDay, duration: 86_400 });
      this.slots = new MemorySemaphore(limits.concurrent);
    }
  }

  /** Wait for a concurrency slot and a call in the current window; a spent day budget parks the work. */
  async admit(signal?: AbortSignal): Promise<Admission> {
    const release = await this.slots.acquire(signal);
    try {
      try {
        await this.day.consume(this.orgKey);
      } catch (e) {
        if (e instanceof RateLimiterRes) {
          throw new ConnectorError(
            'rate_limited',
            `${this.scope.label} daily call limit for this ${this.scope.account} is used up; the push resumes in ${Math.ceil(e.msBeforeNext / 60_000)} min`,
            {
              connector: this.scope.vendor,
              retryAfterMs: e.msBeforeNext,
            },
          );
        }
        throw e;
      }
      for (;;) {
        try {
          await this.minute.consume(this.orgKey);
          break;
        } catch (e) {
          if (!(e instanceof RateLimiterRes)) throw e;
          await sleep(Math.max(1, e.msBeforeNext), signal);
        }
      }
    } catch (e) {
      await release();
      throw e;
    }
    return { release };
  }

  /** Align our counters with what the vendor says is left. */
  async observe(headers: Record<string, unknown> | undefined): Promise<void> {
    if (!headers) return;
    const { windowRemainingHeader, dayRemainingHeader } = this.scope;
    const minLeft = windowRemainingHeader ? numberHeader(headers, windowRemainingHeader) : undefined;
    const dayLeft = dayRemainingHeader ? numberHeader(headers, dayRemainingHeader) : undefined;
    if (minLeft !== undefined && minLeft === this.limits.callsPerWindow - 1) await this.reanchor();
    if (minLeft !== undefined) await this.pullDown(this.minute, this.limits.callsPerWindow, minLeft, paddedWindowMs(this.limits.windowMs));
    if (dayLeft !== undefined) await this.pullDown(this.day, this.limits.callsPerDay, dayLeft, 86_400_000);
  }

  /**
   * The call just answered opened a new window at the vendor (one call used). Its window began when
   * that call arrived, somewhere between sending and now, and may be later than our window began
   * (a slow first call, a queue). Anchoring at the answer (not at the send) is the safe side: our
   * window is stretched to end a padded window from now, keeping what it has counted, so ours
   * never closes before the vendor's. A window is never shortened.
   */
  private async reanchor(): Promise<void> {
    const res = await this.minute.get(this.orgKey);
    const now = Date.now();
    const end = now + paddedWindowMs(this.limits.windowMs);
    const currentEnd = res && res.msBeforeNext > 0 ? now + res.msBeforeNext : 0;
    if (end <= currentEnd) return;
    const ms = end - now;
    await this.minute.set(this.orgKey, Math.max(res?.consumedPoints ?? 0, 1), this.redisMode ? Math.ceil(ms / 1000) : ms / 1000);
  }

  private async pullDown(limiter: RateLimiterAbstract, points: number, remoteLeft: number, windowMs: number): Promise<void> {
    const res = await limiter.get(this.orgKey);
    const ourLeft = points - (res?.consumedPoints ?? 0);
    if (remoteLeft >= ourLeft) return;
    // `set`, not `penalty`: two processes observing the same header must converge, not add up.
    const msLeft = res && res.msBeforeNext > 0 ? res.msBeforeNext : windowMs;
    const sec = this.redisMode ? Math.max(1, Math.ceil(msLeft / 1000)) : msLeft / 1000;
    await limiter.set(this.orgKey, points - remoteLeft, sec);
  }

  /** The vendor answered 429 for the window: nobody calls this account until Retry-After has passed. */
  async blockWindow(ms: number): Promise<void> {
    await this.minute.block(this.orgKey, Math.max(ms, 1) / 1000);
  }

  async blockDay(ms: number): Promise<void> {
    await this.day.block(this.orgKey, Math.max(Math.ceil(ms / 1000), 1));
  }
}

function numberHeader(headers: Record<string, unknown>, name: string): number | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) {
      const n = Number(Array.isArray(v) ? v[0] : v);
      return Number.isFinite(n) ? n : undefined;
    }
  }
  return undefined;
}
export { numberHeader };

/** In-process budgets are shared by every write in this process, one per vendor and account. */
const memoryBudgets = new Map<string, RateBudget>();

export function memoryBudget(scope: BudgetScope, orgKey: string, limits: BudgetLimits): RateBudget {
  const id = `${scope.vendor}:${orgKey}:${JSON.stringify(limits)}`;
  let b = memoryBudgets.get(id);
  if (!b) {
    b = new RateBudget(scope, orgKey, limits);
    memoryBudgets.set(id, b);
  }
  return b;
}
