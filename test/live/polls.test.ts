import '../fakes/node20-polyfills';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import nock from 'nock';
import pino from 'pino';
import type { HarvestTimeEntry } from '../../connectors/harvest/types';
import { loadConfig } from '../../src/config/loader';
import { closeRateLimiters } from '../../src/http/rate-limit';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { LiveUpdates } from '../../src/live/live.runtime';
import { QueueRunner } from '../../src/queue/queue.runner';
import { describeIf } from '../support/runner';
import { createTestDatabase, postgresAvailable, redisAvailable, redisUrl } from '../support/services';

const up = (await postgresAvailable()) && (await redisAvailable());
const BASE = 'https://harvest.test/v2';

/** A Harvest account as its API documents it (https://help.getharvest.com/api-v2/timesheets-api/timesheets/time-entries/). */
function entry(id: number, hours: number): HarvestTimeEntry {
  return {
    id,
    spent_date: new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10),
    hours,
    rounded_hours: hours,
    started_time: null,
    ended_time: null,
    user: { id: 7, name: 'Kim Allen' },
    client: { id: 5, name: 'Globex', currency: 'EUR' },
    project: { id: 14, name: 'Task Force', code: 'TF' },
    task: { id: 8, name: 'Programming' },
    user_assignment: { id: 1 },
    task_assignment: { id: 2 },
    billable: true,
    billable_rate: null,
    cost_rate: null,
    is_billed: false,
    invoice: null,
    is_locked: false,
    locked_reason: null,
    approval_status: 'approved',
    is_closed: false,
    is_running: false,
    timer_started_at: null,
    notes: null,
    created_at: '2026-01-01T10:00:00Z',
    updated_at: new Date().toISOString(),
  };
}

describeIf(up)('Source polls (Harvest updated_since): a cheap look each time, a pull only when the source changed', () => {
  let tmp: string;
  let ledger: Ledger;
  let runner: QueueRunner;
  let live: LiveUpdates;
  let drop: () => Promise<void>;
  const prefix = `hbtest-poll-${randomBytes(4).toString('hex')}`;
  const account = { entries: [entry(1, 2)], looks: 0, listings: 0, changedSinceLook: true };

  beforeAll(async () => {
    nock.disableNetConnect();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hb-poll-'));
    const db = await createTestDatabase();
    drop = db.drop;
    ledger = await openLedger({ url: db.url });
    const file = path.join(tmp, 'hourbridge.yaml');
    await writeFile(
      file,
      `
sources:
  - { id: harvest, kind: harvest, accountId: 1, token: fake-harvest-token, baseUrl: "${BASE}", userTimeZones: false, currency: EUR, poll: { everySeconds: 30 } }
clients:
  - { id: globex, name: Globex, currency: EUR, timeZone: Europe/Amsterdam, destination: files, period: { unit: month } }
rates:
  rulesets:
    standard:
      base:
        - { id: default, hourly: '65.00' }
destinations:
  - { id: files, kind: file, dir: ./out }
`,
    );
    const config = loadConfig(file);
    const log = pino({ level: 'silent' });
    runner = new QueueRunner({ config, ledger, log, redisUrl, prefix });
    live = new LiveUpdates({ config, ledger, runner, log, redisUrl }).register();
    nock(BASE)
      .persist()
      .get('/time_entries')
      .query(true)
      .reply(200, (req: Request) => {
        const q = new URL(req.url).searchParams;
        if (q.get('per_page') === '1') {
          account.looks++;
          const n = account.changedSinceLook ? account.entries.length : 0;
          return {
            time_entries: account.entries.slice(0, Math.min(1, n)),
            per_page: 1,
            total_pages: n,
            total_entries: n,
            links: { next: null },
          };
        }
        account.listings++;
        return {
          time_entries: account.entries,
          per_page: 2000,
          total_pages: 1,
          total_entries: account.entries.length,
          links: { next: null },
        };
      });
  });

  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    live?.close();
    await runner?.close();
    await closeRateLimiters();
    const r = new Redis(redisUrl);
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length > 0) await r.del(...keys);
    r.disconnect();
    await ledger?.close();
    await drop?.();
    await rm(tmp, { recursive: true, force: true });
  });

  it('Given a source with poll.everySeconds When the polls are synced Then one job scheduler repeats every that many seconds', async () => {
    expect(await live.syncPolls()).toEqual(['live.poll.harvest']);
    const [scheduler] = await runner.queues.pull.getJobSchedulers();
    expect(scheduler).toMatchObject({ key: 'live.poll.harvest', every: 30_000 });
  });

  it('Given polls in a row When the source changed only before the first and third Then only those pull; the others cost one per_page=1 request', async () => {
    // First look: nothing known yet, so it pulls (the listing), and the entry is in the ledger.
    expect(await live.pollOnce('harvest')).toMatchObject({ changed: true, read: 1 });
    expect(account.listings).toBeGreaterThan(0);
    const listings = account.listings;
    // Nothing updated since: one cheap look, no listing.
    account.changedSinceLook = false;
    expect(await live.pollOnce('harvest')).toEqual({ changed: false });
    expect(await live.pollOnce('harvest')).toEqual({ changed: false });
    expect(account.looks).toBe(2);
    expect(account.listings).toBe(listings);
    // An edit at the source: the look sees it and the pull reads it.
    account.entries = [entry(1, 3), entry(2, 1)];
    account.changedSinceLook = true;
    expect(await live.pollOnce('harvest')).toMatchObject({ changed: true });
    expect(account.listings).toBeGreaterThan(listings);
    const rows = await ledger.rows<{ n: number }>(
      (await import('drizzle-orm')).sql`SELECT count(*)::int AS n FROM time_entries WHERE source_id = 'harvest'`,
    );
    expect(rows[0]?.n).toBe(2);
    // The client's assembly was queued (its job runs on the workers).
    const jobs = await runner.queues.assemble.getJobs(['delayed', 'waiting']);
    expect(jobs.some((j) => j.name === 'live-assemble' && j.data.clientId === 'globex')).toBe(true);
  });
});
