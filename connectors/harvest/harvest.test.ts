import '../../test/fakes/node20-polyfills';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import pino from 'pino';
import type { ConnectorContext, SourcePage } from '../../src/connectors/contract';
import { harvestSource, type HarvestCursor } from './index';
import { HarvestConfigSchema } from './config.schema';
import { parseWallClock } from './to-time-entry';
import type { HarvestTimeEntry } from './types';

const BASE = 'https://api.harvest.fake.test/v2';
const TOKEN = 'FAKE-HARVEST-TOKEN-1111';
const NOW = new Date('2024-03-20T12:00:00Z');
const ctx: ConnectorContext = { log: pino({ level: 'silent' }), now: NOW, configDir: '.' };

const config = HarvestConfigSchema.parse({
  id: 'harvest',
  kind: 'harvest',
  baseUrl: BASE,
  accountId: 123456,
  token: TOKEN,
  timeZone: 'Europe/Amsterdam',
  currency: 'EUR',
  retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
});

// Shapes from https://help.getharvest.com/api-v2/timesheets-api/timesheets/time-entries/
function entry(over: Partial<HarvestTimeEntry>): HarvestTimeEntry {
  return {
    id: 636709355,
    spent_date: '2024-03-11',
    hours: 2.5,
    rounded_hours: 2.5,
    started_time: null,
    ended_time: null,
    user: { id: 1782959, name: 'Kim Allen' },
    client: { id: 5735776, name: '123 Industries', currency: 'EUR' },
    project: { id: 14808188, name: 'Task Force', code: 'TF' },
    task: { id: 8083366, name: 'Programming' },
    user_assignment: { id: 125068554 },
    task_assignment: { id: 155505014 },
    billable: true,
    billable_rate: 100,
    cost_rate: 50,
    is_billed: false,
    invoice: null,
    is_locked: false,
    locked_reason: null,
    approval_status: 'approved',
    is_closed: false,
    is_running: false,
    timer_started_at: null,
    notes: 'Worked on the importer',
    created_at: '2024-03-11T17:10:00Z',
    updated_at: '2024-03-11T17:10:00Z',
    ...over,
  };
}

const fixtures = {
  running: entry({
    id: 1,
    is_running: true,
    hours: 0.4,
    timer_started_at: '2024-03-20T11:36:00Z',
    started_time: '12:36pm',
    ended_time: null,
  }),
  nonBillable: entry({ id: 2, billable: false, billable_rate: null, task: { id: 9, name: 'Internal meeting' } }),
  billed: entry({
    id: 3,
    is_billed: true,
    is_locked: true,
    locked_reason: 'Item Invoiced and Approved',
    invoice: { id: 13150403, number: '1001' },
  }),
  night: entry({
    id: 4,
    spent_date: '2024-03-12',
    hours: 8,
    started_time: '10:00pm',
    ended_time: '6:00am',
    user: { id: 7, name: 'Nachtwaker' },
  }),
  pacific: entry({
    id: 5,
    spent_date: '2024-03-13',
    hours: 1.5,
    started_time: '11:00pm',
    ended_time: '0:30',
    user: { id: 8, name: 'Remote Dev' },
  }),
  unapproved: entry({ id: 6, approval_status: 'submitted' }),
};

const users = [
  { id: 7, first_name: 'Nacht', last_name: 'Waker', timezone: 'Amsterdam' },
  { id: 8, first_name: 'Remote', last_name: 'Dev', timezone: 'Pacific Time (US & Canada)' },
];

async function readAll(cursor?: HarvestCursor, openSince?: string) {
  const pages: SourcePage[] = [];
  for await (const p of harvestSource.read(config, { cursors: { time_entries: cursor }, ...(openSince ? { openSince } : {}) }, ctx))
    pages.push(p);
  return pages;
}

function mapped(pages: SourcePage[]) {
  return new Map(pages.flatMap((p) => p.records).map((r) => [r.ref.id!, harvestSource.map(r, config, ctx)]));
}

describe('harvest connector', () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  it('Given the documented payloads, when read and mapped, then each kind of entry maps as Hourbridge needs', async () => {
    const api = nock(BASE, {
      reqheaders: { authorization: `Bearer ${TOKEN}`, 'harvest-account-id': '123456', 'user-agent': /Hourbridge/ },
    })
      .get('/users')
      .query({ per_page: '2000' })
      .reply(200, { users, links: { next: null } })
      .get('/time_entries')
      .query({ per_page: '2000' })
      .reply(200, {
        time_entries: [fixtures.running, fixtures.nonBillable, fixtures.billed],
        per_page: 2000,
        links: { next: `${BASE}/time_entries?cursor=abc&per_page=2000` },
      })
      .get('/time_entries')
      .query({ cursor: 'abc', per_page: '2000' })
      .reply(200, { time_entries: [fixtures.night, fixtures.pacific, fixtures.unapproved], per_page: 2000, links: { next: null } });

    const pages = await readAll();
    expect(api.isDone()).toBe(true);
    const m = mapped(pages);

    expect(m.get('1')).toEqual({ kind: 'skip', reason: expect.stringContaining('running timer') });

    const nb = m.get('2');
    expect(nb).toMatchObject({ kind: 'entry', entry: { billable: false, durationSeconds: 9000, task: 'Internal meeting' } });
    expect(nb?.kind === 'entry' && nb.entry.sourceRate).toBeUndefined();

    expect(m.get('3')).toMatchObject({
      kind: 'entry',
      entry: { billedAtSource: true, billable: true, sourceRate: '100', sourceCurrency: 'EUR', costRate: '50' },
    });

    // 22:00–06:00 Amsterdam (CET, UTC+1) on 12 March: ends the next morning.
    expect(m.get('4')).toMatchObject({
      kind: 'entry',
      entry: {
        date: '2024-03-12',
        start: '2024-03-12T21:00:00Z',
        end: '2024-03-13T05:00:00Z',
        durationSeconds: 28_800,
        timeZone: 'Europe/Amsterdam',
      },
    });

    // The user works in Los Angeles (PDT, UTC−7) for a client the config places in Amsterdam:
    // the date stays the user's spent_date, the instants are the user's wall clock.
    expect(m.get('5')).toMatchObject({
      kind: 'entry',
      entry: {
        date: '2024-03-13',
        start: '2024-03-14T06:00:00Z',
        end: '2024-03-14T07:30:00Z',
        timeZone: 'America/Los_Angeles',
        worker: { id: '8', name: 'Remote Dev' },
      },
    });

    expect(m.get('6')).toMatchObject({ kind: 'entry', entry: { approved: false } });
    expect(m.get('2')).toMatchObject({
      kind: 'entry',
      entry: { approved: true, client: '123 Industries', project: 'Task Force', notes: 'Worked on the importer' },
    });

    // First sync: one full listing that is also the reconciliation of everything.
    expect(pages.at(-1)?.reconcile).toEqual({ from: null, to: null });
    expect(pages[0]?.reconcile).toBeUndefined();
    expect(pages.at(-1)?.cursor).toEqual({
      v: 1,
      updatedSince: '2024-03-20T11:55:00Z',
      userZones: { '7': 'Europe/Amsterdam', '8': 'America/Los_Angeles' },
    });
  });

  it('Given a committed cursor, when read, then it lists edits before the window by updated_since and the window itself once, with no overlap', async () => {
    const api = nock(BASE)
      .get('/users')
      .query(true)
      .reply(200, { users, links: { next: null } })
      .get('/time_entries')
      .query({ per_page: '2000', updated_since: '2024-03-01T00:00:00Z', to: '2024-02-14' })
      .reply(200, { time_entries: [entry({ id: 70, spent_date: '2024-01-31', notes: 'late edit' })], links: { next: null } })
      .get('/time_entries')
      .query({ per_page: '2000', from: '2024-02-15' })
      .reply(200, { time_entries: [entry({ id: 71 })], links: { next: null } });

    const pages = await readAll({ v: 1, updatedSince: '2024-03-01T00:00:00Z' });
    expect(api.isDone()).toBe(true);
    expect(pages).toHaveLength(2);
    expect(pages[0]?.reconcile).toBeUndefined();
    expect(pages[0]?.cursor).toMatchObject({ updatedSince: '2024-03-01T00:00:00Z', pending: { phase: 'reconcile' } });
    // 35 days back from 20 March, inclusive.
    expect(pages[1]?.reconcile).toEqual({ from: '2024-02-15', to: null });
    expect(pages[1]?.cursor).toEqual({
      v: 1,
      updatedSince: '2024-03-20T11:55:00Z',
      userZones: { '7': 'Europe/Amsterdam', '8': 'America/Los_Angeles' },
    });
  });

  it('Given an open draft from before the window, when read, then reconciliation widens back to it', async () => {
    nock(BASE)
      .get('/users')
      .query(true)
      .reply(200, { users: [], links: { next: null } })
      .get('/time_entries')
      .query({ per_page: '2000', updated_since: '2024-03-01T00:00:00Z', to: '2023-12-31' })
      .reply(200, { time_entries: [], links: { next: null } })
      .get('/time_entries')
      .query({ per_page: '2000', from: '2024-01-01' })
      .reply(200, { time_entries: [], links: { next: null } });
    const pages = await readAll({ v: 1, updatedSince: '2024-03-01T00:00:00Z' }, '2024-01-01');
    expect(pages.at(-1)?.reconcile).toEqual({ from: '2024-01-01', to: null });
  });

  it('Given a token that may not list users, when read, then started times fall back to the configured zone, the read goes on and a warning says so', async () => {
    nock(BASE)
      .get('/users')
      .query(true)
      .reply(403, { message: 'forbidden' })
      .get('/time_entries')
      .query(true)
      .reply(200, { time_entries: [fixtures.pacific], links: { next: null } });
    const pages = await readAll();
    const m = mapped(pages);
    expect(m.get('5')).toMatchObject({ kind: 'entry', entry: { timeZone: 'Europe/Amsterdam', start: '2024-03-13T22:00:00Z' } });
    expect(pages[0]?.warnings).toEqual([
      expect.stringMatching(/harvest \(harvest\): .*GET \/v2\/users.*\(auth\).*source zone Europe\/Amsterdam.*userTimeZones: false/),
    ]);
    expect(pages[0]?.warnings?.[0]).not.toContain(TOKEN);
  });

  it('Given GET /v2/users keeps failing (5xx), when read, then every entry still arrives, users known from the last read keep their zone, and one warning names the call and the source zone', async () => {
    const api = nock(BASE)
      .get('/users')
      .query(true)
      .times(2) // retry.maxAttempts
      .reply(503, { message: 'unavailable' })
      .get('/time_entries')
      .query(true)
      .reply(200, { time_entries: [fixtures.night, fixtures.pacific], links: { next: `${BASE}/time_entries?cursor=p2&per_page=2000` } })
      .get('/time_entries')
      .query({ cursor: 'p2', per_page: '2000' })
      .reply(200, { time_entries: [fixtures.nonBillable], links: { next: null } });
    // The last successful read knew user 8 was in Los Angeles.
    const pages = await readAll({ v: 1, updatedSince: null, userZones: { '8': 'America/Los_Angeles' } });
    expect(api.isDone()).toBe(true);
    const m = mapped(pages);
    expect([...m.values()].every((r) => r.kind === 'entry')).toBe(true);
    expect(m.size).toBe(3);
    expect(m.get('5')).toMatchObject({ kind: 'entry', entry: { timeZone: 'America/Los_Angeles', start: '2024-03-14T06:00:00Z' } });
    expect(m.get('4')).toMatchObject({ kind: 'entry', entry: { timeZone: 'Europe/Amsterdam' } });
    const warnings = pages.flatMap((p) => p.warnings ?? []);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/GET \/v2\/users.*\(transient\).*1 user\(s\) known from the last read.*source zone Europe\/Amsterdam/);
    // The cache carries on, so the next run keeps the same zones even if the call fails again.
    expect(pages.at(-1)?.cursor).toMatchObject({ userZones: { '8': 'America/Los_Angeles' } });
  });

  it('Given users listed, when read, then their zones are kept in the cursor for a run whose users call fails', async () => {
    nock(BASE)
      .get('/users')
      .query(true)
      .reply(200, { users, links: { next: null } })
      .get('/time_entries')
      .query(true)
      .reply(200, { time_entries: [], links: { next: null } });
    const pages = await readAll();
    expect(pages.at(-1)?.cursor).toEqual({
      v: 1,
      updatedSince: '2024-03-20T11:55:00Z',
      userZones: { '7': 'Europe/Amsterdam', '8': 'America/Los_Angeles' },
    });
    expect(pages.flatMap((p) => p.warnings ?? [])).toEqual([]);
  });

  it('Given a token that signs in but may not list users, when checked, then the check passes with a warning about the users call', async () => {
    nock(BASE)
      .get('/users/me')
      .reply(200, { id: 1, first_name: 'Kim', last_name: 'Allen' })
      .get('/users')
      .query(true)
      .reply(403, { message: 'forbidden' });
    const res = await harvestSource.check(config, ctx);
    expect(res).toMatchObject({ ok: true });
    expect(res.warnings).toEqual([expect.stringMatching(/GET \/v2\/users.*source zone Europe\/Amsterdam/)]);
  });

  it('Given a token that may list users, when checked, then both calls are made and the check passes without warnings', async () => {
    const api = nock(BASE)
      .get('/users/me')
      .reply(200, { id: 1, first_name: 'Kim', last_name: 'Allen' })
      .get('/users')
      .query(true)
      .reply(200, { users, links: { next: null } });
    const res = await harvestSource.check(config, ctx);
    expect(api.isDone()).toBe(true);
    expect(res).toMatchObject({ ok: true, message: expect.stringContaining('time zones can be read') });
    expect(res.warnings).toBeUndefined();
  });

  it('Given a 401, when checked, then the message says what to check and never shows the token', async () => {
    nock(BASE)
      .get('/users/me')
      .reply(401, { error: 'invalid_token', error_description: `token ${TOKEN} revoked` });
    const res = await harvestSource.check(config, ctx);
    expect(res).toMatchObject({ ok: false, category: 'auth' });
    expect(res.message).toMatch(/harvest \(harvest\): .*Check the Harvest token.*accountId/);
    expect(res.message).not.toContain(TOKEN);
  });

  it('Given malformed entries, when mapped, then each problem names the field and the Harvest field', () => {
    const r = harvestSource.map(
      { ref: { id: '9' }, data: { entry: entry({ id: 9, hours: -1, started_time: '25:99' }), userTimeZone: null } },
      config,
      ctx,
    );
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') {
      expect(r.externalId).toBe('9');
      expect(r.problems).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ field: 'durationSeconds', column: 'hours' }),
          expect.objectContaining({ field: 'start', column: 'started_time' }),
        ]),
      );
    }
  });

  it('Given Harvest wall-clock formats, when parsed, then 12- and 24-hour times are understood', () => {
    expect(parseWallClock('3:00pm')).toEqual({ hour: 15, minute: 0 });
    expect(parseWallClock('12:15am')).toEqual({ hour: 0, minute: 15 });
    expect(parseWallClock('12:15 PM')).toEqual({ hour: 12, minute: 15 });
    expect(parseWallClock('08:05')).toEqual({ hour: 8, minute: 5 });
    expect(parseWallClock('13:00pm')).toBeNull();
    expect(parseWallClock('noon')).toBeNull();
  });
});
