import '../../test/fakes/node20-polyfills';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import pino from 'pino';
import type { ConnectorContext, SourcePage } from '../../src/connectors/contract';
import { togglSource } from './index';
import { TogglConfigSchema } from './config.schema';
import type { TogglReportRow, TogglV9TimeEntry } from './types';
import { normalisePage } from '../../src/stages/pull.stage';
import { ClientResolver } from '../../src/stages/clients';
import { ClientSchema } from '../../src/config/client.schema';

const BASE = 'https://api.track.toggl.fake.test';
const TOKEN = 'FAKE-TOGGL-TOKEN-1111';
const BASIC = `Basic ${Buffer.from(`${TOKEN}:api_token`).toString('base64')}`;
const NOW = new Date('2024-03-20T12:00:00Z');
const ctx: ConnectorContext = { log: pino({ level: 'silent' }), now: NOW, configDir: '.' };
const base = {
  id: 'toggl',
  kind: 'toggl',
  apiToken: TOKEN,
  workspaceId: 777,
  baseUrl: BASE,
  timeZone: 'Europe/Amsterdam',
  startDate: '2024-03-01',
  rateLimit: { requests: 100, perSeconds: 1 },
  retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
};
const config = TogglConfigSchema.parse(base);
const SEARCH = '/reports/api/v3/workspace/777/search/time_entries';

// Shapes from https://engineering.toggl.com/docs/reports/detailed_reports (search time entries)
function row(over: Partial<TogglReportRow>): TogglReportRow {
  return {
    user_id: 11,
    username: 'Tess',
    project_id: 21,
    project_name: 'Mobile app',
    client_name: 'Globex',
    task_id: null,
    task_name: null,
    billable: true,
    description: 'Sprint work',
    tag_ids: [5],
    tag_names: ['dev'],
    hourly_rate_in_cents: 9050,
    billable_amount_in_cents: 18_100,
    currency: 'EUR',
    row_number: 1,
    time_entries: [
      { id: 1, seconds: 7200, start: '2024-03-11T09:00:00+01:00', stop: '2024-03-11T11:00:00+01:00', at: '2024-03-11T10:00:00+00:00' },
    ],
    ...over,
  };
}

async function readAll(cfg = config, cursor?: Record<string, unknown>) {
  const pages: SourcePage[] = [];
  for await (const p of togglSource.read(cfg, { cursors: { time_entries: cursor } }, ctx)) pages.push(p);
  return pages;
}
const mapAll = (pages: SourcePage[], cfg = config) =>
  new Map(pages.flatMap((p) => p.records).map((r) => [r.ref.id!, togglSource.map(r, cfg, ctx)]));

describe('toggl connector', () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  it('Given report rows over two pages, when read, then the X-Next-* headers are echoed and every grouped entry maps', async () => {
    const bodies: Array<Record<string, unknown>> = [];
    const api = nock(BASE, { reqheaders: { authorization: BASIC } })
      .post(SEARCH, (b: Record<string, unknown>) => bodies.push(b) > 0)
      .reply(
        200,
        [
          row({
            time_entries: [
              { id: 1, seconds: 7200, start: '2024-03-11T09:00:00+01:00', stop: '2024-03-11T11:00:00+01:00' },
              { id: 2, seconds: 3600, start: '2024-03-11T13:00:00+01:00', stop: '2024-03-11T14:00:00+01:00' },
            ],
          }),
          row({
            row_number: 2,
            billable: false,
            hourly_rate_in_cents: null,
            time_entries: [{ id: 3, seconds: 1800, start: '2024-03-12T09:00:00+01:00', stop: '2024-03-12T09:30:00+01:00' }],
          }),
        ],
        { 'X-Next-ID': '4', 'X-Next-Row-Number': '3', 'X-Next-Timestamp': '1710280800' },
      )
      .post(SEARCH, (b: Record<string, unknown>) => bodies.push(b) > 0)
      .reply(200, [
        row({ row_number: 3, time_entries: [{ id: 4, seconds: -1710500000, start: '2024-03-20T11:00:00+00:00', stop: null }] }),
        row({
          row_number: 4,
          username: 'Night Nora',
          time_entries: [{ id: 5, seconds: 28_800, start: '2024-03-12T22:00:00+01:00', stop: '2024-03-13T06:00:00+01:00' }],
        }),
        // Logged from San Francisco at 17:00 PDT = 01:00 the next day in Amsterdam (the configured zone).
        row({
          row_number: 5,
          username: 'Sam',
          time_entries: [{ id: 6, seconds: 3600, start: '2024-03-14T17:00:00-07:00', stop: '2024-03-14T18:00:00-07:00' }],
        }),
      ]);
    const pages = await readAll();
    expect(api.isDone()).toBe(true);
    expect(bodies[0]).toMatchObject({ start_date: '2024-03-01', end_date: '2024-03-21', page_size: 50 });
    expect(bodies[0]).not.toHaveProperty('first_id');
    expect(bodies[1]).toMatchObject({ first_id: 4, first_row_number: 3, first_timestamp: 1710280800 });
    expect(pages[0]?.cursor).toMatchObject({ pending: { position: { first_id: 4, first_row_number: 3 } } });

    const m = mapAll(pages);
    expect(m.get('1')).toMatchObject({
      kind: 'entry',
      entry: { durationSeconds: 7200, sourceRate: '90.5', sourceCurrency: 'EUR', tags: ['dev'], client: 'Globex', project: 'Mobile app' },
    });
    expect(m.get('2')).toMatchObject({ kind: 'entry', entry: { durationSeconds: 3600, notes: 'Sprint work' } });
    expect(m.get('3')).toMatchObject({ kind: 'entry', entry: { billable: false } });
    expect(m.get('3')?.kind === 'entry' && m.get('3')).toMatchObject({ entry: { sourceRate: undefined } });
    expect(m.get('4')).toMatchObject({ kind: 'skip', reason: expect.stringContaining('running') });
    expect(m.get('5')).toMatchObject({
      kind: 'entry',
      entry: { date: '2024-03-12', start: '2024-03-12T21:00:00Z', end: '2024-03-13T05:00:00Z' },
    });
    expect(m.get('6')).toMatchObject({
      kind: 'entry',
      entry: { date: '2024-03-15', start: '2024-03-15T00:00:00Z', timeZone: 'Europe/Amsterdam' },
    });
    expect(pages.at(-1)?.reconcile).toEqual({ from: '2024-03-01', to: '2024-03-21' });
  });

  it('Given rows without names, when read, then projects, clients and users are looked up once and filled in', async () => {
    const api = nock(BASE)
      .post(SEARCH)
      .reply(200, [
        row({ username: null, project_name: null, client_name: null, project_id: 21 }),
        row({
          username: null,
          project_name: null,
          client_name: null,
          project_id: 21,
          time_entries: [{ id: 2, seconds: 60, start: '2024-03-11T12:00:00Z', stop: '2024-03-11T12:01:00Z' }],
        }),
      ])
      .get('/api/v9/workspaces/777/projects')
      .query(true)
      .reply(200, [{ id: 21, name: 'Mobile app', client_id: 31 }])
      .get('/api/v9/workspaces/777/clients')
      .query(true)
      .reply(200, [{ id: 31, name: 'Globex' }])
      .get('/api/v9/workspaces/777/users')
      .reply(200, [{ id: 11, fullname: 'Tess' }]);
    const m = mapAll(await readAll());
    expect(api.isDone()).toBe(true);
    expect(m.get('1')).toMatchObject({ kind: 'entry', entry: { client: 'Globex', project: 'Mobile app', worker: { name: 'Tess' } } });
    expect(m.get('2')).toMatchObject({ kind: 'entry', entry: { client: 'Globex' } });
  });

  it('Given the hourly quota is spent (402) with a short reset, when read, then the read waits and goes on', async () => {
    nock(BASE)
      .post(SEARCH)
      .reply(402, 'Quota exceeded', { 'X-Toggl-Quota-Remaining': '0', 'X-Toggl-Quota-Resets-In': '1' })
      .post(SEARCH)
      .reply(200, [row({})]);
    const pages = await readAll();
    expect(pages.flatMap((p) => p.records)).toHaveLength(1);
  });

  it('Given a quota reset far away, when read, then it fails rate_limited with the wait for the runtime to schedule', async () => {
    nock(BASE).post(SEARCH).reply(402, 'Quota exceeded', { 'X-Toggl-Quota-Resets-In': '3000' });
    await expect(readAll()).rejects.toMatchObject({ category: 'rate_limited', details: { retryAfterMs: 3_000_000 } });
  });

  it('Given the me scope and a since cursor, when read, then deleted entries come back as deletedExternalIds', async () => {
    const meCfg = TogglConfigSchema.parse({ ...base, scope: 'me' });
    const live: TogglV9TimeEntry = {
      id: 90,
      workspace_id: 777,
      user_id: 1,
      billable: true,
      start: '2024-03-19T08:00:00Z',
      stop: '2024-03-19T10:00:00Z',
      duration: 7200,
      tags: ['x'],
      at: '2024-03-19T10:00:00Z',
      client_name: 'Globex',
      project_name: 'Mobile app',
    };
    const gone: TogglV9TimeEntry = { ...live, id: 91, server_deleted_at: '2024-03-19T11:00:00Z' };
    nock(BASE)
      .get('/api/v9/me')
      .reply(200, { id: 1, fullname: 'Toggl Owner' })
      .get('/api/v9/me/time_entries')
      .query({ since: '1710700000', meta: 'true' })
      .reply(200, [live, gone]);
    const pages = await readAll(meCfg, { v: 1, since: 1710700000 });
    expect(pages).toHaveLength(1);
    expect(pages[0]?.deletedExternalIds).toEqual(['91']);
    expect(pages[0]?.records.map((r) => r.ref.id)).toEqual(['90']);
    expect(pages[0]?.cursor).toEqual({ v: 1, since: Math.floor(NOW.getTime() / 1000) - 300 });
    expect(mapAll(pages, meCfg).get('90')).toMatchObject({
      kind: 'entry',
      entry: { worker: { name: 'Toggl Owner' }, durationSeconds: 7200 },
    });
  });

  it('Given the me scope and the time entry as Toggl documents it (project, no client name), when read, then the client is looked up through the project and the entry matches a configured client', async () => {
    const meCfg = TogglConfigSchema.parse({ ...base, scope: 'me' });
    // The documented entry (https://engineering.toggl.com/docs/tracking: GET /me/time_entries/current),
    // after the documented stop (PATCH /workspaces/{wid}/time_entries/{id}/stop sets stop and duration),
    // with the legacy wid/pid names the sample uses and no meta fields.
    const documented = {
      id: 436694100,
      wid: 777,
      pid: 193791,
      billable: false,
      start: '1984-01-30T09:08:04+00:00',
      stop: '1984-01-30T11:08:04+00:00',
      duration: 7200,
      description: 'Running time entry',
      at: '1984-01-30T11:08:12+00:00',
    };
    const api = nock(BASE)
      .get('/api/v9/me')
      .reply(200, { id: 1, fullname: 'Toggl Owner' })
      .get('/api/v9/me/time_entries')
      .query({ since: '1710700000', meta: 'true' })
      .reply(200, [documented])
      // https://engineering.toggl.com/docs/api/me#get-projects (client_id, legacy cid)
      .get('/api/v9/me/projects')
      .query(true)
      .reply(200, [{ id: 193791, wid: 777, workspace_id: 777, cid: 1239455, client_id: 1239455, name: 'Mobile app', active: true }])
      // https://engineering.toggl.com/docs/api/me#get-clients
      .get('/api/v9/me/clients')
      .reply(200, [{ id: 1239455, wid: 777, name: 'Very Big Company', archived: false, at: '2013-02-26T08:45:28+00:00' }]);
    const pages = await readAll(meCfg, { v: 1, since: 1710700000 });
    expect(api.isDone()).toBe(true);
    const m = mapAll(pages, meCfg);
    expect(m.get('436694100')).toMatchObject({
      kind: 'entry',
      entry: {
        client: 'Very Big Company',
        project: 'Mobile app',
        durationSeconds: 7200,
        billable: false,
        worker: { id: '1', name: 'Toggl Owner' },
        date: '1984-01-30',
      },
    });
    const clients = new ClientResolver([
      ClientSchema.parse({
        id: 'vbc',
        name: 'Very Big Company B.V.',
        match: ['Very Big Company'],
        currency: 'EUR',
        timeZone: 'Europe/Amsterdam',
        destination: 'files',
      }),
    ]);
    const normalised = normalisePage(pages[0]!, meCfg as never, togglSource as never, clients, ctx);
    expect(normalised.quarantine).toEqual([]);
    expect(normalised.entries.map((e) => [e.externalId, e.clientId])).toEqual([['436694100', 'vbc']]);
  });

  it('Given me entries that already carry client names (meta=true), when read, then no name look-up is made', async () => {
    const meCfg = TogglConfigSchema.parse({ ...base, scope: 'me' });
    const withMeta: TogglV9TimeEntry = {
      id: 92,
      workspace_id: 777,
      project_id: 21,
      user_id: 1,
      billable: true,
      start: '2024-03-19T08:00:00Z',
      stop: '2024-03-19T09:00:00Z',
      duration: 3600,
      at: '2024-03-19T09:00:00Z',
      client_name: 'Globex',
      project_name: 'Mobile app',
    };
    nock(BASE)
      .get('/api/v9/me')
      .reply(200, { id: 1, fullname: 'Toggl Owner' })
      .get('/api/v9/me/time_entries')
      .query(true)
      .reply(200, [withMeta]);
    // Any call to /me/projects or /me/clients would find no interceptor and fail the read.
    const m = mapAll(await readAll(meCfg, { v: 1, since: 1710700000 }), meCfg);
    expect(m.get('92')).toMatchObject({ kind: 'entry', entry: { client: 'Globex' } });
  });

  it('Given the me scope with a recent since cursor, when read, then no window is listed and nothing is warned: since sees every change', async () => {
    const meCfg = TogglConfigSchema.parse({ ...base, scope: 'me', reconcileDays: 7 });
    nock(BASE)
      .get('/api/v9/me')
      .reply(200, { id: 1, fullname: 'Toggl Owner' })
      .get('/api/v9/me/time_entries')
      .query({ since: '1710700000', meta: 'true' })
      .reply(200, []);
    const pages: SourcePage[] = [];
    for await (const p of togglSource.read(
      meCfg,
      { cursors: { time_entries: { v: 1, since: 1710700000 } }, openPeriods: [{ clientId: 'globex', start: '2024-02-01' }] },
      ctx,
    ))
      pages.push(p);
    expect(pages[0]?.reconcile).toBeUndefined();
    expect(pages[0]?.warnings).toBeUndefined();
  });

  it('Given a revoked token, when checked, then it is an auth failure naming Toggl', async () => {
    nock(BASE).get('/api/v9/me').reply(403, 'Incorrect username and/or password');
    const res = await togglSource.check(config, ctx);
    expect(res).toMatchObject({ ok: false, category: 'auth' });
    expect(res.message).toContain('toggl (toggl)');
    expect(res.message).toContain('TOGGL_API_TOKEN');
    expect(res.message).not.toContain(TOKEN);
  });
});
