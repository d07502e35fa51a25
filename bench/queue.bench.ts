/**
 * Queue runner vs inline runner on the same input, in one run:
 *   - inline `runSync` on 200,000 generated entries (PostgreSQL ledger),
 *   - the queue runner with 1 and with 2 worker processes (fresh ledger each, same input),
 *   - the ceiling: raw no-op BullMQ jobs/s on the same Redis.
 * Prints a table, then the figures as one JSON object on the last line.
 * BENCH_ENTRIES scales the input (default 200000).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import Table from 'cli-table3';
import { openLedger } from '../src/ledger/db';
import { runSync } from '../src/runners/inline.runner';
import { QueueRunner } from '../src/queue/queue.runner';
import { createRedis } from '../src/queue/connection';
import { createTestDatabase, redisUrl } from '../test/support/services';
import { generatedConfig } from '../test/queue/support/generated-source';
import { startWorkerProcess } from '../test/queue/support/processes';
import { invoiceFacts } from '../test/queue/support/ledger-facts';

const N = Number(process.env.BENCH_ENTRIES ?? 200_000);
const log = pino({ level: 'silent' });
const tmp = await mkdtemp(path.join(os.tmpdir(), 'hb-bench-queue-'));

async function cleanPrefix(prefix: string) {
  const r = new Redis(redisUrl);
  const keys = await r.keys(`${prefix}:*`);
  for (let i = 0; i < keys.length; i += 1000) await r.del(...keys.slice(i, i + 1000));
  r.disconnect();
}

async function inline() {
  const db = await createTestDatabase();
  const ledger = await openLedger({ url: db.url });
  const config = generatedConfig({ count: N, outDir: path.join(tmp, 'inline') });
  const t0 = performance.now();
  const result = await runSync({ config, ledger, log });
  const seconds = (performance.now() - t0) / 1000;
  const facts = await invoiceFacts(ledger);
  await ledger.close();
  await db.drop();
  return { seconds, result, facts };
}

async function queued(workers: number) {
  const db = await createTestDatabase();
  const ledger = await openLedger({ url: db.url, poolSize: 4 });
  const outDir = path.join(tmp, `queue-${workers}`);
  const prefix = `hbbench-${randomBytes(4).toString('hex')}`;
  const config = generatedConfig({ count: N, outDir });
  const runner = new QueueRunner({ config, ledger, log, redisUrl, prefix });
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    HB_PREFIX: prefix,
    HB_OUT_DIR: outDir,
    HB_COUNT: String(N),
    HB_LOCK_MS: '300000',
    HB_STALLED_MS: '30000',
    HB_RATE_BATCH: '500',
    HB_PUSH_BATCH: '50',
  };
  const procs = Array.from({ length: workers }, () => startWorkerProcess(env));
  await Promise.all(procs.map((p) => p.ready));
  const t0 = performance.now();
  const { runId } = await runner.triggerRun('all');
  const state = await runner.waitForRun(runId, 30 * 60_000, 100);
  const seconds = (performance.now() - t0) / 1000;
  if (state.state !== 'completed') throw new Error(`queue run failed: ${state.failedReason}`);
  const counts = await runner.depths();
  const jobs = Object.values(counts).reduce((a, c) => a + (c.completed ?? 0), 0);
  const facts = await invoiceFacts(ledger);
  for (const p of procs) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
  await runner.close();
  await cleanPrefix(prefix);
  await ledger.close();
  await db.drop();
  return { seconds, result: state.result!, jobs, facts };
}

/** The ceiling: how many empty jobs per second BullMQ moves through this Redis. */
async function noop(concurrency: number, count = 10_000) {
  const prefix = `hbbench-noop-${randomBytes(4).toString('hex')}`;
  const connection = createRedis(redisUrl);
  const queue = new Queue('noop', { connection, prefix });
  for (let i = 0; i < count; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, count - i) }, (_, k) => ({ name: 'noop', data: { i: i + k }, opts: { removeOnComplete: true } })),
    );
  }
  let done = 0;
  const t0 = performance.now();
  const finished = new Promise<void>((resolve) => {
    const worker = new Worker('noop', async () => undefined, { connection: createRedis(redisUrl), prefix, concurrency });
    worker.on('completed', () => {
      if (++done === count) {
        void worker.close().then(() => resolve());
      }
    });
  });
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  await cleanPrefix(prefix);
  return { jobsPerSecond: count / seconds, msPerJob: (seconds * 1000) / count };
}

process.stderr.write(`queue bench: ${N} entries, inline…\n`);
const a = await inline();
process.stderr.write(`inline ${a.seconds.toFixed(1)} s; queue runner, 1 worker process…\n`);
const q1 = await queued(1);
process.stderr.write(`1 worker ${q1.seconds.toFixed(1)} s; 2 worker processes…\n`);
const q2 = await queued(2);
process.stderr.write(`2 workers ${q2.seconds.toFixed(1)} s; no-op ceiling…\n`);
const ceiling1 = await noop(1);
const ceiling10 = await noop(10);
await rm(tmp, { recursive: true, force: true });

const same = JSON.stringify(q1.facts) === JSON.stringify(a.facts) && JSON.stringify(q2.facts) === JSON.stringify(a.facts);
const rate = (s: number) => N / s;
const figures = {
  entries: N,
  invoices: a.facts.length,
  inlineSeconds: +a.seconds.toFixed(2),
  queue1Seconds: +q1.seconds.toFixed(2),
  queue2Seconds: +q2.seconds.toFixed(2),
  inlineEntriesPerSecond: Math.round(rate(a.seconds)),
  queue1EntriesPerSecond: Math.round(rate(q1.seconds)),
  queue2EntriesPerSecond: Math.round(rate(q2.seconds)),
  queueVsInline: +(a.seconds / q1.seconds).toFixed(3),
  twoWorkersVsOne: +(q1.seconds / q2.seconds).toFixed(3),
  jobsPerRun: q1.jobs,
  /** Wall time the queue runner adds over inline, spread over its jobs. */
  overheadMsPerJob: +(((q1.seconds - a.seconds) * 1000) / q1.jobs).toFixed(2),
  noopJobsPerSecond: Math.round(ceiling1.jobsPerSecond),
  noopJobsPerSecondConcurrency10: Math.round(ceiling10.jobsPerSecond),
  noopMsPerJob: +ceiling1.msPerJob.toFixed(3),
  sameInvoices: same,
};

const table = new Table({ head: ['runner', 'seconds', 'entries/s', 'vs inline'], colAligns: ['left', 'right', 'right', 'right'] });
table.push(
  ['inline (baseline)', figures.inlineSeconds.toFixed(2), figures.inlineEntriesPerSecond, '1.000'],
  ['queue, 1 worker process', figures.queue1Seconds.toFixed(2), figures.queue1EntriesPerSecond, figures.queueVsInline.toFixed(3)],
  ['queue, 2 worker processes', figures.queue2Seconds.toFixed(2), figures.queue2EntriesPerSecond, (a.seconds / q2.seconds).toFixed(3)],
);
console.log(table.toString());
const t2 = new Table({ head: ['BullMQ', 'value'], colAligns: ['left', 'right'] });
t2.push(
  ['jobs per queue run', figures.jobsPerRun],
  ['added wall time per job (ms)', figures.overheadMsPerJob],
  ['no-op jobs/s, concurrency 1 (ceiling)', figures.noopJobsPerSecond],
  ['no-op jobs/s, concurrency 10', figures.noopJobsPerSecondConcurrency10],
  ['2 workers vs 1', figures.twoWorkersVsOne.toFixed(3)],
  ['same invoices, cent for cent', same ? 'yes' : 'NO'],
);
console.log(t2.toString());
console.log(JSON.stringify(figures));
process.exit(same ? 0 : 1);
