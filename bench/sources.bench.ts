/*
 * npm run bench:sources — syncs BENCH_ENTRIES (default 200,000) generated entries from a local
 * fake Harvest (2,000 per page, 100 requests per window enforced with 429 + Retry-After) and reports:
 *   - API calls made vs the minimum ⌈N / page⌉ + 1 (the +1 is the users call for time zones);
 *   - entries/s of the connector (read + map) vs the fake server's own serving rate, measured in
 *     the same run by a raw paged fetch loop (no limiter, no mapping);
 *   - entries/s through the pull stage into an in-memory PGlite ledger (BENCH_LEDGER_ENTRIES,
 *     default 20,000: the ledger's own write speed is measured by bench:ingest);
 *   - the declarative REST source's shipped examples (Everhour, Productive): calls vs minimum of a
 *     first sync and the calls of the next run (bench/rest-sources.ts; BENCH_REST_ENTRIES, 0: none);
 *   - Kimai: the same figures against its local fake (bench/kimai-source.ts; BENCH_KIMAI_ENTRIES, 0: none).
 * The rate-limit window is scaled down (BENCH_WINDOW_MS, default 3,000 instead of Harvest's
 * 15,000) so the run stays short while still crossing a window. Last line: one JSON object.
 */
import axios from 'axios';
import Table from 'cli-table3';
import pino from 'pino';
import { generatedEntry, startHarvestFake, sampleUser, type HarvestFake } from '../test/fakes/harvest-server';
import { harvestSource } from '../connectors/harvest/index';
import { HarvestConfigSchema, type HarvestConfig } from '../connectors/harvest/config.schema';
import type { ConnectorContext } from '../src/connectors/contract';
import type { HarvestTimeEntriesPage } from '../connectors/harvest/types';
import { closeRateLimiters } from '../src/http/rate-limit';
import { benchRestExamples } from './rest-sources';
import { benchKimai } from './kimai-source';

const N = Number(process.env.BENCH_ENTRIES ?? 200_000);
const LEDGER_N = Number(process.env.BENCH_LEDGER_ENTRIES ?? 20_000);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 3_000);
const PAGE = 2000;
const TOKEN = 'FAKE-BENCH-TOKEN';
const ACCOUNT = '1';
const log = pino({ level: 'warn' });

async function fake(count: number, limited: boolean): Promise<HarvestFake> {
  return startHarvestFake({
    token: TOKEN,
    accountId: ACCOUNT,
    generate: { count, make: (i) => generatedEntry(i) },
    users: Array.from({ length: 20 }, (_, i) => sampleUser(1000 + i, i % 2 ? 'Amsterdam' : 'Pacific Time (US & Canada)')),
    rateLimit: limited ? { requests: 100, windowMs: WINDOW_MS } : { requests: 1e9, windowMs: 1000 },
  });
}

function configFor(f: HarvestFake): HarvestConfig {
  return HarvestConfigSchema.parse({
    id: 'harvest-bench',
    kind: 'harvest',
    baseUrl: f.baseUrl,
    accountId: ACCOUNT,
    token: TOKEN,
    timeZone: 'Europe/Amsterdam',
    currency: 'EUR',
    rateLimit: { requests: 100, perSeconds: WINDOW_MS / 1000 },
  });
}

/** The server's own serving rate: fetch every page, parse it, count entries — nothing else. */
async function rawLoop(f: HarvestFake): Promise<{ entries: number; ms: number }> {
  const headers = { Authorization: `Bearer ${TOKEN}`, 'Harvest-Account-Id': ACCOUNT, 'User-Agent': 'bench' };
  const t0 = performance.now();
  let url: string | null = `${f.baseUrl}/time_entries?per_page=${PAGE}`;
  let entries = 0;
  while (url) {
    const res: { data: HarvestTimeEntriesPage } = await axios.get<HarvestTimeEntriesPage>(url, { headers });
    entries += res.data.time_entries.length;
    url = res.data.links.next;
  }
  return { entries, ms: performance.now() - t0 };
}

async function connectorRun(f: HarvestFake) {
  const config = configFor(f);
  const ctx: ConnectorContext = { log, now: new Date(), configDir: '.' };
  const counts = { entry: 0, skip: 0, invalid: 0, pages: 0 };
  const t0 = performance.now();
  for await (const page of harvestSource.read(config, { cursors: {} }, ctx)) {
    counts.pages++;
    for (const r of page.records) counts[harvestSource.map(r, config, ctx).kind]++;
  }
  return { ...counts, ms: performance.now() - t0 };
}

async function ledgerRun(f: HarvestFake) {
  const [{ openLedger }, { pullSource }, { ClientResolver }, { ClientSchema }] = await Promise.all([
    import('../src/ledger/db'),
    import('../src/stages/pull.stage'),
    import('../src/stages/clients'),
    import('../src/config/client.schema'),
  ]);
  const ledger = await openLedger({ dataDir: 'memory://' });
  try {
    const clients = new ClientResolver(
      Array.from({ length: 7 }, (_, i) =>
        ClientSchema.parse({ id: `client-${i}`, name: `Client ${i}`, currency: 'EUR', timeZone: 'Europe/Amsterdam', destination: 'files' }),
      ),
    );
    const config = configFor(f);
    const t0 = performance.now();
    const summary = await pullSource({
      ledger,
      source: config,
      connector: harvestSource as never,
      clients,
      ctx: { log, now: new Date(), configDir: '.' },
      runId: 'bench',
    });
    return { summary, ms: performance.now() - t0 };
  } finally {
    await ledger.close();
  }
}

const minimum = Math.ceil(N / PAGE) + 1;

const rawFake = await fake(N, false);
const raw = await rawLoop(rawFake);
await rawFake.close();

const limitedFake = await fake(N, true);
const run = await connectorRun(limitedFake);
const calls = limitedFake.stats.requests;
const throttled = limitedFake.stats.throttled;
await limitedFake.close();

let ledger: Awaited<ReturnType<typeof ledgerRun>> | { error: string } | null = null;
if (LEDGER_N > 0) {
  const ledgerFake = await fake(LEDGER_N, true);
  try {
    ledger = await ledgerRun(ledgerFake);
  } catch (err) {
    ledger = { error: (err as Error).message };
  }
  await ledgerFake.close();
}
const REST_N = Number(process.env.BENCH_REST_ENTRIES ?? 20_500);
const rest = REST_N > 0 ? await benchRestExamples(REST_N) : [];
const KIMAI_N = Number(process.env.BENCH_KIMAI_ENTRIES ?? 20_000);
const kimai = KIMAI_N > 0 ? await benchKimai(KIMAI_N) : null;
await closeRateLimiters();

const rawRate = raw.entries / (raw.ms / 1000);
const rate = (run.entry + run.skip + run.invalid) / (run.ms / 1000);
const table = new Table({ head: ['measure', 'value'] });
table.push(
  ['entries served', N.toLocaleString('en')],
  ['page size', PAGE],
  ['rate limit', `100 requests / ${WINDOW_MS} ms (Harvest: / 15,000 ms)`],
  ['API calls made (connector)', calls],
  ['minimum ⌈N/page⌉ + 1', minimum],
  ['429 answers', throttled],
  ['mapped: entry / skip / invalid', `${run.entry} / ${run.skip} / ${run.invalid}`],
  ['raw fetch loop (server rate)', `${Math.round(rawRate).toLocaleString('en')} entries/s (${(raw.ms / 1000).toFixed(2)} s)`],
  [
    'connector read + map',
    `${Math.round(rate).toLocaleString('en')} entries/s (${(run.ms / 1000).toFixed(2)} s, includes rate-limit waits)`,
  ],
  ['connector / server rate', (rate / rawRate).toFixed(2)],
);
if (ledger && 'summary' in ledger) {
  table.push([
    `pull stage into PGlite (${LEDGER_N.toLocaleString('en')} entries)`,
    `${Math.round(ledger.summary.read / (ledger.ms / 1000)).toLocaleString('en')} entries/s (${(ledger.ms / 1000).toFixed(2)} s; inserted ${ledger.summary.inserted}, quarantined ${ledger.summary.quarantined})`,
  ]);
} else if (ledger && 'error' in ledger) {
  table.push(['pull stage into PGlite', `not run: ${ledger.error}`]);
}
for (const r of rest) {
  table.push([
    `rest: ${r.example} example (page ${r.pageSize})`,
    `${r.calls} calls for ${r.entries.toLocaleString('en')} entries (minimum ${r.minimumCalls}: ${r.callsVsMinimum.toFixed(2)}×), ${r.entriesPerSec.toLocaleString('en')} entries/s; next run ${r.nextRunCalls} calls (${r.nextRunWindowEntries} entries in the window)`,
  ]);
}
if (kimai) {
  table.push([
    `kimai (page ${kimai.pageSize})`,
    `${kimai.calls} calls for ${kimai.entries.toLocaleString('en')} entries (minimum ${kimai.minimumCalls}: ${kimai.callsVsMinimum.toFixed(2)}×), ${kimai.entriesPerSec.toLocaleString('en')} entries/s; next run ${kimai.nextRunCalls} calls (${kimai.nextRunWindowEntries} entries in the window)`,
  ]);
}
console.log(table.toString());
console.log(
  JSON.stringify({
    entries: N,
    pageSize: PAGE,
    windowMs: WINDOW_MS,
    calls,
    minimumCalls: minimum,
    callsVsMinimum: Number((calls / minimum).toFixed(4)),
    throttled,
    entriesPerSec: Math.round(rate),
    serverEntriesPerSec: Math.round(rawRate),
    vsServer: Number((rate / rawRate).toFixed(3)),
    ledgerEntries: ledger && 'summary' in ledger ? ledger.summary.read : null,
    ledgerEntriesPerSec: ledger && 'summary' in ledger ? Math.round(ledger.summary.read / (ledger.ms / 1000)) : null,
    rest,
    kimai,
  }),
);
