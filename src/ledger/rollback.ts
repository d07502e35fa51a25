import type { Ledger } from './db';

class Rollback extends Error {}

/**
 * Run `fn` against a view of the ledger bound to one transaction, then roll it all back: what
 * the stages would do, without keeping any of it (`preview`, and the unbilled report's look at
 * what the next assembly adds).
 */
export async function withRollback<T>(ledger: Ledger, fn: (scoped: Ledger) => Promise<T>): Promise<T> {
  let result: T | undefined;
  try {
    await ledger.transaction(async (tx) => {
      const scoped: Ledger = {
        ...ledger,
        rows: tx.rows.bind(tx),
        // The bulk path uses its own connection, which would escape the rollback.
        bulk: undefined,
        // Inner "transactions" just run inside the outer one.
        transaction: (inner) => inner(tx),
      };
      result = await fn(scoped);
      throw new Rollback('rolled back');
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
  }
  return result as T;
}
