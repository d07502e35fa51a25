import '../../test/fakes/node20-polyfills';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import pino from 'pino';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectorContext, SourcePage } from '../../src/connectors/contract';
import { fakeServiceAccount, startSheetsFake, type SheetsFake } from '../../test/fakes/sheets-server';
import { googleSheetsSource, a1Range, firstRowOf } from './index';
import { GoogleSheetsConfigSchema } from './config.schema';
import { describeSheetDurationCases } from '../../test/sources/sheet-durations';

const account = fakeServiceAccount();
let fake: SheetsFake;
const ctx = (configDir = '.'): ConnectorContext => ({ log: pino({ level: 'silent' }), now: new Date('2024-03-20T12:00:00Z'), configDir });

// 2024-03-11 is serial 45362 (days since 1899-12-30).
const MAR_11 = 45_362;
const rows: SheetsFake['rows'] = [
  ['Datum', 'Begin', 'Eind', 'Uren', 'Medewerker', 'Klant', 'Opmerking'],
  [MAR_11, 8 / 24, 15.5 / 24, 0.3125, 'Piet', 'Bakkerij De Vries', 'vroege dienst'],
  // Night shift: 22:00 → 06:00 the next morning; ragged (no remark).
  [MAR_11 + 1, 22 / 24, 6 / 24, 0.3333333333333333, 'Nora', 'Bakkerij De Vries'],
  [],
  // A date typed as text into a number column, as people do.
  ['12-03-2024', 9 / 24, 10 / 24, 1 / 24, 'Piet', 'Bakkerij De Vries'],
];

function config(over: Record<string, unknown> = {}) {
  return GoogleSheetsConfigSchema.parse({
    id: 'sheets',
    kind: 'google-sheets',
    spreadsheetId: 'sheet-1',
    sheet: 'Uren week 11',
    credentialsJson: account.json,
    baseUrl: fake.rootUrl,
    timeZone: 'Europe/Amsterdam',
    locale: { dateFormat: 'dd-MM-yyyy', durationNumbers: 'days' },
    columns: { date: 'Datum', start: 'Begin', end: 'Eind', hours: 'Uren', worker: 'Medewerker', client: 'Klant', notes: 'Opmerking' },
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    ...over,
  });
}

async function readAll(cfg: ReturnType<typeof config>, c = ctx()) {
  const pages: SourcePage[] = [];
  for await (const p of googleSheetsSource.read(cfg, { cursors: {} }, c)) pages.push(p);
  return pages;
}

describe('google-sheets connector', () => {
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    fake = await startSheetsFake({ spreadsheetId: 'sheet-1', sheet: 'Uren week 11', email: account.email, rows });
  });
  afterEach(() => fake.clearFaults());
  afterAll(async () => {
    await fake.close();
    nock.enableNetConnect();
  });

  it('Given serial dates, day-fraction times and durations in ragged rows, when read, then the shared mapping turns them into entries', async () => {
    const cfg = config();
    const pages = await readAll(cfg);
    expect(fake.lastQuery?.get('valueRenderOption')).toBe('UNFORMATTED_VALUE');
    expect(fake.lastQuery?.get('dateTimeRenderOption')).toBe('SERIAL_NUMBER');
    expect(fake.lastQuery?.getAll('ranges')).toEqual(["'Uren week 11'"]);
    const records = pages.flatMap((p) => p.records);
    const results = records.map((r) => googleSheetsSource.map(r, cfg, ctx()));
    expect(records.map((r) => r.ref.row)).toEqual([2, 3, 4, 5]);
    expect(results[0]).toMatchObject({
      kind: 'entry',
      entry: {
        date: '2024-03-11',
        start: '2024-03-11T07:00:00.000Z',
        end: '2024-03-11T14:30:00.000Z',
        durationSeconds: 27_000,
        worker: { name: 'Piet' },
        notes: 'vroege dienst',
      },
    });
    expect(results[1]).toMatchObject({
      kind: 'entry',
      entry: { date: '2024-03-12', start: '2024-03-12T21:00:00.000Z', end: '2024-03-13T05:00:00.000Z', durationSeconds: 28_800 },
    });
    expect(results[2]?.kind).toBe('skip');
    expect(results[3]).toMatchObject({ kind: 'entry', entry: { date: '2024-03-12' } });
    expect(pages.at(-1)?.reconcile).toEqual({ from: null, to: null });
    expect(results[0]?.kind === 'entry' && results[0].entry.provenance).toMatchObject({ file: 'sheet-1', sheet: 'Uren week 11', row: 2 });
  });

  it('Given a mapping naming a column the tab lacks, when read, then it fails config naming the column and the headers found', async () => {
    const cfg = config({ columns: { date: 'Datum', hours: 'Uren', worker: 'Werknemer', client: 'Klant' } });
    await expect(readAll(cfg)).rejects.toMatchObject({ category: 'config', message: expect.stringMatching(/Werknemer.*headers found/) });
  });

  it('Given a key file instead of JSON in the environment, when checked, then it reads the file relative to the config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hb-sheets-'));
    await writeFile(join(dir, 'sa.json'), account.json);
    const cfg = config({ credentialsJson: undefined, keyFile: 'sa.json' });
    const res = await googleSheetsSource.check(cfg, ctx(dir));
    expect(res).toMatchObject({ ok: true, message: expect.stringContaining('Urenregistratie') });
  });

  it('Given both or neither credential settings, when the config is parsed, then it is rejected', () => {
    expect(() => config({ keyFile: 'sa.json' })).toThrow(/exactly one of keyFile or credentialsJson/);
    expect(() => config({ credentialsJson: undefined })).toThrow(/exactly one/);
  });

  it('Given a key that is not JSON, when read, then it fails config without echoing the key', async () => {
    const cfg = config({ credentialsJson: 'FAKE-NOT-JSON-PRIVATE-KEY-MATERIAL' });
    const err = (await readAll(cfg).catch((e: unknown) => e)) as Error & { category: string };
    expect(err.category).toBe('config');
    expect(err.message).not.toContain('FAKE-NOT-JSON');
  });

  it('Given A1 helpers, when used, then tab names are quoted and the answered first row is found', () => {
    expect(a1Range({ sheet: "Piet's uren", range: 'A1:K' })).toBe("'Piet''s uren'!A1:K");
    expect(firstRowOf("'Uren'!A3:K20")).toBe(3);
    expect(firstRowOf(undefined)).toBe(1);
  });
});

let durationFake: SheetsFake | undefined;
afterAll(async () => {
  await durationFake?.close();
});
describeSheetDurationCases('google-sheets', {
  async write(rows) {
    durationFake ??= await startSheetsFake({ spreadsheetId: 'sheet-durations', sheet: 'Uren', email: account.email, rows: [] });
    durationFake.rows.splice(0, durationFake.rows.length, ...rows);
  },
  async read(columns) {
    const cfg = GoogleSheetsConfigSchema.parse({
      id: 'sheets-durations',
      kind: 'google-sheets',
      spreadsheetId: 'sheet-durations',
      sheet: 'Uren',
      credentialsJson: account.json,
      baseUrl: durationFake!.rootUrl,
      timeZone: 'Europe/Amsterdam',
      columns,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    const pages: SourcePage[] = [];
    for await (const p of googleSheetsSource.read(cfg, { cursors: {} }, ctx())) pages.push(p);
    return pages.flatMap((p) => p.records).map((r) => googleSheetsSource.map(r, cfg, ctx()));
  },
});
