import { RateLimitError, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import { ConfigError } from '../config/issues';
import { isConnectorError } from '../connectors/errors';

/**
 * What BullMQ should do with a stage's error. Only `transient` and `rate_limited` failures are
 * worth another attempt; config, auth and permanent ones fail the job at once (kept in the
 * failed list with their reason) instead of burning retries. Unknown errors (a dropped
 * database connection, a Redis blip) are retried: the stages are idempotent.
 */
export type QueueDecision =
  | { action: 'retry'; error: Error }
  | { action: 'fail'; error: UnrecoverableError }
  | { action: 'rate_limit'; delayMs: number; error: Error };

export function decideForQueue(err: unknown): QueueDecision {
  if (err instanceof UnrecoverableError) return { action: 'fail', error: err };
  if (err instanceof RateLimitError || err instanceof WaitingChildrenError) return { action: 'retry', error: err };
  if (isConnectorError(err)) {
    if (err.category === 'rate_limited')
      return { action: 'rate_limit', delayMs: Math.max(1000, err.details.retryAfterMs ?? 60_000), error: err };
    if (err.retryable) return { action: 'retry', error: err };
    return { action: 'fail', error: new UnrecoverableError(`${err.category}: ${err.message}`) };
  }
  if (err instanceof ConfigError) {
    return { action: 'fail', error: new UnrecoverableError(`config: ${err.issues.map((i) => i.message).join('; ')}`) };
  }
  return { action: 'retry', error: err instanceof Error ? err : new Error(String(err)) };
}
