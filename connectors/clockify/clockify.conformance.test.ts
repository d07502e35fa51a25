import '../../test/fakes/node20-polyfills';
import { afterAll, beforeAll } from '@jest/globals';
import nock from 'nock';
import { describeSourceConformance } from '../../test/sources/conformance';
import { startClockifyFake, type ClockifyFake } from '../../test/fakes/clockify-server';
import { clockifySource } from './index';
import type { ClockifyConfig } from './config.schema';
import type { ClockifyReportEntry } from './types';

const KEY = 'FAKE-CLOCKIFY-KEY-0000';
let fake: ClockifyFake;

export function clockifyRow(i: number, daysAgo: number): ClockifyReportEntry {
  const start = new Date(Date.now() - daysAgo * 86_400_000);
  start.setUTCHours(9, 0, 0, 0);
  const secs = 3600 + i * 900;
  return {
    _id: `65f0c0ffee00000000000${String(i).padStart(3, '0')}`,
    description: `Task ${i}`,
    userId: 'u1',
    userName: 'Ada Worker',
    billable: true,
    projectId: 'p1',
    projectName: 'Website',
    clientId: 'c1',
    clientName: 'Acme BV',
    taskName: null,
    tags: [{ name: 'onsite' }],
    timeInterval: {
      start: start.toISOString().replace('.000Z', 'Z'),
      end: new Date(start.getTime() + secs * 1000).toISOString().replace('.000Z', 'Z'),
      duration: secs,
    },
    hourlyRate: { amount: 8500, currency: 'EUR' },
    type: 'REGULAR',
  };
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

describeSourceConformance<ClockifyConfig>('clockify', {
  connector: clockifySource,
  async start() {
    fake = await startClockifyFake({
      apiKey: KEY,
      workspaceId: 'ws1',
      entries: Array.from({ length: 7 }, (_, i) => clockifyRow(i, 2 + i)),
      users: [{ id: 'u1', name: 'Ada Worker', settings: { timeZone: 'Europe/Amsterdam' } }],
    });
  },
  stop: () => fake.close(),
  config: (opts) => ({
    id: 'clockify-main',
    kind: 'clockify',
    apiKey: opts?.badCredentials ? 'FAKE-WRONG-KEY' : KEY,
    workspaceId: 'ws1',
    baseUrl: fake.baseUrl,
    reportsBaseUrl: fake.reportsBaseUrl,
    timeZone: 'Europe/Amsterdam',
    pageSize: 2,
    reportSpanDays: 366,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
  }),
  secretValues: () => [KEY],
  async editEntry() {
    const e = fake.entries[1]!;
    e.timeInterval.duration = (e.timeInterval.duration ?? 0) + 1800;
    e.description = 'corrected';
    return e._id;
  },
  async editDurationOnly() {
    // Duration edited in Clockify; the interval's start and end as the report sent them before.
    const e = fake.entries[3]!;
    e.timeInterval.duration = (e.timeInterval.duration ?? 0) + 1200;
    return { externalId: e._id, durationSeconds: e.timeInterval.duration };
  },
  async addDocumentedExample() {
    // The "Add a new time entry" sample on https://docs.clockify.me/#tag/Time-entry : start
    // 2019-08-24T14:15:22Z, end 2019-08-24T15:45:22Z (1:30), hourlyRate 10500 USD. Served as a
    // detailed-report row (duration in seconds); dated two days ago, same times, so it lies in range.
    const day = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    const e = clockifyRow(0, 2);
    e._id = '5b715448b0798751107918ab';
    e.description = 'Working on new feature';
    e.timeInterval = { start: `${day}T14:15:22Z`, end: `${day}T15:45:22Z`, duration: 5400 };
    e.hourlyRate = { amount: 10500, currency: 'USD' };
    fake.entries.push(e);
    return { docs: 'https://docs.clockify.me/#tag/Time-entry', records: [{ externalId: e._id, billedSeconds: 5400 }] };
  },
  async deleteEntry() {
    const [e] = fake.entries.splice(2, 1);
    return e!._id;
  },
  async addInvalidEntry() {
    const e = clockifyRow(50, 3);
    e.timeInterval.start = 'yesterday-ish';
    fake.entries.push(e);
    return { externalId: e._id, field: 'start' };
  },
  failListing: (f) => fake.fail(f),
  clearFaults: () => fake?.clearFaults(),
  listingRequests: () => fake.stats.listing,
});
