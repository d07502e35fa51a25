import '../../test/fakes/node20-polyfills';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import pino from 'pino';
import type { ConnectorContext, SourcePage } from '../../src/connectors/contract';
import { clockifySource } from './index';
import { ClockifyConfigSchema } from './config.schema';
import { durationSeconds, rateFromMinor } from './to-time-entry';
import type { ClockifyReportEntry, ClockifyTimeEntry } from './types';
import { normalisePage } from '../../src/stages/pull.stage';
import { ClientResolver } from '../../src/stages/clients';
import { ClientSchema } from '../../src/config/client.schema';

// A regional (EU) workspace: the config points both hosts at the region.
const API = 'https://euc1.clockify.fake.test/api/v1';
const REPORTS = 'https://euc1.clockify.fake.test/report/v1';
const KEY = 'FAKE-CLOCKIFY-KEY-1111';
const NOW = new Date('2024-03-20T12:00:00Z');
const ctx: ConnectorContext = { log: pino({ level: 'silent' }), now: NOW, configDir: '.' };
const config = ClockifyConfigSchema.parse({
  id: 'clockify',
  kind: 'clockify',
  apiKey: KEY,
  workspaceId: 'ws1',
  baseUrl: API,
  reportsBaseUrl: REPORTS,
  timeZone: 'Europe/Amsterdam',
  startDate: '2024-03-01',
  retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
});

// Shapes from https://docs.clockify.me/#tag/Time-Entry-Report (detailed report rows)
function row(over: Partial<ClockifyReportEntry>): ClockifyReportEntry {
  return {
    _id: '65f1a2b3c4d5e6f708091011',
    description: 'Design review',
    userId: 'u-ada',
    userName: 'Ada',
    userEmail: 'ada@example.test',
    billable: true,
    projectId: 'p1',
    projectName: 'Website',
    clientId: 'c1',
    clientName: 'Acme BV',
    taskId: 't1',
    taskName: 'Design',
    tags: [{ _id: 'g1', name: 'remote' }],
    timeInterval: { start: '2024-03-11T09:00:00+01:00', end: '2024-03-11T16:30:00+01:00', duration: 27_000 },
    hourlyRate: { amount: 7550, currency: 'EUR' },
    costRate: { amount: 4000, currency: 'EUR' },
    amount: 56_625,
    isLocked: false,
    type: 'REGULAR',
    ...over,
  };
}

async function readAll() {
  const pages: SourcePage[] = [];
  for await (const p of clockifySource.read(config, { cursors: {} }, ctx)) pages.push(p);
  return pages;
}
const mapAll = (pages: SourcePage[]) =>
  new Map(pages.flatMap((p) => p.records).map((r) => [r.ref.id!, clockifySource.map(r, config, ctx)]));

describe('clockify connector', () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  it('Given detailed-report rows, when read and mapped, then rates, skips, night shifts and zones come out right', async () => {
    let body: Record<string, unknown> | undefined;
    const api = nock(REPORTS, { reqheaders: { 'x-api-key': KEY } })
      .post('/workspaces/ws1/reports/detailed', (b: Record<string, unknown>) => {
        body = b;
        return true;
      })
      .reply(200, {
        totals: [{ entriesCount: 6 }],
        timeentries: [
          row({}),
          row({ _id: 'running', timeInterval: { start: '2024-03-20T08:00:00Z', end: null, duration: null } }),
          row({ _id: 'nonbill', billable: false, hourlyRate: { amount: 0, currency: 'EUR' } }),
          row({ _id: 'break', type: 'BREAK', billable: false }),
          row({ _id: 'night', timeInterval: { start: '2024-03-12T22:00:00+01:00', end: '2024-03-13T06:00:00+01:00', duration: 28_800 } }),
          // Worked from New York for an Amsterdam client; 23:00 New York is the next day in Amsterdam.
          row({
            _id: 'ny',
            userId: 'u-ny',
            userName: 'Nia',
            timeInterval: { start: '2024-03-14T23:00:00-04:00', end: '2024-03-15T01:00:00-04:00', duration: 7200 },
          }),
        ],
      });
    const pages = await readAll();
    expect(api.isDone()).toBe(true);
    expect(body).toMatchObject({ exportType: 'JSON', detailedFilter: { page: 1, pageSize: 200 } });
    const m = mapAll(pages);
    expect(m.get('65f1a2b3c4d5e6f708091011')).toMatchObject({
      kind: 'entry',
      entry: {
        durationSeconds: 27_000,
        sourceRate: '75.5',
        sourceCurrency: 'EUR',
        costRate: '40',
        tags: ['remote'],
        client: 'Acme BV',
        date: '2024-03-11',
        billedAtSource: false,
        approved: null,
      },
    });
    expect(m.get('running')).toMatchObject({ kind: 'skip', reason: expect.stringContaining('running') });
    expect(m.get('nonbill')).toMatchObject({ kind: 'entry', entry: { billable: false } });
    expect(m.get('nonbill')?.kind === 'entry' && m.get('nonbill')).toMatchObject({ entry: { sourceRate: undefined } });
    expect(m.get('break')).toMatchObject({ kind: 'skip', reason: expect.stringContaining('BREAK') });
    expect(m.get('night')).toMatchObject({
      kind: 'entry',
      entry: { date: '2024-03-12', start: '2024-03-12T21:00:00Z', end: '2024-03-13T05:00:00Z', durationSeconds: 28_800 },
    });
    expect(m.get('ny')).toMatchObject({
      kind: 'entry',
      entry: { date: '2024-03-15', start: '2024-03-15T03:00:00Z', timeZone: 'Europe/Amsterdam' },
    });
    expect(pages.at(-1)?.reconcile).toEqual({ from: '2024-03-01', to: '2024-03-21' });
    expect(pages.at(-1)?.cursor).toEqual({ v: 1, synced: true });
  });

  it('Given a key without access to reports, when read, then it falls back to per-user entries with ISO durations and user zones', async () => {
    const entry: ClockifyTimeEntry = {
      id: 'te1',
      description: 'Support',
      userId: 'u-ny',
      billable: true,
      timeInterval: { start: '2024-03-14T03:00:00Z', end: '2024-03-14T10:30:00Z', duration: 'PT7H30M' },
      hourlyRate: { amount: 12000, currency: 'USD' },
      type: 'REGULAR',
      project: { id: 'p1', name: 'Helpdesk', clientId: 'c1', clientName: 'Acme BV' },
      task: null,
      tags: [],
    };
    nock(REPORTS).post('/workspaces/ws1/reports/detailed').reply(403, { message: 'Forbidden', code: 403 });
    nock(API, { reqheaders: { 'x-api-key': KEY } })
      .get('/workspaces/ws1/users')
      .query(true)
      .reply(200, [{ id: 'u-ny', name: 'Nia', settings: { timeZone: 'America/New_York' } }])
      .get('/workspaces/ws1/user/u-ny/time-entries')
      .query((q) => q.hydrated === 'true' && q.page === '1')
      .reply(200, [entry]);
    const m = mapAll(await readAll());
    // 03:00Z is still 13 March in New York: the date is the worker's, not the client's.
    expect(m.get('te1')).toMatchObject({
      kind: 'entry',
      entry: {
        date: '2024-03-13',
        durationSeconds: 27_000,
        timeZone: 'America/New_York',
        sourceRate: '120',
        sourceCurrency: 'USD',
        worker: { name: 'Nia' },
        project: 'Helpdesk',
      },
    });
  });

  it('Given malformed time intervals, when read and normalised, then each is quarantined with the field and reason, and only the running timer is skipped', async () => {
    const bad = (id: string, timeInterval: unknown) => ({ ...row({ _id: id }), timeInterval }) as ClockifyReportEntry;
    nock(REPORTS)
      .post('/workspaces/ws1/reports/detailed')
      .reply(200, {
        totals: [{ entriesCount: 8 }],
        timeentries: [
          row({}),
          bad('end-before-start', { start: '2024-03-11T10:00:00+01:00', end: '2024-03-11T09:00:00+01:00', duration: 3600 }),
          bad('bad-start', { start: 'yesterday-ish', end: '2024-03-11T16:30:00+01:00', duration: 3600 }),
          bad('bad-end', { start: '2024-03-11T09:00:00+01:00', end: '11-03-2024 16:30', duration: 3600 }),
          bad('no-duration', { start: '2024-03-11T09:00:00+01:00', end: '2024-03-11T16:30:00+01:00', duration: null }),
          bad('no-end', { start: '2024-03-11T09:00:00+01:00', end: null, duration: 3600 }),
          bad('no-interval', undefined),
          bad('running', { start: '2024-03-20T08:00:00Z', end: null, duration: null }),
        ],
      });
    const pages = await readAll();
    const clients = new ClientResolver([
      ClientSchema.parse({ id: 'acme', name: 'Acme BV', currency: 'EUR', timeZone: 'Europe/Amsterdam', destination: 'files' }),
    ]);
    const n = pages.map((p) => normalisePage(p, config as never, clockifySource as never, clients, ctx));
    const quarantined = new Map(n.flatMap((x) => x.quarantine).map((q) => [q.recordRef, q]));
    expect(n.flatMap((x) => x.entries).map((e) => e.externalId)).toEqual(['65f1a2b3c4d5e6f708091011']);
    expect(n.reduce((a, x) => a + x.skipped, 0)).toBe(1);
    expect([...quarantined.keys()].sort()).toEqual(['bad-end', 'bad-start', 'end-before-start', 'no-duration', 'no-end', 'no-interval']);
    expect(quarantined.get('end-before-start')).toMatchObject({
      field: 'end',
      column: 'timeInterval.end',
      reason: expect.stringContaining('ends before it starts'),
    });
    expect(quarantined.get('bad-start')).toMatchObject({
      field: 'start',
      column: 'timeInterval.start',
      reason: expect.stringContaining('ISO 8601'),
    });
    expect(quarantined.get('bad-end')).toMatchObject({
      field: 'end',
      column: 'timeInterval.end',
      reason: expect.stringContaining('ISO 8601'),
    });
    expect(quarantined.get('no-duration')).toMatchObject({
      field: 'durationSeconds',
      column: 'timeInterval.duration',
      reason: expect.stringContaining('missing on a finished entry'),
    });
    expect(quarantined.get('no-end')).toMatchObject({
      field: 'end',
      column: 'timeInterval.end',
      reason: expect.stringContaining('not a running timer'),
    });
    expect(quarantined.get('no-interval')).toMatchObject({
      field: 'start',
      column: 'timeInterval',
      reason: expect.stringContaining('no timeInterval'),
    });
  });

  it('Given a per-user entry whose ISO duration cannot be read, when mapped, then it is quarantined naming timeInterval.duration', () => {
    const entry: ClockifyTimeEntry = {
      id: 'te-bad',
      userId: 'u1',
      billable: true,
      timeInterval: { start: '2024-03-14T03:00:00Z', end: '2024-03-14T10:30:00Z', duration: '7:30' },
      type: 'REGULAR',
      project: { id: 'p1', name: 'Helpdesk', clientId: 'c1', clientName: 'Acme BV' },
    };
    const r = clockifySource.map({ ref: { id: 'te-bad' }, data: { via: 'user', entry, userName: 'Nia', userTimeZone: null } }, config, ctx);
    expect(r).toMatchObject({
      kind: 'invalid',
      externalId: 'te-bad',
      problems: [expect.objectContaining({ field: 'durationSeconds', column: 'timeInterval.duration', value: '7:30' })],
    });
  });

  it('Given a bad key, when checked, then it is an auth failure naming Clockify and the key to check', async () => {
    nock(API).get('/user').reply(401, { message: 'Full authentication is required to access this resource', code: 1000 });
    const res = await clockifySource.check(config, ctx);
    expect(res).toMatchObject({ ok: false, category: 'auth' });
    expect(res.message).toContain('clockify (clockify)');
    expect(res.message).toContain('CLOCKIFY_API_KEY');
  });

  it('Given Clockify value formats, when converted, then minor units and ISO durations are exact', () => {
    expect(rateFromMinor({ amount: 7550, currency: 'EUR' })).toBe('75.5');
    expect(rateFromMinor({ amount: 1, currency: 'EUR' })).toBe('0.01');
    expect(rateFromMinor(null)).toBeUndefined();
    expect(durationSeconds('PT7H30M')).toBe(27_000);
    expect(durationSeconds('PT45S')).toBe(45);
    expect(durationSeconds(5400)).toBe(5400);
    expect(durationSeconds('7:30')).toBeNull();
  });
});
