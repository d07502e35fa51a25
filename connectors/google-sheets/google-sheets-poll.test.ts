import '../../test/fakes/node20-polyfills';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import pino from 'pino';
import type { ConnectorContext } from '../../src/connectors/contract';
import { fakeServiceAccount } from '../../test/fakes/sheets-server';
import { GoogleSheetsConfigSchema } from './config.schema';
import { googleSheetsSource } from './index';

const account = fakeServiceAccount();
const ctx: ConnectorContext = { log: pino({ level: 'silent' }), now: new Date('2024-03-20T12:00:00Z'), configDir: '.' };
const config = GoogleSheetsConfigSchema.parse({
  id: 'sheets',
  kind: 'google-sheets',
  spreadsheetId: 'sheet-1',
  sheet: 'Uren',
  credentialsJson: account.json,
  baseUrl: 'https://sheets.fake.test/',
  driveBaseUrl: 'https://drive.fake.test/',
  poll: { everySeconds: 60 },
  retry: { maxAttempts: 1 },
  timeZone: 'Europe/Amsterdam',
  columns: { date: 'Datum', hours: 'Uren', worker: 'Medewerker', client: 'Klant' },
});

describe('Google Sheets poll: the Drive file version decides, before any read of the sheet', () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  it('Given the file version When polled twice unchanged and once after an edit Then only the first and the last say changed, and the Sheets API is never called', async () => {
    let version = '41';
    const scopes: string[] = [];
    // https://developers.google.com/drive/api/reference/rest/v3/files/get
    const drive = nock('https://drive.fake.test')
      .persist()
      .get('/drive/v3/files/sheet-1')
      .query((q) => q.fields === 'version,modifiedTime')
      .reply(200, (req: Request) => {
        const jwt = req.headers.get('authorization')?.split(' ')[1]?.split('.')[1] ?? '';
        scopes.push(String((JSON.parse(Buffer.from(jwt, 'base64url').toString('utf8')) as { scope?: string }).scope));
        return { version, modifiedTime: `2024-03-20T11:${version}:00.000Z` };
      });
    const poll = googleSheetsSource.pollChange!;
    const first = await poll(config, undefined, ctx);
    expect(first.changed).toBe(true);
    expect(await poll(config, first.token, ctx)).toEqual({ changed: false, token: first.token });
    version = '42';
    const third = await poll(config, first.token, ctx);
    expect(third.changed).toBe(true);
    expect(third.token).not.toBe(first.token);
    expect(drive.isDone()).toBe(true);
    expect(scopes.every((s) => s === 'https://www.googleapis.com/auth/drive.metadata.readonly')).toBe(true);
  });
});
