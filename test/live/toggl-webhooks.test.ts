import { createHmac, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import nock from 'nock';
import request from 'supertest';
import { clientPendingKeys } from '../../src/live/live.repository';
import { describeIf, eventually } from '../support/runner';
import { postgresAvailable, redisAvailable } from '../support/services';
import {
  API_TOKEN,
  counter,
  entryOnDraft,
  HOOK_SECRET,
  recentStart,
  startLiveService,
  TogglWorkspace,
  togglEvent,
  type LiveHarness,
} from './support';

const up = (await postgresAvailable()) && (await redisAvailable());

describeIf(up)(
  'Toggl webhooks → POST /hooks/sources/:id → the changed entry on the written draft (real Redis, BullMQ, PostgreSQL, HTTP)',
  () => {
    let h: LiveHarness;
    const toggl = new TogglWorkspace();
    const http = () => request(h.app.getHttpServer());
    const post = (e: { body: string; signature?: string }) => {
      const r = http().post('/hooks/sources/toggl').set('Content-Type', 'application/json');
      return (e.signature ? r.set('X-Webhook-Signature-256', e.signature) : r).send(e.body);
    };
    const metrics = async () =>
      (
        await http()
          .get('/metrics')
          .set({ Authorization: `Bearer ${API_TOKEN}` })
          .expect(200)
      ).text;
    const hooks = async (outcome: string) => counter(await metrics(), 'hourbridge_source_webhooks_total', { source: 'toggl', outcome });

    beforeAll(async () => {
      nock.disableNetConnect();
      nock.enableNetConnect(/127\.0\.0\.1|localhost/);
      // The burst below must land in one assembly: its delay outlasts sending 50 events and pulling them.
      h = await startLiveService({ prefix: `hbtest-live-${randomBytes(4).toString('hex')}`, live: { assembleDelayMs: 4000 } });
      h.app.getHttpServer().listen(0);
    }, 60_000);

    afterEach(() => {
      nock.cleanAll();
    });

    afterAll(async () => {
      await h?.close();
      nock.enableNetConnect();
    });

    it('Given a delivery signed with the subscription secret When posted Then 202 and counted accepted; a wrong or missing signature is 401 and counted unverified', async () => {
      toggl.intercept();
      toggl.put(9001, recentStart(3));
      const before = { accepted: await hooks('accepted'), unverified: await hooks('unverified') };
      const good = togglEvent(9001, 'created', recentStart(3));
      await post(good).expect(202, { queued: 1, ignored: 0 });
      await post({ ...togglEvent(9001, 'updated', recentStart(3), { secret: 'not-the-secret' }) }).expect(401);
      await post({ body: togglEvent(9001, 'updated', recentStart(3)).body }).expect(401);
      // A valid signature of another body does not carry over.
      await post({ body: togglEvent(9001, 'updated', recentStart(3)).body, signature: good.signature }).expect(401);
      expect(await hooks('accepted')).toBe(before.accepted + 1);
      expect(await hooks('unverified')).toBe(before.unverified + 3);
      await eventually(() => entryOnDraft(h.ledger, '9001'), { timeout: 15_000, interval: 100 }).toMatchObject({
        onDraft: true,
        written: true,
      });
    }, 30_000);

    it('Given a delivery already accepted, or one sent outside the replay window When posted again Then 401 and counted replayed, and nothing is queued', async () => {
      const before = await hooks('replayed');
      const once = togglEvent(9002, 'created', recentStart(4));
      await post(once).expect(202);
      await post(once).expect(401);
      const old = togglEvent(9002, 'updated', recentStart(4), { timestamp: new Date(Date.now() - 20 * 60_000).toISOString() });
      await post(old).expect(401);
      expect(await hooks('replayed')).toBe(before + 2);
    });

    it("Given a new subscription's PING with a validation code When posted Then 200 echoes the code (Toggl's synchronous validation)", async () => {
      const body = JSON.stringify({
        event_id: 0,
        created_at: new Date().toISOString(),
        creator_id: 6,
        metadata: { request_type: 'POST', event_user_id: 6 },
        payload: 'ping',
        subscription_id: 5,
        timestamp: new Date().toISOString(),
        validation_code: 'b7c3-fake-code',
      });
      const signature = `sha256=${createHmac('sha256', HOOK_SECRET).update(body).digest('hex')}`;
      await post({ body, signature }).expect(200, { validation_code: 'b7c3-fake-code' });
    });

    it('Given an entry on the written draft When Toggl reports it updated Then the draft is rewritten with its new duration', async () => {
      toggl.intercept();
      toggl.put(9101, recentStart(5), 3600);
      await post(togglEvent(9101, 'created', recentStart(5))).expect(202);
      await eventually(() => entryOnDraft(h.ledger, '9101'), { timeout: 15_000, interval: 100 }).toMatchObject({ written: true });
      const hours = async () =>
        (await h.ledger.rows<{ h: string }>(sql`SELECT (data->>'durationSeconds') AS h FROM time_entries WHERE external_id = '9101'`))[0]
          ?.h;
      toggl.put(9101, recentStart(5), 5400);
      await post(togglEvent(9101, 'updated', recentStart(5))).expect(202);
      await eventually(hours, { timeout: 15_000, interval: 100 }).toBe('5400');
      await eventually(() => entryOnDraft(h.ledger, '9101'), { timeout: 15_000, interval: 100 }).toMatchObject({ written: true });
    }, 40_000);

    it('Given an entry on the written draft When Toggl reports it deleted (and no longer lists it) Then it leaves the draft, which is written again', async () => {
      toggl.intercept();
      toggl.put(9201, recentStart(6));
      await post(togglEvent(9201, 'created', recentStart(6))).expect(202);
      await eventually(() => entryOnDraft(h.ledger, '9201'), { timeout: 15_000, interval: 100 }).toMatchObject({ written: true });
      toggl.entries.delete(9201);
      await post(togglEvent(9201, 'deleted', recentStart(6))).expect(202);
      await eventually(() => entryOnDraft(h.ledger, '9201'), { timeout: 15_000, interval: 100 }).toEqual({
        status: 'deleted',
        onDraft: false,
        written: false,
      });
      // The draft it was on no longer bills it, and that version was written.
      await eventually(() => clientPendingKeys(h.ledger, 'globex'), { timeout: 15_000, interval: 100 }).toEqual([]);
    }, 40_000);

    it('Given a deletion event for an entry the source still lists When posted Then the entry stays (the API, not the body, decides)', async () => {
      toggl.intercept();
      toggl.put(9301, recentStart(7));
      await post(togglEvent(9301, 'created', recentStart(7))).expect(202);
      await eventually(() => entryOnDraft(h.ledger, '9301'), { timeout: 15_000, interval: 100 }).toMatchObject({ written: true });
      const searches = toggl.searches;
      await post(togglEvent(9301, 'deleted', recentStart(7))).expect(202);
      await eventually(() => toggl.searches, { timeout: 10_000, interval: 100 }).toBeGreaterThan(searches);
      await new Promise((r) => setTimeout(r, 500));
      expect(await entryOnDraft(h.ledger, '9301')).toMatchObject({ status: 'drafted', onDraft: true });
    }, 40_000);

    it('Given a burst of 50 events for one client When they arrive together Then every entry reaches the written draft through exactly one assembly of that client', async () => {
      toggl.intercept();
      const completed = async (queue: string, job: string) =>
        counter(await metrics(), 'hourbridge_jobs_total', { queue, job, outcome: 'completed' });
      await new Promise((r) => setTimeout(r, 4500)); // earlier tests' assemblies have run
      const before = { assemblies: await completed('assemble', 'live-assemble'), pulls: await completed('pull', 'live-pull') };
      const ids = Array.from({ length: 50 }, (_, i) => 9400 + i);
      for (const id of ids) toggl.put(id, recentStart(1 + (id % 5), 6 + (id % 10)));
      // Five waves 400 ms apart: several pulls (100 ms debounce each), one assembly (4 s debounce).
      const codes: number[] = [];
      for (let wave = 0; wave < 5; wave++) {
        const batch = ids.slice(wave * 10, wave * 10 + 10).map((id) => togglEvent(id, 'created', toggl.entries.get(id)!.start));
        codes.push(...(await Promise.all(batch.map((e) => post(e).then((r) => r.status)))));
        await new Promise((r) => setTimeout(r, 400));
      }
      expect(codes).toEqual(ids.map(() => 202));
      for (const id of ids)
        await eventually(() => entryOnDraft(h.ledger, String(id)), { timeout: 30_000, interval: 200 }).toMatchObject({ written: true });
      await new Promise((r) => setTimeout(r, 500));
      expect((await completed('pull', 'live-pull')) - before.pulls).toBeGreaterThan(1);
      // Job data holds ids only (invariant 6): no secret, token or entry content travels in a job.
      const jobs = [
        ...(await h.runner.queues.pull.getJobs(['completed', 'delayed', 'waiting'])),
        ...(await h.runner.queues.assemble.getJobs(['completed', 'delayed', 'waiting'])),
      ];
      expect(jobs.length).toBeGreaterThan(0);
      for (const j of jobs)
        expect(Object.keys(j.data as object).sort()).toEqual(j.name === 'live-pull' ? ['gen', 'sourceId'] : ['clientId', 'gen']);
      expect(JSON.stringify(jobs.map((j) => j.data))).not.toMatch(/fake-toggl|secret/);
      expect((await completed('assemble', 'live-assemble')) - before.assemblies).toBe(1);
    }, 60_000);
  },
);
