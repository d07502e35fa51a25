import '../../test/fakes/node20-polyfills';
import { afterAll, beforeAll } from '@jest/globals';
import nock from 'nock';
import { describeSourceConformance } from '../../test/sources/conformance';
import { fakeServiceAccount, startSheetsFake, type SheetsFake } from '../../test/fakes/sheets-server';
import { googleSheetsSource } from './index';
import type { GoogleSheetsConfig } from './config.schema';

const account = fakeServiceAccount();
const stranger = fakeServiceAccount('someone-else@fake-project.iam.gserviceaccount.test');
let fake: SheetsFake;

/** Google serial date (days since 1899-12-30) of a day `daysAgo` before today. */
function serialDaysAgo(daysAgo: number): number {
  const today = Math.floor(Date.now() / 86_400_000);
  return today - daysAgo + 25_569;
}

function seedRows(): SheetsFake['rows'] {
  const header = ['ID', 'Datum', 'Begin', 'Eind', 'Medewerker', 'Klant', 'Project', 'Notities'];
  const rows: SheetsFake['rows'] = [header];
  for (let i = 0; i < 7; i++) {
    // Times as day fractions (08:00 = 0.333…), as UNFORMATTED_VALUE serves them; ragged: no notes.
    rows.push([`R${i + 1}`, serialDaysAgo(2 + i), 8 / 24, (16 + (i % 3) * 0.5) / 24, 'Piet', 'Bakkerij De Vries', 'Winkel']);
  }
  return rows;
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

describeSourceConformance<GoogleSheetsConfig>('google-sheets', {
  connector: googleSheetsSource,
  async start() {
    fake = await startSheetsFake({ spreadsheetId: 'sheet-123', sheet: 'Uren', email: account.email, rows: seedRows() });
  },
  stop: () => fake.close(),
  config: (opts) => ({
    id: 'sheets-main',
    kind: 'google-sheets',
    spreadsheetId: 'sheet-123',
    sheet: 'Uren',
    credentialsJson: opts?.badCredentials ? stranger.json : account.json,
    baseUrl: fake.rootUrl,
    pageSize: 2,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    timeZone: 'Europe/Amsterdam',
    columns: {
      externalId: 'ID',
      date: 'Datum',
      start: 'Begin',
      end: 'Eind',
      worker: 'Medewerker',
      client: 'Klant',
      project: 'Project',
      notes: 'Notities',
    },
  }),
  secretValues: () => [account.json, stranger.json],
  async editEntry() {
    const row = fake.rows[2]!;
    row[3] = 18 / 24;
    return 'R2';
  },
  async deleteEntry() {
    fake.rows.splice(3, 1);
    return 'R3';
  },
  async addInvalidEntry() {
    fake.rows.push(['R99', 'not a date', 8 / 24, 12 / 24, 'Piet', 'Bakkerij De Vries']);
    return { externalId: 'R99', field: 'date' };
  },
  failListing: (f) => fake.fail(f),
  clearFaults: () => fake?.clearFaults(),
  listingRequests: () => fake.stats.batchGet,
});
