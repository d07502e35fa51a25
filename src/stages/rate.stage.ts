import { DateTime } from 'luxon';
import type { Ledger } from '../ledger/db';
import { sql } from 'drizzle-orm';
import {
  companions,
  savePricing,
  staleEntriesByIds,
  staleGroupKeys,
  stalePricedEntries,
  type EntryRow,
  type PricedEntry,
  type StaleCursor,
} from '../ledger/rated-lines.repository';
import type { CompiledRates, PricingInput } from '../rates/contract';
import type { ClientResolver } from './clients';

export interface RateSummary {
  rated: number;
  excluded: number;
  unpriced: number;
}

/** Overtime counts hours per worker per day/week: price a week either side with the entry. */
const CONTEXT_DAYS = 7;

/**
 * The rate stage: price every entry whose price is stale, in chunks, always handing the engine
 * whole batches (same client, worker and overtime window) so results do not depend on chunking.
 * Entries the engine cannot price are kept, marked `unpriced` with the reason (the quarantine
 * report lists them beside rejected input).
 */
export async function rateStale(args: {
  ledger: Ledger;
  rates: CompiledRates;
  clients: ClientResolver;
  chunkSize?: number;
  onProgress?: (done: number) => void;
}): Promise<RateSummary> {
  const { ledger, rates, clients } = args;
  const chunkSize = args.chunkSize ?? 5000;
  const summary: RateSummary = { rated: 0, excluded: 0, unpriced: 0 };
  let after: StaleCursor | null = null;
  // Without neighbours to price with, chunks follow the table's order (see stalePricedEntries).
  const order = [...clients.byId.keys()].some((id) => rates.pricedWithNeighbours(id)) ? 'grouped' : 'id';
  for (;;) {
    const stale = await stalePricedEntries(ledger, rates.hash, after, chunkSize, order);
    if (stale.length === 0) break;
    after = stale[stale.length - 1]!.cursor;

    await priceChunk(ledger, rates, clients, stale, summary);
    args.onProgress?.(summary.rated + summary.excluded + summary.unpriced);
  }
  return summary;
}

/**
 * Price one chunk of stale entries (with their overtime companions) and save the result.
 * Shared by `rateStale` (keyset chunks) and `rateEntries` (id batches from the queue runner).
 */
async function priceChunk(
  ledger: Ledger,
  rates: CompiledRates,
  clients: ClientResolver,
  stale: EntryRow[],
  summary: RateSummary,
): Promise<void> {
  const windows = new Map<string, { clientId: string; worker: string; from: string; to: string }>();
  for (const row of stale) {
    const e = row.entry;
    if (!e.clientId || !rates.pricedWithNeighbours(e.clientId)) continue;
    const key = `${e.clientId}\u0000${e.worker.name}`;
    const from = DateTime.fromISO(e.date).minus({ days: CONTEXT_DAYS }).toISODate()!;
    const to = DateTime.fromISO(e.date).plus({ days: CONTEXT_DAYS }).toISODate()!;
    const w = windows.get(key);
    if (!w) windows.set(key, { clientId: e.clientId, worker: e.worker.name, from, to });
    else {
      if (from < w.from) w.from = from;
      if (to > w.to) w.to = to;
    }
  }
  const staleIds = new Set(stale.map((r) => r.id));
  const all = new Map<number, EntryRow>(stale.map((r) => [r.id, r]));
  if (windows.size > 0) for (const c of await companions(ledger, [...windows.values()])) if (!all.has(c.id)) all.set(c.id, c);

  const inputs: Array<{ row: EntryRow; input: PricingInput }> = [];
  const priced: PricedEntry[] = [];
  for (const row of all.values()) {
    const e = row.entry;
    const client = e.clientId ? clients.byId.get(e.clientId) : undefined;
    if (!client) {
      if (staleIds.has(row.id)) {
        priced.push({
          id: row.id,
          revision: row.revision,
          status: 'unpriced',
          reason: `client "${e.clientId ?? e.client}" is no longer configured`,
          lines: [],
        });
      }
      continue;
    }
    // Exclusions that are about the entry, not its price: kept and reported, never invoiced.
    if (staleIds.has(row.id)) {
      const reason = e.billedAtSource
        ? 'already billed in the source system'
        : client.requireApproval && e.approved !== true
          ? `not approved (client ${client.id} requires approval)`
          : null;
      if (reason) {
        priced.push({ id: row.id, revision: row.revision, status: 'excluded', reason, lines: [] });
        continue;
      }
    }
    inputs.push({ row, input: { entry: e, client: { id: client.id, currency: client.currency, timeZone: client.timeZone } } });
  }

  // Only batches that contain a stale entry are priced; companions are context.
  const batches = new Map<string, Array<{ row: EntryRow; input: PricingInput }>>();
  for (const item of inputs) {
    const key = rates.batchKey(item.input);
    const list = batches.get(key);
    if (list) list.push(item);
    else batches.set(key, [item]);
  }
  for (const batch of batches.values()) {
    if (!batch.some((b) => staleIds.has(b.row.id))) continue;
    const outcomes = rates.price(batch.map((b) => b.input));
    outcomes.forEach((o, i) => {
      const row = batch[i]!.row;
      // Companions already billed keep their historic price; others are refreshed too.
      if (!staleIds.has(row.id) && (row.status === 'billed' || row.status === 'excluded' || row.status === 'unpriced')) return;
      if (o.ok) {
        priced.push({
          id: row.id,
          revision: row.revision,
          status: o.lines.length > 0 ? 'rated' : 'excluded',
          reason: o.excluded ?? null,
          lines: o.lines,
        });
      } else {
        priced.push({ id: row.id, revision: row.revision, status: 'unpriced', reason: `cannot be priced: ${o.reason}`, lines: [] });
      }
    });
  }
  await savePricing(ledger, priced, rates.hash);
  for (const p of priced) {
    if (!staleIds.has(p.id)) continue;
    if (p.status === 'rated') summary.rated++;
    else if (p.status === 'excluded') summary.excluded++;
    else summary.unpriced++;
  }
}

/**
 * The rate stage for one batch of entry ids (the queue runner's unit of work): the ids still
 * stale are priced exactly as `rateStale` would price them. The batch runs in one transaction
 * holding an advisory lock per (client, worker) — the scope of overtime companions — so two
 * batches that share companions never price the same entry at the same time, and a crash
 * leaves either the whole batch priced or none of it.
 */
export async function rateEntries(args: {
  ledger: Ledger;
  rates: CompiledRates;
  clients: ClientResolver;
  ids: number[];
}): Promise<RateSummary> {
  const { ledger, rates, clients } = args;
  const summary: RateSummary = { rated: 0, excluded: 0, unpriced: 0 };
  if (args.ids.length === 0) return summary;
  return ledger.transaction(async (tx) => {
    const scoped: Ledger = { ...ledger, rows: tx.rows.bind(tx), transaction: (inner) => inner(tx) };
    const groups = await staleGroupKeys(scoped, args.ids);
    for (const key of groups) await tx.rows(sql`SELECT pg_advisory_xact_lock(hashtext(${`hourbridge:rate:${key}`}))`);
    // Re-read under the locks: another batch may have priced some of these as companions.
    const stale = await staleEntriesByIds(scoped, rates.hash, args.ids);
    if (stale.length > 0) await priceChunk(scoped, rates, clients, stale, summary);
    return summary;
  });
}
