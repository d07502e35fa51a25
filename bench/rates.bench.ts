/*
 * npm run bench:rates — prices 1,000,000 generated entries against the Dutch-style card and,
 * in the same run and on the same entries, against its base rate only. Entries are generated
 * in chunks and lines are consumed (counted and summed) chunk by chunk, so memory stays flat.
 * Last line: one JSON object with the figures.
 */
import Table from 'cli-table3';
import { parse } from 'yaml';
import { ClientSchema } from '../src/config/client.schema';
import type { TimeEntry } from '../src/domain/time-entry';
import { compileRates, ratesConfigSchema, type CompiledRates, type PricingInput } from '../src/rates';
import { DUTCH, DUTCH_BASE_ONLY } from '../test/rates/cards';

const TOTAL = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const CHUNK = 10_000;
const ZONE = 'Europe/Amsterdam';
const client = ClientSchema.parse({ id: 'acme', name: 'ACME', currency: 'EUR', timeZone: ZONE, destination: 'files' });
const pricingClient = { id: client.id, currency: client.currency, timeZone: client.timeZone };

function compile(yaml: string): CompiledRates {
  const cfg = ratesConfigSchema.parse((parse(yaml) as { rates: unknown }).rates);
  const { rates, issues } = compileRates(cfg, [client]);
  if (issues.length) throw new Error(JSON.stringify(issues));
  return rates;
}

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;

/** Deterministic pseudo-random shifts over 2026: 2–12 h, any start minute in 15-min steps, 10 % date-only. */
function chunk(from: number, n: number): PricingInput[] {
  const out: PricingInput[] = new Array(n);
  for (let k = 0; k < n; k++) {
    const i = from + k;
    const r = Math.imul(i ^ 0x9e3779b9, 2654435761) >>> 0;
    const start = T0 + (r % (365 * 96)) * 15 * MIN;
    const len = (120 + ((r >>> 8) % 41) * 15) * MIN;
    const dateOnly = r % 10 === 0;
    const entry: TimeEntry = {
      sourceId: 'bench',
      externalId: `b${i}`,
      worker: { name: `worker-${i % 500}` },
      client: 'ACME',
      clientId: 'acme',
      project: `project-${i % 40}`,
      tags: [],
      date: new Date(start).toISOString().slice(0, 10),
      start: dateOnly ? undefined : new Date(start).toISOString(),
      end: dateOnly ? undefined : new Date(start + len).toISOString(),
      durationSeconds: len / 1000,
      breakSeconds: (r >>> 4) % 3 === 0 ? 1800 : 0,
      timeZone: ZONE,
      billable: true,
      approved: true,
      billedAtSource: false,
      extras: [],
      provenance: { fetchedAt: '2026-12-31T00:00:00Z' },
    };
    out[k] = { entry, client: pricingClient };
  }
  return out;
}

const full = compile(DUTCH);
const base = compile(DUTCH_BASE_ONLY);
const stats = {
  full: { ms: 0, lines: 0, cents: 0 },
  base: { ms: 0, lines: 0, cents: 0 },
};
let peakRss = process.memoryUsage().rss;

function run(rates: CompiledRates, inputs: PricingInput[], s: { ms: number; lines: number; cents: number }) {
  const t = performance.now();
  const outcomes = rates.price(inputs);
  s.ms += performance.now() - t;
  for (const o of outcomes) {
    if (!o.ok) throw new Error(o.reason);
    s.lines += o.lines.length;
    for (const l of o.lines) s.cents += Number(l.amount);
  }
}

// Warm-up (JIT, zone tables) on a small chunk, not counted.
run(full, chunk(TOTAL, 2000), { ms: 0, lines: 0, cents: 0 });
run(base, chunk(TOTAL, 2000), { ms: 0, lines: 0, cents: 0 });

for (let from = 0, n = 0; from < TOTAL; from += CHUNK, n++) {
  const inputs = chunk(from, Math.min(CHUNK, TOTAL - from));
  // Alternate which runs first so neither benefits systematically from a warm cache or GC timing.
  if (n % 2 === 0) {
    run(full, inputs, stats.full);
    run(base, inputs, stats.base);
  } else {
    run(base, inputs, stats.base);
    run(full, inputs, stats.full);
  }
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}

const perSec = (ms: number) => Math.round(TOTAL / (ms / 1000));
const fullVsBase = Number((stats.full.ms / stats.base.ms).toFixed(2));
const peakRssMb = Math.round(Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 1024 / 1024);

const table = new Table({ head: ['run', 'entries', 'lines', 'seconds', 'entries/s', 'amount total'] });
table.push(
  ['Dutch card (full)', TOTAL, stats.full.lines, (stats.full.ms / 1000).toFixed(2), perSec(stats.full.ms), stats.full.cents.toFixed(0)],
  ['base rate only', TOTAL, stats.base.lines, (stats.base.ms / 1000).toFixed(2), perSec(stats.base.ms), stats.base.cents.toFixed(0)],
);
console.log(table.toString());
console.log(`full / base cost ratio: ${fullVsBase} (goal ≤ 3), peak RSS ${peakRssMb} MB`);
console.log(
  JSON.stringify({
    entries: TOTAL,
    fullEntriesPerSec: perSec(stats.full.ms),
    baseEntriesPerSec: perSec(stats.base.ms),
    fullLines: stats.full.lines,
    baseLines: stats.base.lines,
    fullVsBase,
    peakRssMb,
  }),
);
