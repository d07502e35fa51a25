import '../../test/fakes/node20-polyfills';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import pino from 'pino';
import type { ConnectorContext, Cursor, SourcePage } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { kimaiSource } from './index';
import { KimaiConfigSchema } from './config.schema';
import type { KimaiTimesheet } from './types';

// A self-hosted installation; the API root is <host>/api.
const HOST = 'https://kimai.fake.test';
const TOKEN = 'FAKE-KIMAI-TOKEN-1111';
const NOW = new Date('2024-03-20T12:00:00Z');
const ctx: ConnectorContext = { log: pino({ level: 'silent' }), now: NOW, configDir: '.' };
const config = KimaiConfigSchema.parse({
  id: 'kimai',
  kind: 'kimai',
  baseUrl: `${HOST}/api`,
  token: TOKEN,
  timeZone: 'Europe/Berlin',
  currency: 'EUR',
  retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
});

// Rows of GET /api/timesheets?full=true, shaped as https://www.kimai.org/documentation/rest-api.html
// (TimesheetCollectionExpanded: begin/end with the user's offset, duration in seconds).
function row(over: Partial<KimaiTimesheet>): KimaiTimesheet {
  return {
    id: 42,
    begin: '2024-03-14T10:00:00+0100',
    end: '2024-03-14T11:30:00+0100',
    duration: 5400,
    description: 'Design review',
    rate: 127.5,
    hourlyRate: 85,
    fixedRate: null,
    internalRate: 60,
    exported: false,
    billable: true,
    tags: ['onsite'],
    user: { id: 1, username: 'ada', alias: 'Ada Worker' },
    project: { id: 7, name: 'Website', customer: { id: 3, name: 'Acme BV', currency: 'EUR' } },
    activity: { id: 11, name: 'Development' },
    metaFields: [],
    ...over,
  };
}
const map = (e: KimaiTimesheet) => kimaiSource.map({ ref: { id: String(e.id) }, data: { entry: e } }, config, ctx);

function listing(rows: KimaiTimesheet[], check?: (q: Record<string, string>) => boolean) {
  return nock(HOST, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
    .get('/api/timesheets')
    .query((q) => (check ? check(q as Record<string, string>) : true))
    .reply(200, rows, {
      'X-Page': '1',
      'X-Total-Count': String(rows.length),
      'X-Total-Pages': rows.length ? '1' : '0',
      'X-Per-Page': '250',
    });
}
async function readAll(cursors: Record<string, Cursor | undefined> = {}): Promise<SourcePage[]> {
  const pages: SourcePage[] = [];
  for await (const p of kimaiSource.read(config, { cursors }, ctx)) pages.push(p);
  return pages;
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('kimai mapping', () => {
  it("Given a finished timesheet, when mapped, then duration is billed from begin, with the customer, user, activity, hourly rate and Kimai's own times in provenance", () => {
    const m = map(row({ end: '2024-03-14T11:45:00+0100' }));
    expect(m.kind).toBe('entry');
    if (m.kind !== 'entry') return;
    expect(m.entry).toMatchObject({
      externalId: '42',
      client: 'Acme BV',
      project: 'Website',
      task: 'Development',
      worker: { id: '1', name: 'Ada Worker' },
      date: '2024-03-14',
      start: '2024-03-14T09:00:00Z',
      end: '2024-03-14T10:30:00Z',
      durationSeconds: 5400,
      billable: true,
      billedAtSource: false,
      sourceRate: '85',
      sourceCurrency: 'EUR',
      tags: ['onsite'],
    });
    expect(m.entry.provenance.sourceTimes?.end).toEqual({ field: 'end', value: '2024-03-14T11:45:00+0100' });
  });

  it('Given a timesheet with exported: true, when mapped, then it is billed at source', () => {
    const m = map(row({ exported: true }));
    expect(m.kind === 'entry' && m.entry.billedAtSource).toBe(true);
  });

  it('Given a timesheet with billable: false, when mapped, then it is non-billable and carries no source rate', () => {
    const m = map(row({ billable: false }));
    expect(m.kind).toBe('entry');
    if (m.kind === 'entry') {
      expect(m.entry.billable).toBe(false);
      expect(m.entry.sourceRate).toBeUndefined();
    }
  });

  it('Given a fixed-rate timesheet, when mapped, then its hourlyRate is not offered as an hourly source rate', () => {
    const m = map(row({ fixedRate: 200, hourlyRate: 0 }));
    expect(m.kind === 'entry' && m.entry.sourceRate).toBeUndefined();
  });

  it('Given a running timer (no end), when mapped, then it is skipped', () => {
    const m = map(row({ end: null, duration: 0 }));
    expect(m).toMatchObject({ kind: 'skip' });
    expect(m.kind === 'skip' && m.reason).toMatch(/running timer/);
  });

  it('Given timesheets without a customer, a user or a valid begin, when mapped, then each is invalid naming the field', () => {
    const cases: Array<[Partial<KimaiTimesheet>, string]> = [
      [{ project: 7 }, 'client'],
      [{ user: 1 }, 'worker'],
      [{ begin: 'last tuesday' }, 'start'],
      [{ duration: 12.5 }, 'durationSeconds'],
    ];
    for (const [over, field] of cases) {
      const m = map(row(over));
      expect(m.kind).toBe('invalid');
      if (m.kind === 'invalid') {
        expect(m.externalId).toBe('42');
        expect(m.problems.map((p) => p.field)).toContain(field);
      }
    }
  });
});

describe('kimai reading', () => {
  it("Given a first sync, when read, then it lists every user's timesheets expanded (user=all, full=true) and a malformed row does not stop the rest", async () => {
    const scope = listing(
      [row({}), row({ id: 43, duration: -1 }), row({ id: 44, end: null, duration: 0 })],
      (q) => q.full === 'true' && q.user === 'all' && q.page === '1',
    );
    const pages = await readAll();
    scope.done();
    const results = pages.flatMap((p) => p.records).map((r) => kimaiSource.map(r, config, ctx));
    expect(results.map((r) => r.kind)).toEqual(['entry', 'invalid', 'skip']);
    expect(pages.at(-1)?.reconcile).toEqual({ from: null, to: null });
  });

  it("Given a cursor, when read incrementally, then modified_after is the last run's start minus the safety lag in the user's local time, and the window is re-listed from its first day, each entry once", async () => {
    const cursor = { v: 1, modifiedAfter: '2024-03-19T11:55:00.000Z' };
    // Kimai's `end` filter is not documented as comparing begin: an entry inside the window the
    // server still returns to the modified_after listing is left to the window's listing.
    const inc = listing(
      [row({ id: 41, begin: '2024-01-10T10:00:00+0100', end: '2024-01-10T11:00:00+0100', duration: 3600 }), row({})],
      (q) => q.modified_after === '2024-03-19T12:55:00' && q.end === '2024-02-15T00:00:00',
    );
    const rec = listing([row({})], (q) => q.begin === '2024-02-15T00:00:00' && q.modified_after === undefined);
    const pages = await readAll({ timesheets: cursor });
    inc.done();
    rec.done();
    expect(pages.flatMap((p) => p.records.map((r) => r.ref.id))).toEqual(['41', '42']);
    expect(pages.at(-1)?.cursor).toEqual({ v: 1, modifiedAfter: '2024-03-20T11:55:00.000Z' });
    expect(pages.at(-1)?.reconcile).toEqual({ from: '2024-02-15', to: null });
  });

  it('Given a rejected token, when read or checked, then the failure is an auth error that says what to check and never contains the token', async () => {
    nock(HOST).get('/api/timesheets').query(true).reply(401, { code: 401, message: 'Unauthorized' });
    const err = await readAll().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).category).toBe('auth');
    expect((err as ConnectorError).message).toContain('KIMAI_API_TOKEN');
    expect((err as ConnectorError).message).not.toContain(TOKEN);

    nock(HOST).get('/api/users/me').reply(401, { code: 401, message: 'Unauthorized' });
    const check = await kimaiSource.check(config, ctx);
    expect(check).toMatchObject({ ok: false, category: 'auth' });
    expect(check.message).toMatch(/kimai/);
    expect(check.message).not.toContain(TOKEN);
  });

  it('Given auth: legacy, when checked, then X-AUTH-USER and X-AUTH-TOKEN are sent instead of a bearer token', async () => {
    const legacy = KimaiConfigSchema.parse({ ...config, auth: 'legacy', user: 'ada' });
    const scope = nock(HOST, { reqheaders: { 'x-auth-user': 'ada', 'x-auth-token': TOKEN }, badheaders: ['authorization'] })
      .get('/api/users/me')
      .reply(200, { id: 1, username: 'ada', alias: 'Ada Worker' })
      .get('/api/timesheets')
      .query(true)
      .reply(200, [], { 'X-Total-Pages': '0' });
    const check = await kimaiSource.check(legacy, ctx);
    scope.done();
    expect(check).toMatchObject({ ok: true });
    expect(check.message).toContain('Ada Worker');
    const missing = await kimaiSource.check(KimaiConfigSchema.parse({ ...config, auth: 'legacy' }), ctx);
    expect(missing).toMatchObject({ ok: false, category: 'config' });
  });
});
