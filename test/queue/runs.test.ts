import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { describeIf } from '../support/runner';
import { Redis } from 'ioredis';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { acquireSourceLeases, markAbandonedRuns, releaseSourceLeases, SourceBusyError } from '../../src/ledger/leases.repository';
import { findRun, startRun } from '../../src/ledger/sync.repository';
import { runSync } from '../../src/runners/inline.runner';
import { QueueRunner } from '../../src/queue/queue.runner';
import { createTestDatabase, postgresAvailable, redisAvailable, redisUrl } from '../support/services';
import { generatedConfig } from './support/generated-source';
import { waitForFile } from './support/processes';

const up = (await postgresAvailable()) && (await redisAvailable());
const log = pino({ level: 'silent' });
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Run lifecycle: a run whose process was killed is marked `abandoned` on the next start, and
 * two runs over one source never read it at once (inline: refused; queue: the pull waits).
 */
describe('one run per source, on the embedded ledger', () => {
  let ledger: Ledger;
  let tmp: string;
  beforeAll(async () => {
    ledger = await openLedger({ dataDir: 'memory://' });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hb-runs-'));
  });
  afterAll(async () => {
    await ledger?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('Given another live run holds the source When sync starts Then it is refused with a message naming the source and that run, and runs once the lease expires', async () => {
    const config = generatedConfig({ count: 20, outDir: path.join(tmp, 'out') });
    // Held by a process on another machine (its liveness unknown here): only the lease's expiry frees it.
    expect(await acquireSourceLeases(ledger, ['gen'], 'sync-other', 'elsewhere:4242', 400)).toEqual({ ok: true });
    const refused = await runSync({ config, ledger, log }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SourceBusyError);
    expect((refused as Error).message).toContain('source "gen" is being synced by run sync-other (process elsewhere:4242)');
    expect(await ledger.rows(sql`SELECT id FROM runs`)).toEqual([]);
    await new Promise((r) => setTimeout(r, 500));
    const result = await runSync({ config, ledger, log });
    expect(result.summary.read).toBe(20);
    expect(await ledger.rows(sql`SELECT source_id FROM source_leases`)).toEqual([]);
  });
});

describeIf(up)('run lifecycle on PostgreSQL and the queues', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ledger: Ledger;
  let tmp: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    ledger = await openLedger({ url: db.url, poolSize: 4 });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hb-runs-'));
  });
  afterAll(async () => {
    await ledger?.close();
    await db?.drop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('Given an inline sync killed with -9 mid-run When the next sync starts Then the killed run is marked abandoned with a message naming its process, its lease is freed and the new run succeeds', async () => {
    const marker = path.join(tmp, 'hung');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/queue/support/sync.entry.ts')], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: db.url, HB_OUT_DIR: path.join(tmp, 'out-a'), HB_HANG_MARKER: marker },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await waitForFile(marker, 60_000);
      const [killed] = await ledger.rows<{ id: string; status: string; owner: string }>(
        sql`SELECT id, status, owner FROM runs WHERE status = 'running'`,
      );
      expect(killed!.owner).toBe(`${os.hostname()}:${child.pid}`);
      // While it lives, the source is taken.
      const busy = await runSync({
        config: generatedConfig({ count: 200, outDir: path.join(tmp, 'out-b'), pageSize: 50 }),
        ledger,
        log,
      }).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(SourceBusyError);
      child.kill('SIGKILL');
      await exited;
      expect((await findRun(ledger, killed!.id))!.status).toBe('running');

      const next = await runSync({ config: generatedConfig({ count: 200, outDir: path.join(tmp, 'out-b'), pageSize: 50 }), ledger, log });
      const after = await findRun(ledger, killed!.id);
      expect(after!.status).toBe('abandoned');
      expect(after!.finishedAt).not.toBeNull();
      expect((after!.summary as { error: string }).error).toContain(`abandoned: its process ${os.hostname()}:${child.pid} is gone`);
      expect((await findRun(ledger, next.runId))!.status).toBe('succeeded');
      expect(await ledger.rows(sql`SELECT * FROM source_leases`)).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('Given a run on another machine that stopped renewing its heartbeat When a sync starts Then that run is abandoned; a run with a fresh heartbeat is left alone', async () => {
    await startRun(ledger, 'sync-stale', 'sync', 'elsewhere:1');
    await ledger.rows(sql`UPDATE runs SET heartbeat_at = now() - interval '10 minutes' WHERE id = 'sync-stale'`);
    await startRun(ledger, 'sync-fresh', 'sync', 'elsewhere:2');
    const settled = await markAbandonedRuns(ledger);
    expect(settled.map((s) => s.id)).toEqual(['sync-stale']);
    expect((await findRun(ledger, 'sync-stale'))!.status).toBe('abandoned');
    expect(((await findRun(ledger, 'sync-stale'))!.summary as { error: string }).error).toContain('no heartbeat from elsewhere:1');
    expect((await findRun(ledger, 'sync-fresh'))!.status).toBe('running');
    await ledger.rows(sql`DELETE FROM runs WHERE id IN ('sync-stale', 'sync-fresh')`);
  });

  it('Given an inline sync reading the source When a queue run of a pipeline over it starts Then its pull waits until the source is free and the run then completes; and a queue run whose jobs are gone is marked abandoned', async () => {
    const prefix = `hbtest-runs-${randomBytes(4).toString('hex')}`;
    const config = generatedConfig({ count: 200, outDir: path.join(tmp, 'out-q'), pageSize: 50 });
    const runner = new QueueRunner({ config, ledger, log, redisUrl, prefix, backoffMs: 100, sourceBusyDelayMs: 200 });
    try {
      runner.startWorkers({ stalledIntervalMs: 2000 });
      expect(await acquireSourceLeases(ledger, ['gen'], 'sync-holder', 'elsewhere:7')).toEqual({ ok: true });
      const handle = await runner.triggerRun('all');
      await new Promise((r) => setTimeout(r, 1500));
      expect((await runner.runState(handle.runId)).state).toBe('running');
      const pulled = await runner.queues.pull.getJobs(['completed', 'failed']);
      expect(pulled.filter((j) => j.data.runId === handle.runId)).toEqual([]);
      const pull = await runner.queues.pull.getJobs(['delayed', 'waiting', 'active']);
      expect(pull.map((j) => j.data.runId)).toEqual([handle.runId]);
      await releaseSourceLeases(ledger, 'sync-holder');
      const done = await runner.waitForRun(handle.runId, 60_000);
      expect(done.state).toBe('completed');
      expect(done.result!.summary.read).toBe(200);

      // A run the ledger calls running, with nothing in the queues (Redis lost it).
      await startRun(ledger, 'all-lost', 'pipeline:all');
      expect((await runner.settleAbandonedRuns(0)).map((r) => r.id)).toEqual(['all-lost']);
      expect((await findRun(ledger, 'all-lost'))!.status).toBe('abandoned');
      expect(((await findRun(ledger, 'all-lost'))!.summary as { error: string }).error).toContain('no longer in the queues');
      expect((await findRun(ledger, handle.runId))!.status).toBe('succeeded');
    } finally {
      await runner.close();
      const r = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      const keys = await r.keys(`${prefix}:*`).catch(() => []);
      if (keys.length > 0) await r.del(...keys);
      r.disconnect();
    }
  });
});
