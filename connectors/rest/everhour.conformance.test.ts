import '../../test/fakes/node20-polyfills';
import { afterAll, beforeAll } from '@jest/globals';
import nock from 'nock';
import { describeSourceConformance } from '../../test/sources/conformance';
import type { RestApiFake } from '../../test/fakes/rest-api-server';
import {
  documentedTask,
  EVERHOUR_DOCS,
  everhourRecord,
  startEverhourFake,
  type EverhourTimeRecord,
} from '../../test/fakes/everhour-server';
import type { RestConfig, RestConfigInput } from './config.schema';
import { exampleSource } from './examples';
import { restSource } from './index';

const KEY = 'FAKE-EVERHOUR-KEY-0000';
let fake: RestApiFake<EverhourTimeRecord>;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

/** config/examples/rest-everhour.yaml as shipped, against the fake, with pages of 2. */
function config(bad = false): RestConfigInput {
  const shipped = exampleSource('rest-everhour.yaml', { EVERHOUR_API_KEY: bad ? 'FAKE-WRONG-KEY' : KEY }, {});
  return {
    ...shipped,
    baseUrl: fake.baseUrl,
    pagination: { type: 'page', pageParam: 'page', sizeParam: 'limit', size: 2 },
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    rateLimit: { requests: 1000, perSeconds: 1 },
  };
}

describeSourceConformance<RestConfig>('rest (Everhour example)', {
  connector: restSource,
  async start() {
    fake = await startEverhourFake(
      KEY,
      Array.from({ length: 7 }, (_, i) => everhourRecord(i, 2 + i * 2)),
    );
  },
  stop: () => fake.close(),
  config: (opts) => config(opts?.badCredentials),
  secretValues: () => [KEY],
  async editEntry() {
    const r = fake.records[1]!;
    r.time += 1800;
    r.comment = 'corrected';
    return String(r.id);
  },
  async editDurationOnly() {
    // The time of a record edited in Everhour; nothing else about it changes.
    const r = fake.records[3]!;
    r.time += 1200;
    return { externalId: String(r.id), durationSeconds: r.time };
  },
  async addDocumentedExample() {
    // The task object of the API reference (unbillable: true) with its documented user 1304 and
    // the 3600 s the example gives that user on it; and the same task billable, 7200 s (the
    // example's "today"). Dated two days ago so they lie in the listed window.
    fake.records.push(
      { id: 8001, date: daysAgo(2), time: 3600, user: 1304, comment: null, task: documentedTask() },
      { id: 8002, date: daysAgo(2), time: 7200, user: 1304, comment: 'billable', task: { ...documentedTask(), unbillable: false } },
    );
    return {
      docs: EVERHOUR_DOCS,
      records: [
        { externalId: '8001', billedSeconds: null },
        { externalId: '8002', billedSeconds: 7200 },
      ],
    };
  },
  async deleteEntry() {
    const [r] = fake.records.splice(2, 1);
    return String(r!.id);
  },
  async addInvalidEntry() {
    const r = everhourRecord(40, 3);
    r.time = -60;
    fake.records.push(r);
    return { externalId: String(r.id), field: 'durationSeconds' };
  },
  failListing: (f) => fake.fail(f),
  clearFaults: () => fake?.clearFaults(),
  listingRequests: () => fake.stats.listing,
});
