import '../../test/fakes/node20-polyfills';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { ClientSchema } from '../../src/config/client.schema';
import type { SourceConfig } from '../../src/config/schema';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { quarantineReport } from '../../src/reports/reports';
import { ClientResolver } from '../../src/stages/clients';
import { pullSource } from '../../src/stages/pull.stage';
import type { RestApiFake } from '../../test/fakes/rest-api-server';
import { documentedTimeEntry, productiveEntry, startProductiveFake, type ProductiveTimeEntry } from '../../test/fakes/productive-server';
import { RestConfigSchema } from './config.schema';
import { exampleSource } from './examples';
import { restSource } from './index';

/**
 * The Productive example through the pull stage into a real (embedded) ledger: a record that
 * does not map is quarantined with its pointer, value and what was expected, and the rest of
 * its page is stored; an edit of the billable time alone is a new revision; a deletion in the
 * window is seen on the next run.
 */
const TOKEN = 'FAKE-PRODUCTIVE-TOKEN-LEDGER';
const ORG = '1245';
let fake: RestApiFake<ProductiveTimeEntry>;
let ledger: Ledger;
const clients = new ClientResolver([
  ClientSchema.parse({
    id: 'acme',
    name: 'Acme BV',
    match: ['Acme BV'],
    currency: 'EUR',
    timeZone: 'Europe/Amsterdam',
    destination: 'files',
  }),
]);
const ctx = () => ({ log: pino({ level: 'silent' }), now: new Date(), configDir: '.' });
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  const records = Array.from({ length: 5 }, (_, i) => productiveEntry(i, 2 + i));
  // One bad record in the middle of the first page.
  records.splice(1, 0, {
    ...documentedTimeEntry(daysAgo(3)),
    id: '777',
    attributes: { ...documentedTimeEntry(daysAgo(3)).attributes, billable_time: 'eight' as unknown as number },
  });
  fake = await startProductiveFake(TOKEN, ORG, records);
  ledger = await openLedger({ dataDir: 'memory://' });
});
afterAll(async () => {
  await ledger?.close();
  await fake?.close();
  nock.enableNetConnect();
});

const config = () =>
  RestConfigSchema.parse({
    ...exampleSource('rest-productive.yaml', { PRODUCTIVE_API_TOKEN: TOKEN, PRODUCTIVE_ORG_ID: ORG }, {}),
    baseUrl: `${fake.baseUrl}/api/v2`,
    pagination: { type: 'page', pageParam: 'page[number]', sizeParam: 'page[size]', size: 3, totalPagesPath: '/meta/total_pages' },
    rateLimit: { requests: 1000, perSeconds: 1 },
  });
const pull = (runId: string) =>
  pullSource({ ledger, source: config() as unknown as SourceConfig, connector: restSource as never, clients, ctx: ctx(), runId });

describe('rest source (Productive example) through the pull stage', () => {
  it('Given a page with one record that does not map, when synced, then it alone is quarantined with pointer, value and expectation, and the rest are stored', async () => {
    const first = await pull('run-1');
    expect(first).toMatchObject({ read: 6, inserted: 5, quarantined: 1 });
    const q = await quarantineReport(ledger, 'productive');
    expect(q).toHaveLength(1);
    expect(JSON.stringify(q[0])).toContain('777');
    expect(q[0]!.reason).toBe('/attributes/billable_time: value "eight": expected a number of minutes (not a number: "eight")');
  });

  it('Given the billable time of one entry edited at the source, when synced again, then that entry gets a new revision with the new duration, and a deleted one is marked deleted', async () => {
    const e = fake.records.find((r) => r.id === '902')!;
    e.attributes.billable_time += 45;
    e.attributes.updated_at = new Date().toISOString();
    const [gone] = fake.records.splice(
      fake.records.findIndex((r) => r.id === '903'),
      1,
    );
    const second = await pull('run-2');
    expect(second).toMatchObject({ updated: 1, deleted: 1, inserted: 0 });
    const rows = await ledger.rows<{ external_id: string; status: string; revision: number; seconds: number }>(
      sql`SELECT external_id, status, revision, (data->>'durationSeconds')::int AS seconds FROM time_entries WHERE source_id = 'productive' ORDER BY external_id`,
    );
    const by = Object.fromEntries(rows.map((r) => [r.external_id, r]));
    expect(by['902']).toMatchObject({ revision: 2, seconds: e.attributes.billable_time * 60 });
    expect(by[gone!.id]!.status).toBe('deleted');
  });
});
