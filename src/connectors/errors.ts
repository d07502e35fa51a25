/**
 * Every failure that crosses a connector boundary is classified once, here. Only `transient`
 * and `rate_limited` are worth retrying; the others need a person (config, auth) or will
 * never succeed (permanent).
 */
export type FailureCategory = 'config' | 'auth' | 'rate_limited' | 'transient' | 'permanent';

export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';
  constructor(
    readonly category: FailureCategory,
    message: string,
    readonly details: {
      connector?: string;
      status?: number;
      /** Milliseconds to wait before the next attempt (from Retry-After or a reset header). */
      retryAfterMs?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  get retryable(): boolean {
    return this.category === 'transient' || this.category === 'rate_limited';
  }
}

export function isConnectorError(err: unknown): err is ConnectorError {
  return err instanceof ConnectorError;
}

/**
 * A failure of one configured connector during a run, naming it, so the run's caller can say
 * where it happened (the `--json` error document's `where`). The message is the failure's own.
 */
export class ConnectorRunError extends Error {
  override readonly name = 'ConnectorRunError';
  constructor(
    readonly role: 'source' | 'destination',
    /** Configured id of the source or destination. */
    readonly id: string,
    /** Connector kind, e.g. `csv`, `harvest`. */
    readonly kind: string,
    readonly failure: unknown,
  ) {
    super(failure instanceof Error ? failure.message : String(failure), { cause: failure });
  }

  get category(): FailureCategory {
    return this.failure instanceof ConnectorError ? this.failure.category : 'permanent';
  }
}
