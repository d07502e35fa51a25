import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from '@jest/globals';
import { describeIf, itIf, expectWithMessage } from '../support/runner';
import { Redis } from 'ioredis';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { runSync } from '../../src/runners/inline.runner';
import { QueueRunner } from '../../src/queue/queue.runner';
import { createTestDatabase, postgresAvailable, redisAvailable, redisUrl } from '../support/services';
import { generatedConfig } from './support/generated-source';
import { entriesOnTwoInvoices, invoiceFacts, outputFiles, ratedEntriesNotInvoiced } from './support/ledger-facts';
import { startRedisServer, startWorkerProcess, waitForFile, waitForPort, type WorkerProcess } from './support/processes';

const up = (await postgresAvailable()) && (await redisAvailable());
// The restart test runs its own redis-server (never the shared one); skipped where the binary is absent.
const redisServerBinary = spawnSync('redis-server', ['--version']).status === 0;
const log = pino({ level: 'silent' });

/** One fresh ledger, queue prefix and output directory per scenario. */
async function scenario(count: number, redis = redisUrl) {
  const db = await createTestDatabase();
  const ledger = await openLedger({ url: db.url, poolSize: 4 });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'hb-fault-'));
  const outDir = path.join(tmp, 'out');
  const prefix = `hbtest-fault-${randomBytes(4).toString('hex')}`;
  const config = generatedConfig({ count, outDir });
  const runner = new QueueRunner({ config, ledger, log, redisUrl: redis, prefix });
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redis,
    HB_PREFIX: prefix,
    HB_OUT_DIR: outDir,
    HB_COUNT: String(count),
    HB_WRITE_LOG: path.join(tmp, 'writes.log'),
  };
  return {
    db,
    ledger,
    tmp,
    outDir,
    runner,
    env,
    async cleanup() {
      await runner.close();
      const r = new Redis(redis, { maxRetriesPerRequest: 1 });
      const keys = await r.keys(`${prefix}:*`).catch(() => []);
      if (keys.length > 0) await r.del(...keys);
      r.disconnect();
      await ledger.close();
      await db.drop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

/** The promise every fault test checks: each invoice once (ledger and destination), each entry on one. */
async function expectExactlyOnce(ledger: Ledger, outDir: string) {
  expect(await entriesOnTwoInvoices(ledger)).toBe(0);
  expect(await ratedEntriesNotInvoiced(ledger)).toBe(0);
  const facts = await invoiceFacts(ledger);
  expect(facts.length).toBeGreaterThan(0);
  expect(facts.every((f) => f.status === 'pushed')).toBe(true);
  const dupKeys = await ledger.rows<{ n: number }>(
    sql`SELECT count(*)::int AS n FROM (SELECT client_id, period_label FROM invoices WHERE live GROUP BY 1, 2 HAVING count(*) > 1) x`,
  );
  expect(dupKeys[0]!.n).toBe(0);
  const files = await outputFiles(outDir);
  expect([...files.keys()].sort()).toEqual(facts.map((f) => f.key).sort());
  for (const f of facts) expect(files.get(f.key)!.net).toBe(f.total);
  return facts;
}

describeIf(up)('queue runner under faults, with real worker processes', () => {
  const workers: WorkerProcess[] = [];
  afterEach(() => {
    for (const w of workers.splice(0)) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  });

  it('Given a worker killed with -9 after the destination accepted a batch and before the ledger recorded it When a new worker takes over Then every invoice exists exactly once and every entry is on exactly one', async () => {
    const s = await scenario(1500);
    try {
      const marker = path.join(s.tmp, 'hung');
      const a = startWorkerProcess({ ...s.env, HB_HANG_AFTER_WRITE: marker });
      workers.push(a);
      await a.ready;
      const { runId } = await s.runner.triggerRun('all');
      await waitForFile(marker, 90_000);
      a.child.kill('SIGKILL');
      await a.exited;
      const b = startWorkerProcess(s.env);
      workers.push(b);
      await b.ready;
      const state = await s.runner.waitForRun(runId, 120_000);
      expectWithMessage(state.state, state.failedReason).toBe('completed');
      await expectExactlyOnce(s.ledger, s.outDir);
      // The hung batch really was written twice (once by the killed worker, once on retry).
      const writes = (await readFile(s.env.HB_WRITE_LOG, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => l.split(' '));
      const killedKeys = writes.filter(([pid]) => pid === String(a.child.pid)).map(([, key]) => key);
      expect(killedKeys.length).toBeGreaterThan(0);
      expect(writes.filter(([pid, key]) => pid !== String(a.child.pid) && killedKeys.includes(key)).length).toBeGreaterThan(0);
    } finally {
      await s.cleanup();
    }
  }, 240_000);

  it('Given three worker processes on one pipeline When the run completes Then no invoice is duplicated, no entry is on two invoices, and the result equals the inline runner', async () => {
    const s = await scenario(4000);
    const inlineDb = await createTestDatabase();
    const inlineLedger = await openLedger({ url: inlineDb.url, poolSize: 2 });
    try {
      for (let i = 0; i < 3; i++) workers.push(startWorkerProcess({ ...s.env, HB_RATE_BATCH: '200', HB_PUSH_BATCH: '2' }));
      await Promise.all(workers.map((w) => w.ready));
      const { runId } = await s.runner.triggerRun('all');
      const state = await s.runner.waitForRun(runId, 180_000);
      expectWithMessage(state.state, state.failedReason).toBe('completed');
      const facts = await expectExactlyOnce(s.ledger, s.outDir);
      await runSync({ config: generatedConfig({ count: 4000, outDir: path.join(s.tmp, 'inline') }), ledger: inlineLedger, log });
      expect(facts).toEqual(await invoiceFacts(inlineLedger));
      // The work really was shared: more than one process wrote invoices.
      const pids = new Set(
        (await readFile(s.env.HB_WRITE_LOG, 'utf8'))
          .trim()
          .split('\n')
          .map((l) => l.split(' ')[0]),
      );
      expect(pids.size).toBeGreaterThan(1);
    } finally {
      await inlineLedger.close();
      await inlineDb.drop();
      await s.cleanup();
    }
  }, 300_000);

  itIf(redisServerBinary)(
    'Given Redis restarted in the middle of a run When it returns Then the run completes and every invoice exists exactly once',
    async () => {
      const port = 6390 + Math.floor(Math.random() * 50);
      const redisDir = await mkdtemp(path.join(os.tmpdir(), 'hb-redis-'));
      let redis = startRedisServer(port, redisDir);
      await waitForPort(port);
      const url = `redis://127.0.0.1:${port}`;
      const s = await scenario(20_000, url);
      try {
        const w = startWorkerProcess({ ...s.env, HB_RATE_BATCH: '500', HB_PAGE_SIZE: '500', HB_LOCK_MS: '60000', HB_STALLED_MS: '10000' });
        workers.push(w);
        await w.ready;
        const { runId } = await s.runner.triggerRun('all');
        // Wait until the run is under way (entries arriving in the ledger), then restart Redis.
        for (;;) {
          const [{ n }] = (await s.ledger.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM time_entries`)) as [{ n: number }];
          if (n > 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        redis.kill('SIGTERM');
        await new Promise((r) => redis.once('exit', r));
        await new Promise((r) => setTimeout(r, 1500));
        redis = startRedisServer(port, redisDir);
        await waitForPort(port);
        const state = await s.runner.waitForRun(runId, 180_000);
        if (state.state !== 'completed') console.error(w.stderr(), JSON.stringify(await s.runner.failedJobs()));
        expectWithMessage(state.state, state.failedReason).toBe('completed');
        expect(state.result!.summary.read).toBe(20_000);
        await expectExactlyOnce(s.ledger, s.outDir);
      } finally {
        await s.cleanup();
        redis.kill('SIGKILL');
        await rm(redisDir, { recursive: true, force: true });
      }
    },
    300_000,
  );
});
