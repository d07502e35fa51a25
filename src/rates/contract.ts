import type { TimeEntry } from '../domain/time-entry';
import type { RatedLine } from '../domain/rated-line';
import type { ConfigIssue } from '../config/issues';

/** What the rate engine needs to know about the client an entry bills to. */
export interface PricingClient {
  id: string;
  currency: string;
  /** IANA zone: weekdays, time bands, holidays and periods are evaluated in it. */
  timeZone: string;
}

export interface PricingInput {
  entry: TimeEntry;
  client: PricingClient;
}

export type PricingOutcome =
  /** Priced. `lines` is empty when the entry is kept but not invoiced (`excluded` says why). */
  | { sourceId: string; externalId: string; ok: true; lines: RatedLine[]; excluded?: string }
  /** Cannot be priced (no rule matches, two rules tie, …): the entry is quarantined with this reason. */
  | { sourceId: string; externalId: string; ok: false; reason: string; field?: string };

export interface CompiledRates {
  /** Hash of everything that affects prices; a change re-prices entries that are not locked on an approved invoice. */
  readonly hash: string;
  /**
   * Entries that must be priced together (overtime counts hours per worker per day/week) share
   * a batch key; the caller always passes whole batches to `price`.
   */
  batchKey(input: PricingInput): string;
  /** Pure and deterministic: the same inputs, in any order, give the same outcomes. */
  price(inputs: ReadonlyArray<PricingInput>): PricingOutcome[];
}

export interface CompileResult {
  rates: CompiledRates;
  /** Problems that can be known without data (ties, bad bands, unknown holiday country). */
  issues: ConfigIssue[];
}
