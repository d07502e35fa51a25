import '../../test/fakes/node20-polyfills';
import { afterAll, beforeAll } from '@jest/globals';
import nock from 'nock';
import { describeSourceConformance } from '../../test/sources/conformance';
import {
  documentedTimeEntries,
  generatedEntry,
  harvestClock,
  HARVEST_TIME_ENTRIES_DOCS,
  sampleUser,
  startHarvestFake,
  type HarvestFake,
} from '../../test/fakes/harvest-server';
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
    // An account that tracks start/end times: wall-clock times that agree with `hours`.
    e.started_time = harvestClock(9 * 60);
    e.ended_time = harvestClock(9 * 60 + Math.round(e.hours * 60));
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
  async editDurationOnly() {
    // The most common edit in Harvest: the hours, not the times (which then disagree with them).
    const e = fake.entries[3]!;
    const hours = e.hours + 0.25;
    fake.edit(e.id, { hours });
    return { externalId: String(e.id), durationSeconds: Math.round(hours * 3600) };
  },
  async addDocumentedExample() {
    fake.entries.push(...documentedTimeEntries());
    return {
      docs: HARVEST_TIME_ENTRIES_DOCS,
      records: [
        // hours 2.11 (started 3:00pm, ended 5:00pm): 2.11 h = 7596 s, not the 2:00 of the times.
        { externalId: '636709355', billedSeconds: 7596 },
        // Already invoiced in Harvest (invoice 1001).
        { externalId: '636708723', billedSeconds: null },
        // Non-billable task.
        { externalId: '636708574', billedSeconds: null },
        { externalId: '636707831', billedSeconds: null },
      ],
    };
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
