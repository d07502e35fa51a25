import '../../test/fakes/node20-polyfills';
import { afterAll, beforeAll } from '@jest/globals';
import nock from 'nock';
import { describeSourceConformance } from '../../test/sources/conformance';
import type { RestApiFake } from '../../test/fakes/rest-api-server';
import {
  documentedTimeEntry,
  PRODUCTIVE_DOCS,
  productiveEntry,
  startProductiveFake,
  type ProductiveTimeEntry,
} from '../../test/fakes/productive-server';
import type { RestConfig, RestConfigInput } from './config.schema';
import { exampleSource } from './examples';
import { restSource } from './index';

const TOKEN = 'FAKE-PRODUCTIVE-TOKEN-0000';
const ORG = '1245';
let fake: RestApiFake<ProductiveTimeEntry>;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
const touch = (e: ProductiveTimeEntry) => {
  e.attributes.updated_at = new Date().toISOString();
};

/** config/examples/rest-productive.yaml as shipped, against the fake, with pages of 2. */
function config(bad = false): RestConfigInput {
  const shipped = exampleSource(
    'rest-productive.yaml',
    { PRODUCTIVE_API_TOKEN: bad ? 'FAKE-WRONG-TOKEN' : TOKEN, PRODUCTIVE_ORG_ID: ORG },
    {},
  );
  return {
    ...shipped,
    baseUrl: `${fake.baseUrl}/api/v2`,
    pagination: { type: 'page', pageParam: 'page[number]', sizeParam: 'page[size]', size: 2, totalPagesPath: '/meta/total_pages' },
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    rateLimit: { requests: 1000, perSeconds: 1 },
  };
}

describeSourceConformance<RestConfig>('rest (Productive example)', {
  connector: restSource,
  async start() {
    fake = await startProductiveFake(
      TOKEN,
      ORG,
      Array.from({ length: 7 }, (_, i) => productiveEntry(i, 2 + i * 2)),
    );
  },
  stop: () => fake.close(),
  config: (opts) => config(opts?.badCredentials),
  secretValues: () => [TOKEN],
  async editEntry() {
    const e = fake.records[1]!;
    e.attributes.billable_time += 30;
    e.attributes.time += 30;
    e.attributes.note = 'corrected';
    touch(e);
    return e.id;
  },
  async editDurationOnly() {
    // Billable time corrected in Productive; date and started_at as they were.
    const e = fake.records[3]!;
    e.attributes.billable_time += 20;
    touch(e);
    return { externalId: e.id, durationSeconds: e.attributes.billable_time * 60 };
  },
  async addDocumentedExample() {
    // The documented time entry 146 (time and billable_time 480 minutes, not invoiced), dated two
    // days ago so it lies in the listed window; and the same entry marked invoiced (billed at
    // source: never billed again).
    const documented = documentedTimeEntry(daysAgo(2));
    const invoiced = documentedTimeEntry(daysAgo(2));
    invoiced.id = '147';
    invoiced.attributes.invoiced = true;
    fake.records.push(documented, invoiced);
    return {
      docs: PRODUCTIVE_DOCS,
      records: [
        { externalId: '146', billedSeconds: 480 * 60 },
        { externalId: '147', billedSeconds: null },
      ],
    };
  },
  async deleteEntry() {
    const [e] = fake.records.splice(2, 1);
    return e!.id;
  },
  async addInvalidEntry() {
    const e = productiveEntry(40, 3);
    e.attributes.billable_time = -30;
    fake.records.push(e);
    return { externalId: e.id, field: 'durationSeconds' };
  },
  failListing: (f) => fake.fail(f),
  clearFaults: () => fake?.clearFaults(),
  listingRequests: () => fake.stats.listing,
});
