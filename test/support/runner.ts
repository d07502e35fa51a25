import { describe, expect, it } from '@jest/globals';

/**
 * Small pieces Jest does not have, used across the suite:
 * - `describeIf(cond)` / `itIf(cond)`: the block or test runs when `cond` is truthy and is
 *   reported as skipped otherwise (`describeUnless` / `itUnless` for the opposite). The
 *   condition is usually a top-level-awaited probe, e.g. `const pgUp = await postgresAvailable()`.
 * - `eventually(read).toBe(x)`: reads a value again until a matcher passes or the time is up,
 *   for state another thread or process settles (a parse thread exiting, a queue draining).
 * - `unreachable()`: a line a test must never get to.
 * - `expectWithMessage(value, message).toBe(x)`: `expect` whose failure starts with `message`
 *   (what the value is, which case of a loop failed).
 */

type DescribeBlock = typeof describe.skip;
type ItBlock = typeof it.skip;

export function describeIf(condition: unknown): DescribeBlock {
  return condition ? describe : describe.skip;
}
export function describeUnless(condition: unknown): DescribeBlock {
  return describeIf(!condition);
}
export function itIf(condition: unknown): ItBlock {
  return condition ? it : it.skip;
}
export function itUnless(condition: unknown): ItBlock {
  return itIf(!condition);
}

/** Fails the test: the code before it was expected to throw or return early. */
export function unreachable(message = 'this line was expected not to be reached'): never {
  throw new Error(message);
}

export interface EventuallyOptions {
  /** How long to keep trying, in ms (default 1000). */
  timeout?: number;
  /** Pause between tries, in ms (default 50). */
  interval?: number;
}

type Matchers = ReturnType<typeof expect>;
type Retried<M> = {
  [K in keyof M as M[K] extends (...args: never[]) => unknown ? K : never]: M[K] extends (...args: infer A) => unknown
    ? (...args: A) => Promise<void>
    : never;
};
export type EventuallyMatchers = Retried<Matchers> & { not: Retried<Matchers['not']> };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `await eventually(() => value, { timeout: 5000 }).toBe(0)`: calls `read` (which may be async)
 * and applies the matcher until it passes; after `timeout` the last matcher failure is thrown,
 * with how long it was tried. Jest has no polling assertion; this is the dozen lines it takes.
 */
export function eventually<T>(read: () => T | Promise<T>, options: EventuallyOptions = {}): EventuallyMatchers {
  const timeout = options.timeout ?? 1000;
  const interval = options.interval ?? 50;
  const retried = (negated: boolean) =>
    new Proxy(
      {},
      {
        get(_target, name) {
          if (name === 'not' && !negated) return retried(true);
          if (typeof name !== 'string') return undefined;
          return async (...args: unknown[]) => {
            const deadline = Date.now() + timeout;
            for (;;) {
              try {
                const base = expect(await read()) as unknown as Record<string, unknown> & { not: Record<string, unknown> };
                const target = negated ? base.not : base;
                const matcher = target[name];
                if (typeof matcher !== 'function') throw new TypeError(`eventually(): ${negated ? 'not.' : ''}${name} is not a matcher`);
                await (matcher as (...a: unknown[]) => unknown).apply(target, args);
                return;
              } catch (error) {
                if (error instanceof TypeError && error.message.startsWith('eventually():')) throw error;
                if (Date.now() >= deadline) {
                  if (error instanceof Error) error.message = `eventually() gave up after ${timeout} ms:\n${error.message}`;
                  throw error;
                }
              }
              await sleep(interval);
            }
          };
        },
      },
    );
  return retried(false) as EventuallyMatchers;
}

/**
 * `expect(value)` whose failures begin with `message`, for assertions in loops and on values
 * whose name alone does not say what went wrong. Works through `.not`, `.resolves`, `.rejects`.
 */
export function expectWithMessage<T>(actual: T, message: string | undefined): ReturnType<typeof expect<T>> {
  const prefix = (error: unknown): never => {
    if (error instanceof Error && message) error.message = `${message}\n\n${error.message}`;
    throw error;
  };
  const wrap = (target: object): object =>
    new Proxy(target, {
      get(obj, name, receiver) {
        const value: unknown = Reflect.get(obj, name, receiver);
        if (name === 'not' || name === 'resolves' || name === 'rejects') return wrap(value as object);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          try {
            const result: unknown = (value as (...a: unknown[]) => unknown).apply(obj, args);
            return result instanceof Promise ? result.catch(prefix) : result;
          } catch (error) {
            return prefix(error);
          }
        };
      },
    });
  return wrap(expect(actual)) as ReturnType<typeof expect<T>>;
}
