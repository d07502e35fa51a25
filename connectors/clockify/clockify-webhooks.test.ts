import '../../test/fakes/node20-polyfills';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import pino from 'pino';
import type { ConnectorContext, SourcePage, StoredSubscription } from '../../src/connectors/contract';
import { clockifySource } from './index';
import { ClockifyConfigSchema } from './config.schema';
import { clockifyWebhooks } from './webhooks';
import type { ClockifyTimeEntry } from './types';

const API = 'https://clockify.fake.test/api/v1';
const ctx: ConnectorContext = { log: pino({ level: 'silent' }), now: new Date('2024-03-20T12:00:00Z'), configDir: '.' };
const config = ClockifyConfigSchema.parse({
  id: 'clockify',
  kind: 'clockify',
  apiKey: 'FAKE-CLOCKIFY-KEY',
  workspaceId: 'ws1',
  baseUrl: API,
  timeZone: 'Europe/Amsterdam',
  retry: { maxAttempts: 1 },
});
const sub: StoredSubscription = {
  ids: ['wh1', 'wh2'],
  secrets: ['fake-token-new', 'fake-token-upd'],
  url: 'https://hb.test/hooks/sources/clockify',
};

// The time-entry payload Clockify posts (a TimeEntryDtoV1, https://docs.clockify.me/#tag/Time-entry).
const entry: ClockifyTimeEntry = {
  id: 'te1',
  description: 'Design review',
  userId: 'u-ada',
  billable: true,
  projectId: 'p1',
  timeInterval: { start: '2024-03-11T23:30:00Z', end: '2024-03-12T01:00:00Z', duration: 'PT1H30M' },
  workspaceId: 'ws1',
  type: 'REGULAR',
  project: { id: 'p1', name: 'Website', clientId: 'c1', clientName: 'Acme BV' },
};
const req = (type: string, body: unknown, token?: string) => ({
  rawBody: Buffer.from(JSON.stringify(body)),
  headers: { 'clockify-webhook-event-type': type, ...(token ? { 'clockify-signature': token } : {}) },
});

describe('Clockify webhooks: token check, events, and the live read of just the named entries', () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(() => nock.enableNetConnect());

  it('Given the Clockify-Signature header When verified Then any stored token of the subscription passes and anything else fails', () => {
    expect(clockifyWebhooks.verify(req('NEW_TIME_ENTRY', entry, 'fake-token-upd'), sub)).toBe(true);
    expect(clockifyWebhooks.verify(req('NEW_TIME_ENTRY', entry, 'fake-token-up'), sub)).toBe(false);
    expect(clockifyWebhooks.verify(req('NEW_TIME_ENTRY', entry, 'fake-token-updX'), sub)).toBe(false);
    expect(clockifyWebhooks.verify(req('NEW_TIME_ENTRY', entry), sub)).toBe(false);
  });

  it('Given time-entry events When parsed Then they name the entry, its local date and whether it was deleted; the same delivery twice has one key', () => {
    const [deleted] = clockifyWebhooks.parse(req('TIME_ENTRY_DELETED', entry), config);
    // 23:30 UTC on the 11th is the 12th in Amsterdam.
    expect(deleted).toMatchObject({ kind: 'change', externalId: 'te1', deleted: true, date: '2024-03-12' });
    const [updated] = clockifyWebhooks.parse(req('TIME_ENTRY_UPDATED', entry), config);
    expect(updated).toMatchObject({ kind: 'change', deleted: false });
    expect(clockifyWebhooks.parse(req('TIME_ENTRY_UPDATED', entry), config)[0]).toEqual(updated);
    expect((updated as { eventKey: string }).eventKey).not.toBe((deleted as { eventKey: string }).eventKey);
    expect(clockifyWebhooks.parse(req('NEW_PROJECT', { id: 'p9' }), config)[0]).toMatchObject({ kind: 'ignored' });
    expect(clockifyWebhooks.parse(req('NEW_TIME_ENTRY', { ...entry, workspaceId: 'other' }), config)[0]).toMatchObject({ kind: 'ignored' });
  });

  it('Given a live selection When read Then each entry is fetched by id (hydrated), and an id reported deleted that answers 404 comes back deleted', async () => {
    const api = nock(API)
      .get('/workspaces/ws1/users')
      .query(true)
      .reply(200, [{ id: 'u-ada', name: 'Ada', settings: { timeZone: 'Europe/Amsterdam' } }])
      .get('/workspaces/ws1/time-entries/te1')
      .query({ hydrated: 'true' })
      .reply(200, entry)
      .get('/workspaces/ws1/time-entries/te2')
      .query({ hydrated: 'true' })
      .reply(404, { message: 'Time entry not found', code: 404 })
      .get('/workspaces/ws1/time-entries/te3')
      .query({ hydrated: 'true' })
      .reply(404, { message: 'Time entry not found', code: 404 });
    const pages: SourcePage[] = [];
    const only = { externalIds: ['te1', 'te2', 'te3'], deleted: ['te2'], window: { from: '2024-03-10', to: '2024-03-13' } };
    for await (const p of clockifySource.read(config, { cursors: {}, only }, ctx)) pages.push(p);
    expect(api.isDone()).toBe(true);
    expect(pages).toHaveLength(1);
    expect(pages[0]).toMatchObject({ cursor: null, deletedExternalIds: ['te2'] });
    expect(pages[0]!.reconcile).toBeUndefined();
    const mapped = clockifySource.map(pages[0]!.records[0]!, config, ctx);
    expect(mapped).toMatchObject({
      kind: 'entry',
      entry: { externalId: 'te1', client: 'Acme BV', worker: { name: 'Ada' }, durationSeconds: 5400 },
    });
  });
});
