import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { describeIf } from '../support/runner';
import { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../../src/config/loader';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { QueueRunner } from '../../src/queue/queue.runner';
import { createTestDatabase, postgresAvailable, redisAvailable, redisUrl } from '../support/services';

const up = (await postgresAvailable()) && (await redisAvailable());
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const token = 'metrics-test-token-not-a-secret';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** `hourbridge worker` as an operator runs it: the real bin, the bundled example, its own /metrics port. */
describeIf(up)('hourbridge worker exposes /metrics (real process)', () => {
  let dir: string;
  let db: { url: string; drop: () => Promise<void> };
  let ledger: Ledger;
  let runner: QueueRunner;
  let worker: ChildProcess;
  let port: number;
  const prefix = `hbtest-metrics-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hb-worker-metrics-'));
    cpSync(path.join(root, 'config'), path.join(dir, 'config'), { recursive: true });
    cpSync(path.join(root, 'example'), path.join(dir, 'example'), { recursive: true });
    db = await createTestDatabase();
    port = await freePort();
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      HOURBRIDGE_LEDGER_URL: '',
      REDIS_URL: redisUrl,
      HOURBRIDGE_API_TOKENS: token,
      HOURBRIDGE_LOG_LEVEL: 'info',
    };
    worker = spawn(
      process.execPath,
      [
        path.join(root, 'bin/hourbridge.js'),
        'worker',
        '--config',
        'config/example.yaml',
        '--prefix',
        prefix,
        '--metrics-port',
        String(port),
      ],
      {
        cwd: dir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let logs = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        logs += d.toString();
        if (logs.includes('metrics on GET /metrics')) resolve();
      };
      worker.stdout!.on('data', onData);
      worker.stderr!.on('data', onData);
      worker.once('exit', (code) => reject(new Error(`worker exited (${code}): ${logs}`)));
    });
    ledger = await openLedger({ url: db.url, poolSize: 2 });
    runner = new QueueRunner({
      config: loadConfig(path.join(dir, 'config/example.yaml')),
      ledger,
      log: pino({ level: 'silent' }),
      redisUrl,
      prefix,
    });
  });
  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.once('exit', r));
    }
    await runner?.close();
    await ledger?.close();
    const r = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const keys = await r.keys(`${prefix}:*`).catch(() => []);
    if (keys.length > 0) await r.del(...keys);
    r.disconnect();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const scrape = (auth?: string) => fetch(`http://127.0.0.1:${port}/metrics`, auth ? { headers: { Authorization: auth } } : {});

  it('Given a worker started with --metrics-port When a run has gone through its queues Then GET /metrics answers Prometheus text with the queue depths and the jobs this worker ran', async () => {
    const handle = await runner.triggerRun('all');
    const state = await runner.waitForRun(handle.runId, 120_000);
    expect(state.state).toBe('completed');
    const res = await scrape(`Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const body = await res.text();
    expect(body).toMatch(/^hourbridge_queue_jobs\{queue="pull",state="completed"\} 1$/m);
    expect(body).toMatch(/^hourbridge_jobs_total\{queue="pull",job="pull-source",outcome="completed"\} 1$/m);
    expect(body).toMatch(/^hourbridge_job_duration_seconds_count\{queue="push",job="push-plan",outcome="completed"\} 1$/m);
    expect(body).toMatch(/^hourbridge_invoices\{status="pushed"\} 3$/m);
  }, 180_000);

  it('Given the worker metrics listener When a request has no valid API token or asks for another path Then it is refused', async () => {
    expect((await scrape()).status).toBe(401);
    expect((await scrape('Bearer wrong-token-wrong-token')).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(404);
  }, 180_000);
});
