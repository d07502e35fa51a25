import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, it } from '@jest/globals';
import nock from 'nock';
import request from 'supertest';
import type { ClockifyTimeEntry } from '../../connectors/clockify/types';
import { describeIf, eventually } from '../support/runner';
import { postgresAvailable, redisAvailable } from '../support/services';
import { CLOCKIFY_TOKENS, entryOnDraft, recentStart, startLiveService, type LiveHarness } from './support';

const up = (await postgresAvailable()) && (await redisAvailable());

describeIf(up)(
  'Clockify webhooks → POST /hooks/sources/clockify → the entry on the written draft (real Redis, BullMQ, PostgreSQL, HTTP)',
  () => {
    let h: LiveHarness;
    const entries = new Map<string, ClockifyTimeEntry>();
    const http = () => request(h.app.getHttpServer());
    const post = (type: string, body: unknown, token?: string) => {
      const r = http().post('/hooks/sources/clockify').set('Content-Type', 'application/json').set('Clockify-Webhook-Event-Type', type);
      return (token ? r.set('Clockify-Signature', token) : r).send(JSON.stringify(body));
    };
    // A TimeEntryDtoV1 as Clockify documents it (https://docs.clockify.me/#tag/Time-entry), hydrated.
    const entry = (id: string, start: string): ClockifyTimeEntry => ({
      id,
      description: 'Design review',
      userId: 'u-ada',
      billable: true,
      projectId: 'p1',
      workspaceId: 'ws1',
      type: 'REGULAR',
      timeInterval: { start, end: new Date(Date.parse(start) + 2 * 3600_000).toISOString(), duration: 'PT2H' },
      project: { id: 'p1', name: 'Website', clientId: 'c1', clientName: 'Globex' },
    });

    beforeAll(async () => {
      nock.disableNetConnect();
      nock.enableNetConnect(/127\.0\.0\.1|localhost/);
      const api = nock('https://clockify.test').persist();
      api
        .get('/api/v1/workspaces/ws1/users')
        .query(true)
        .reply(200, [{ id: 'u-ada', name: 'Ada', settings: { timeZone: 'Europe/Amsterdam' } }]);
      api
        .get(/\/api\/v1\/workspaces\/ws1\/time-entries\/[^/?]+/)
        .query(true)
        .reply((req: Request) => {
          const id = new URL(req.url).pathname.split('/').pop()!;
          const e = entries.get(id);
          return e ? [200, e] : [404, { message: 'Time entry not found', code: 404 }];
        });
      h = await startLiveService({ prefix: `hbtest-clockify-${randomBytes(4).toString('hex')}` });
    }, 60_000);

    afterAll(async () => {
      nock.cleanAll();
      await h?.close();
      nock.enableNetConnect();
    });

    it('Given a delivery with a stored token When posted Then 202 and the entry reaches the written draft; a wrong token and the same delivery again are 401', async () => {
      const e = entry('cf1', recentStart(3));
      entries.set('cf1', e);
      await post('NEW_TIME_ENTRY', e, CLOCKIFY_TOKENS[0]).expect(202, { queued: 1, ignored: 0 });
      await post('TIME_ENTRY_UPDATED', e, 'fake-clockify-hook-token-wrong').expect(401);
      await post('TIME_ENTRY_UPDATED', e).expect(401);
      await post('NEW_TIME_ENTRY', e, CLOCKIFY_TOKENS[0]).expect(401);
      await eventually(() => entryOnDraft(h.ledger, 'cf1', 'clockify'), { timeout: 15_000, interval: 100 }).toMatchObject({
        onDraft: true,
        written: true,
      });
    }, 30_000);

    it('Given a TIME_ENTRY_DELETED delivery When Clockify answers 404 for the entry Then it leaves the draft', async () => {
      const e = entry('cf2', recentStart(4));
      entries.set('cf2', e);
      await post('NEW_TIME_ENTRY', e, CLOCKIFY_TOKENS[0]).expect(202);
      await eventually(() => entryOnDraft(h.ledger, 'cf2', 'clockify'), { timeout: 15_000, interval: 100 }).toMatchObject({
        written: true,
      });
      entries.delete('cf2');
      await post('TIME_ENTRY_DELETED', e, CLOCKIFY_TOKENS[1]).expect(202);
      await eventually(() => entryOnDraft(h.ledger, 'cf2', 'clockify'), { timeout: 15_000, interval: 100 }).toEqual({
        status: 'deleted',
        onDraft: false,
        written: false,
      });
    }, 40_000);
  },
);
