import type { TimeEntry } from '../domain/time-entry';
import type { BilledLine, RatedLine } from '../domain/rated-line';
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
  /**
   * Whether a client's entries are priced with their neighbours (a worker's other entries around
   * the same day and week, as overtime needs); false: each entry's price depends on it alone, so
   * the caller loads no companions for it.
   */
  pricedWithNeighbours(clientId: string): boolean;
  /** Pure and deterministic: the same inputs, in any order, give the same outcomes. */
  price(inputs: ReadonlyArray<PricingInput>): PricingOutcome[];
  /**
   * Extra lines (kind 'minimum') an invoice needs, e.g. to reach a per-invoice minimum amount.
   * Called by invoice assembly with all rated lines of one client × period.
   */
  invoiceAdjustments?(clientId: string, period: { start: string; end: string }, lines: readonly BilledLine[]): RatedLine[];
  /**
   * Time rounding the invoice assembler must apply (scope 'day': per worker per local date;
   * 'line': per invoice line). Undefined when there is none or the engine rounded per entry.
   */
  quantityRounding?(clientId: string): QuantityRounding | undefined;
}

export interface QuantityRounding {
  scope: 'day' | 'line';
  incrementMinutes: number;
  direction: 'up' | 'down' | 'nearest';
}

export interface CompileResult {
  rates: CompiledRates;
  /** Problems that can be known without data (ties, bad bands, unknown holiday country). */
  issues: ConfigIssue[];
}
