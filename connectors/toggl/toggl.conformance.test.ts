import '../../test/fakes/node20-polyfills';
import { afterAll, beforeAll } from '@jest/globals';
import nock from 'nock';
import { describeSourceConformance } from '../../test/sources/conformance';
import { startTogglFake, type TogglFake } from '../../test/fakes/toggl-server';
import { togglSource } from './index';
import type { TogglConfig } from './config.schema';
import type { TogglReportRow } from './types';

const TOKEN = 'FAKE-TOGGL-TOKEN-0000';
let fake: TogglFake;

function row(i: number, daysAgo: number): TogglReportRow {
  const start = new Date(Date.now() - daysAgo * 86_400_000);
  start.setUTCHours(8, 0, 0, 0);
  const seconds = 3600 + i * 600;
  return {
    user_id: 11,
    username: 'Tess',
    project_id: 21,
    project_name: 'Mobile app',
    client_name: 'Globex',
    billable: true,
    description: `Sprint work ${i}`,
    tag_names: ['dev'],
    hourly_rate_in_cents: 9000,
    currency: 'EUR',
    time_entries: [
      {
        id: 4_000_000 + i,
        seconds,
        start: start.toISOString(),
        stop: new Date(start.getTime() + seconds * 1000).toISOString(),
        at: start.toISOString(),
      },
    ],
  };
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

describeSourceConformance<TogglConfig>('toggl', {
  connector: togglSource,
  async start() {
    fake = await startTogglFake({ token: TOKEN, workspaceId: '777', rows: Array.from({ length: 7 }, (_, i) => row(i, 1 + i)) });
  },
  stop: () => fake.close(),
  config: (opts) => ({
    id: 'toggl-main',
    kind: 'toggl',
    apiToken: opts?.badCredentials ? 'FAKE-WRONG-TOKEN' : TOKEN,
    workspaceId: 777,
    baseUrl: fake.baseUrl,
    timeZone: 'Europe/Amsterdam',
    pageSize: 2,
    rateLimit: { requests: 100, perSeconds: 1 },
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
  }),
  secretValues: () => [TOKEN, Buffer.from(`${TOKEN}:api_token`).toString('base64')],
  async editEntry() {
    const r = fake.rows[1]!;
    r.time_entries[0]!.seconds += 900;
    r.description = 'corrected';
    return String(r.time_entries[0]!.id);
  },
  async editDurationOnly() {
    // Duration edited in Toggl, start and stop as the report sent them before.
    const t = fake.rows[3]!.time_entries[0]!;
    t.seconds += 1800;
    return { externalId: String(t.id), durationSeconds: t.seconds };
  },
  async addDocumentedExample() {
    // https://engineering.toggl.com/docs/tracking ("About the duration field"): an entry that
    // started and stopped is given by `start` "2022-10-27T15:38:45Z" and `duration` 120 (seconds).
    // Served as a Reports row; dated yesterday (same time of day) so it lies in the listed range.
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const start = `${day}T15:38:45Z`;
    const r = row(0, 1);
    r.description = 'Hello Toggl';
    r.time_entries = [
      { id: 436_694_100, seconds: 120, start, stop: new Date(Date.parse(start) + 120_000).toISOString().replace('.000Z', 'Z'), at: start },
    ];
    fake.rows.push(r);
    return { docs: 'https://engineering.toggl.com/docs/tracking', records: [{ externalId: '436694100', billedSeconds: 120 }] };
  },
  async deleteEntry() {
    const [r] = fake.rows.splice(2, 1);
    return String(r!.time_entries[0]!.id);
  },
  async addInvalidEntry() {
    const r = row(60, 2);
    // No project, hence no client: nothing to look up, nothing to bill.
    r.project_id = null;
    r.project_name = null;
    r.client_name = null;
    fake.rows.push(r);
    return { externalId: String(r.time_entries[0]!.id), field: 'client' };
  },
  failListing: (f) => fake.fail(f),
  clearFaults: () => fake?.clearFaults(),
  listingRequests: () => fake.stats.listing,
});
