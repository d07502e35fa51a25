/*
 * Kimai's part of `npm run bench:sources`: BENCH_KIMAI_ENTRIES (default 20,000) generated
 * timesheets, dated over the last 300 days, served by the local Kimai fake
 * (test/fakes/kimai-server.ts). Reported: timesheet listing calls of the first sync (all
 * history) vs the minimum ⌈N / pageSize⌉, entries/s of read + map, and the calls of the next run
 * of an unchanged source (the re-listed reconcile window plus the modified_after listing).
 */
import { DateTime } from 'luxon';
import pino from 'pino';
import type { ConnectorContext, Cursor } from '../src/connectors/contract';
import { kimaiSource } from '../connectors/kimai/index';
import { KimaiConfigSchema, type KimaiConfig } from '../connectors/kimai/config.schema';
import { fakeTimesheet, startKimaiFake, type KimaiFakeEntry } from '../test/fakes/kimai-server';

const log = pino({ level: 'warn' });
const ZONE = 'Europe/Berlin';
const TOKEN = 'FAKE-BENCH-KIMAI-TOKEN';

export interface KimaiBenchRow {
  entries: number;
  pageSize: number;
  calls: number;
  minimumCalls: number;
  callsVsMinimum: number;
  entriesPerSec: number;
  nextRunCalls: number;
  nextRunWindowEntries: number;
}

/** Timesheets of 20 people over the day, 30 min to 6 h each. */
function timesheet(i: number, daysAgo: number): KimaiFakeEntry {
  const begin = DateTime.now()
    .setZone(ZONE)
    .minus({ days: daysAgo })
    .set({ hour: 8 + (i % 8), minute: 0, second: 0, millisecond: 0 });
  return fakeTimesheet(900 + i, begin, 1800 + (i % 12) * 900, ZONE, {
    user: { id: 1 + (i % 20), username: `user${i % 20}`, alias: `Person ${i % 20}` },
  });
}

async function sync(config: KimaiConfig, cursors: Record<string, Cursor | undefined>) {
  const ctx: ConnectorContext = { log, now: new Date(), configDir: '.' };
  let entries = 0;
  const next: Record<string, Cursor | undefined> = { ...cursors };
  const t0 = performance.now();
  for await (const page of kimaiSource.read(config, { cursors }, ctx)) {
    for (const r of page.records) if (kimaiSource.map(r, config, ctx).kind === 'entry') entries++;
    if (page.cursor) next[page.stream] = page.cursor;
  }
  return { entries, ms: performance.now() - t0, cursors: next };
}

export async function benchKimai(n: number): Promise<KimaiBenchRow> {
  const fake = await startKimaiFake({
    token: TOKEN,
    user: { id: 1, username: 'bench', alias: 'Bench', timezone: ZONE } as never,
    timeZone: ZONE,
    entries: Array.from({ length: n }, (_, i) => timesheet(i, 1 + (i % 300))),
  });
  try {
    // No client-side budget: the fake does not limit, and the figure is calls, not waiting.
    const config = KimaiConfigSchema.parse({
      id: 'kimai-bench',
      kind: 'kimai',
      baseUrl: fake.baseUrl,
      token: TOKEN,
      timeZone: ZONE,
      currency: 'EUR',
      pageSize: 500,
      rateLimit: { requests: 1_000_000, perSeconds: 1 },
    });
    const first = await sync(config, {});
    const calls = fake.stats.listing;
    const minimumCalls = Math.ceil(n / config.pageSize);
    await sync(config, first.cursors);
    const from = DateTime.now().setZone(ZONE).minus({ days: config.reconcileDays });
    return {
      entries: first.entries,
      pageSize: config.pageSize,
      calls,
      minimumCalls,
      callsVsMinimum: Number((calls / minimumCalls).toFixed(4)),
      entriesPerSec: Math.round(first.entries / (first.ms / 1000)),
      nextRunCalls: fake.stats.listing - calls,
      nextRunWindowEntries: fake.entries.filter((e) => DateTime.fromISO(String(e.begin)) >= from).length,
    };
  } finally {
    await fake.close();
  }
}
