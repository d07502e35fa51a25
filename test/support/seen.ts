import { afterEach } from '@jest/globals';
import { SeenKeys } from '../../src/ledger/entries.repository';

const runs = new Map<string, SeenKeys>();
// A run name means one run within one test: the next test starts with none.
afterEach(() => runs.clear());

/** The keys read in one (test) run, by run name: what a pull keeps in memory between its pages and its reconciliation. */
export function seenOf(run: string): SeenKeys {
  let seen = runs.get(run);
  if (!seen) {
    seen = new SeenKeys();
    runs.set(run, seen);
  }
  return seen;
}
