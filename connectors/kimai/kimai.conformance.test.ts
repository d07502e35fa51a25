import '../../test/fakes/node20-polyfills';
import { afterAll, beforeAll } from '@jest/globals';
import nock from 'nock';
import { DateTime } from 'luxon';
import { describeSourceConformance } from '../../test/sources/conformance';
import {
  fakeTimesheet,
  kimaiTime as fakeKimaiTime,
  startKimaiFake,
  type KimaiFake,
  type KimaiFakeEntry,
} from '../../test/fakes/kimai-server';
import { kimaiSource } from './index';
import type { KimaiConfig } from './config.schema';

const TOKEN = 'FAKE-KIMAI-TOKEN-0000';
const ZONE = 'Europe/Berlin';
let fake: KimaiFake;

/** Kimai serialises date-times in the user's zone with a basic offset: 2019-03-14T10:00:00+0100. */
export function kimaiTime(d: DateTime): string {
  return fakeKimaiTime(d, ZONE);
}

export function kimaiRow(i: number, daysAgo: number): KimaiFakeEntry {
  const begin = DateTime.now().setZone(ZONE).minus({ days: daysAgo }).set({ hour: 9, minute: 0, second: 0, millisecond: 0 });
  return fakeTimesheet(i, begin, 3600 + i * 900, ZONE, { tags: ['onsite'] });
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

describeSourceConformance<KimaiConfig>('kimai', {
  connector: kimaiSource,
  async start() {
    fake = await startKimaiFake({
      token: TOKEN,
      timeZone: ZONE,
      user: { id: 1, username: 'ada', alias: 'Ada Worker' },
      entries: Array.from({ length: 7 }, (_, i) => kimaiRow(i, 2 + i)),
    });
  },
  stop: () => fake.close(),
  config: (opts) => ({
    id: 'kimai-main',
    kind: 'kimai',
    baseUrl: fake.baseUrl,
    token: opts?.badCredentials ? 'FAKE-WRONG-TOKEN' : TOKEN,
    timeZone: ZONE,
    currency: 'EUR',
    pageSize: 2,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
  }),
  secretValues: () => [TOKEN],
  async editEntry() {
    const e = fake.entries[1]!;
    e.duration = (e.duration ?? 0) + 1800;
    e.description = 'corrected';
    fake.touch(e);
    return String(e.id);
  },
  async editDurationOnly() {
    // Duration edited in Kimai (e.g. a rounding rule or the duration field); begin and end as sent before.
    const e = fake.entries[3]!;
    e.duration = (e.duration ?? 0) + 1200;
    fake.touch(e);
    return { externalId: String(e.id), durationSeconds: e.duration };
  },
  async addDocumentedExample() {
    // Built from the TimesheetCollectionExpanded shape of https://www.kimai.org/documentation/rest-api.html
    // (begin/end with offset, duration in seconds, billable, exported): one billable 1:30 entry,
    // one marked billable: false (not billed). Dated two days ago so they lie in range.
    const base = DateTime.now().setZone(ZONE).minus({ days: 2 }).set({ hour: 10, minute: 0, second: 0, millisecond: 0 });
    const a = kimaiRow(0, 2);
    a.id = 9001;
    a.begin = kimaiTime(base);
    a.end = kimaiTime(base.plus({ minutes: 90 }));
    a.duration = 5400;
    const b = kimaiRow(0, 2);
    b.id = 9002;
    b.begin = kimaiTime(base.plus({ hours: 2 }));
    b.end = kimaiTime(base.plus({ hours: 3 }));
    b.duration = 3600;
    b.billable = false;
    fake.entries.push(a, b);
    return {
      docs: 'https://www.kimai.org/documentation/rest-api.html',
      records: [
        { externalId: '9001', billedSeconds: 5400 },
        { externalId: '9002', billedSeconds: null },
      ],
    };
  },
  async deleteEntry() {
    const [e] = fake.entries.splice(2, 1);
    return String(e!.id);
  },
  async addInvalidEntry() {
    const e = kimaiRow(50, 3);
    e.duration = -5;
    fake.entries.push(e);
    return { externalId: String(e.id), field: 'durationSeconds' };
  },
  failListing: (f) => fake.fail(f),
  clearFaults: () => fake?.clearFaults(),
  listingRequests: () => fake.stats.listing,
});
