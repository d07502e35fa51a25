import '../../test/fakes/node20-polyfills';
import { afterAll, beforeAll } from '@jest/globals';
import nock from 'nock';
import { describeSourceConformance } from '../../test/sources/conformance';
import { generatedEntry, sampleUser, startHarvestFake, type HarvestFake } from '../../test/fakes/harvest-server';
import { harvestSource } from './index';
import type { HarvestConfig } from './config.schema';

const TOKEN = 'FAKE-HARVEST-TOKEN-0000';
let fake: HarvestFake;

function seed() {
  const today = Date.now();
  return Array.from({ length: 7 }, (_, i) => {
    const e = generatedEntry(i, today - 15 * 86_400_000);
    e.updated_at = new Date(today - 2 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    e.user = { id: 1, name: 'Worker 1' };
    return e;
  });
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

describeSourceConformance<HarvestConfig>('harvest', {
  connector: harvestSource,
  async start() {
    fake = await startHarvestFake({ token: TOKEN, accountId: '424242', entries: seed(), users: [sampleUser(1, 'Amsterdam')] });
  },
  stop: () => fake.close(),
  config: (opts) => ({
    id: 'harvest-main',
    kind: 'harvest',
    baseUrl: fake.baseUrl,
    accountId: '424242',
    token: opts?.badCredentials ? 'FAKE-WRONG-TOKEN' : TOKEN,
    perPage: 2,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
  }),
  secretValues: () => [TOKEN],
  async editEntry() {
    const e = fake.entries[1]!;
    fake.edit(e.id, { hours: e.hours + 1.25, notes: 'corrected' });
    return String(e.id);
  },
  async deleteEntry() {
    const e = fake.entries[2]!;
    fake.remove(e.id);
    return String(e.id);
  },
  async addInvalidEntry() {
    const e = generatedEntry(99, Date.now() - 3 * 86_400_000);
    e.spent_date = '2024-13-45';
    fake.entries.push(e);
    return { externalId: String(e.id), field: 'date' };
  },
  failListing: (f) => fake.fail(f),
  clearFaults: () => fake?.clearFaults(),
  listingRequests: () => fake.stats.timeEntryRequests,
});
