import '../fakes/node20-polyfills';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { pullSource } from '../../src/stages/pull.stage';
import { ClientResolver } from '../../src/stages/clients';
import { ClientSchema } from '../../src/config/client.schema';
import { harvestSource } from '../../connectors/harvest/index';
import { HarvestConfigSchema } from '../../connectors/harvest/config.schema';
import { generatedEntry, sampleUser, startHarvestFake, type HarvestFake } from '../fakes/harvest-server';

/**
 * The Harvest connector through the pull stage into a real (embedded) ledger: cursors,
 * reconciliation and resumption as the runtime applies them.
 */
const TOKEN = 'FAKE-HARVEST-TOKEN-LEDGER';
let fake: HarvestFake;
let ledger: Ledger;
const clients = new ClientResolver(
  Array.from({ length: 7 }, (_, i) =>
    ClientSchema.parse({ id: `client-${i}`, name: `Client ${i}`, currency: 'EUR', timeZone: 'Europe/Amsterdam', destination: 'files' }),
  ),
);
const ctx = () => ({ log: pino({ level: 'silent' }), now: new Date(), configDir: '.' });

function seed() {
  const now = Date.now();
  return Array.from({ length: 9 }, (_, i) => {
    const e = generatedEntry(i, now - 12 * 86_400_000);
    e.updated_at = new Date(now - 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return e;
  });
}

async function statuses(): Promise<Record<string, string>> {
  const rows = await ledger.rows<{ external_id: string; status: string }>(
    sql`SELECT external_id, status FROM time_entries WHERE source_id = 'harvest'`,
  );
  return Object.fromEntries(rows.map((r) => [r.external_id, r.status]));
}

describe('harvest source through the pull stage', () => {
  beforeAll(async () => {
    fake = await startHarvestFake({ token: TOKEN, accountId: '9', entries: seed(), users: [sampleUser(1000)] });
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await ledger?.close();
    await fake?.close();
  });

  const config = () =>
    HarvestConfigSchema.parse({
      id: 'harvest',
      kind: 'harvest',
      baseUrl: fake.baseUrl,
      accountId: '9',
      token: TOKEN,
      perPage: 3,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
  const pull = (runId: string) => pullSource({ ledger, source: config(), connector: harvestSource as never, clients, ctx: ctx(), runId });

  it('Given a first sync, then an edit and a deletion, when synced again, then the ledger holds one revision more and one deletion', async () => {
    const first = await pull('run-1');
    expect(first).toMatchObject({ read: 9, inserted: 9, quarantined: 0, deleted: 0 });

    const edited = fake.entries[0]!;
    fake.edit(edited.id, { hours: edited.hours + 2 });
    const gone = fake.entries[4]!;
    fake.remove(gone.id);

    const second = await pull('run-2');
    expect(second).toMatchObject({ updated: 1, deleted: 1, inserted: 0 });
    const s = await statuses();
    expect(s[String(gone.id)]).toBe('deleted');
    expect(Object.values(s).filter((v) => v === 'deleted')).toHaveLength(1);
  });

  it('Given a run that fails mid-listing, when the next run resumes from the committed cursor, then nothing is lost and nothing is wrongly deleted', async () => {
    // Page 1 of the reconciliation window gets through, page 2 keeps failing.
    fake.fail({ status: 503, times: 100, after: 2 });
    await expect(pull('run-3')).rejects.toMatchObject({ category: 'transient' });
    fake.clearFaults();
    const resumed = await pull('run-4');
    // The resumed run saw only the rest of the window: it claims no reconciliation, so the
    // entries of the window's first page (listed by the failed run) are not marked deleted.
    expect(resumed.read).toBe(5);
    expect(resumed.deleted).toBe(0);
    const s = await statuses();
    expect(Object.values(s).filter((v) => v === 'deleted')).toHaveLength(1);
    // A normal run afterwards reconciles the window again, still with one deletion in total.
    const next = await pull('run-5');
    expect(next.deleted).toBe(0);
    expect(next.read).toBe(8);
  });

  it('Given a client whose open two-week period began before a 3-day window, when pulled incrementally, then the pull summary carries the window warning naming that client', async () => {
    const anchor = new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10);
    const fortnightly = new ClientResolver([
      ClientSchema.parse({
        id: 'fortnightly',
        name: 'Client 0',
        currency: 'EUR',
        timeZone: 'Europe/Amsterdam',
        period: { unit: 'two-weeks', anchor },
        destination: 'files',
      }),
    ]);
    const short = HarvestConfigSchema.parse({ ...config(), reconcileDays: 3 });
    const s = await pullSource({
      ledger,
      source: short,
      connector: harvestSource as never,
      clients: fortnightly,
      ctx: ctx(),
      runId: 'run-6',
    });
    expect(s.warnings).toEqual([
      expect.stringMatching(
        new RegExp(`harvest \\(harvest\\): .*fortnightly \\(from ${anchor}\\).*deletions.*reconcileDays: \\d+ or more`),
      ),
    ]);
  });
});
