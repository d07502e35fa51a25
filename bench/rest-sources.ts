/*
 * The declarative REST source's part of `npm run bench:sources`: the shipped Everhour and
 * Productive examples (config/examples/rest-*.yaml, at their own page sizes) sync BENCH_REST_ENTRIES
 * (default 20,500) generated records from their local fakes. Reported per example: listing calls of
 * the first sync vs the minimum ⌈N / page⌉ (the last page is short, so no empty page is needed),
 * entries/s of read + map, and the calls of the next run (an unchanged source: the re-listed
 * window, plus one updated-since call where the API has that filter).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../src/config/loader';
import type { ConnectorContext, Cursor } from '../src/connectors/contract';
import { restSource } from '../connectors/rest/index';
import { RestConfigSchema, type RestConfig } from '../connectors/rest/config.schema';
import { everhourRecord, startEverhourFake } from '../test/fakes/everhour-server';
import { productiveEntry, startProductiveFake } from '../test/fakes/productive-server';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = pino({ level: 'warn' });

export interface RestBenchRow {
  example: string;
  entries: number;
  pageSize: number;
  calls: number;
  minimumCalls: number;
  callsVsMinimum: number;
  entriesPerSec: number;
  nextRunCalls: number;
  nextRunWindowEntries: number;
}

function example(file: string, env: Record<string, string>, baseUrl: string): RestConfig {
  const loaded = loadConfig(path.join(ROOT, 'config', 'examples', file), { ...process.env, ...env });
  const source = loaded.sources[0] as unknown as RestConfig;
  // No client-side budget here: the fakes do not limit, and the figure is calls, not waiting.
  return RestConfigSchema.parse({ ...source, baseUrl, rateLimit: { requests: 1e6, perSeconds: 1 } });
}

async function sync(config: RestConfig, cursors: Record<string, Cursor | undefined>) {
  const ctx: ConnectorContext = { log, now: new Date(), configDir: '.' };
  let entries = 0;
  let last: Cursor | null = null;
  const t0 = performance.now();
  for await (const page of restSource.read(config, { cursors }, ctx)) {
    for (const r of page.records) if (restSource.map(r, config, ctx).kind === 'entry') entries++;
    last = page.cursor;
  }
  return { entries, ms: performance.now() - t0, cursors: last ? { records: last } : {} };
}

export async function benchRestExamples(n: number): Promise<RestBenchRow[]> {
  const rows: RestBenchRow[] = [];
  // Dated over the last 300 days: inside the first sync's history, a tenth of them in the window.
  const day = (i: number) => 1 + (i % 300);

  const key = 'FAKE-BENCH-EVERHOUR';
  const everhour = await startEverhourFake(
    key,
    Array.from({ length: n }, (_, i) => everhourRecord(i, day(i))),
  );
  try {
    const config = example('rest-everhour.yaml', { EVERHOUR_API_KEY: key }, everhour.baseUrl);
    rows.push(
      await measure(
        'everhour',
        config,
        n,
        () => everhour.stats.listing,
        (from) => everhour.records.filter((r) => r.date >= from).length,
      ),
    );
  } finally {
    await everhour.close();
  }

  const token = 'FAKE-BENCH-PRODUCTIVE';
  const productive = await startProductiveFake(
    token,
    '1',
    Array.from({ length: n }, (_, i) => productiveEntry(i, day(i))),
  );
  try {
    const config = example('rest-productive.yaml', { PRODUCTIVE_API_TOKEN: token, PRODUCTIVE_ORG_ID: '1' }, `${productive.baseUrl}/api/v2`);
    rows.push(
      await measure(
        'productive',
        config,
        n,
        () => productive.stats.listing,
        (from) => productive.records.filter((r) => r.attributes.date >= from).length,
      ),
    );
  } finally {
    await productive.close();
  }
  return rows;
}

async function measure(
  name: string,
  config: RestConfig,
  n: number,
  listing: () => number,
  inWindow: (from: string) => number,
): Promise<RestBenchRow> {
  const size = config.pagination.type === 'page' ? config.pagination.size : 1;
  const before = listing();
  const first = await sync(config, {});
  const calls = listing() - before;
  const minimumCalls = Math.ceil(n / size);
  const mid = listing();
  await sync(config, first.cursors);
  const from = new Date(Date.now() - (config.reconcileDays - 1) * 86_400_000).toISOString().slice(0, 10);
  return {
    example: name,
    entries: first.entries,
    pageSize: size,
    calls,
    minimumCalls,
    callsVsMinimum: Number((calls / minimumCalls).toFixed(4)),
    entriesPerSec: Math.round(first.entries / (first.ms / 1000)),
    nextRunCalls: listing() - mid,
    nextRunWindowEntries: inWindow(from),
  };
}
