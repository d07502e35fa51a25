import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { describeIf } from '../support/runner';
import { Redis } from 'ioredis';
import pino from 'pino';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { runSync, type SyncResult } from '../../src/runners/inline.runner';
import { QueueRunner, type QueueRunResult } from '../../src/queue/queue.runner';
import { createTestDatabase, postgresAvailable, redisAvailable, redisUrl } from '../support/services';
import { generatedConfig } from './support/generated-source';
import { entriesOnTwoInvoices, invoiceFacts, outputFiles, ratedEntriesNotInvoiced } from './support/ledger-facts';

const up = (await postgresAvailable()) && (await redisAvailable());
const log = pino({ level: 'silent' });
const FAKE_TOKEN = 'fake-api-token-0123456789-not-real';
const FAKE_WEBHOOK_KEY = 'fake-webhook-key-abcdef-not-real';

describeIf(up)('queue runner against real Redis and PostgreSQL', () => {
  const dbs: Array<{ drop: () => Promise<void> }> = [];
  let tmp: string;
  let inlineLedger: Ledger;
  let queueLedger: Ledger;
  let runner: QueueRunner;
  let inline: SyncResult;
  let queued: QueueRunResult;
  let firstRunId: string;
  const prefix = `hbtest-pipeline-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hb-queue-'));
    const a = await createTestDatabase();
    const b = await createTestDatabase();
    dbs.push(a, b);
    inlineLedger = await openLedger({ url: a.url });
    queueLedger = await openLedger({ url: b.url });
    const server = { apiTokens: [FAKE_TOKEN], webhooks: { xero: FAKE_WEBHOOK_KEY } };
    const inlineConfig = generatedConfig({ count: 3000, outDir: path.join(tmp, 'inline'), server });
    const queueConfig = generatedConfig({ count: 3000, outDir: path.join(tmp, 'queue'), server });
    inline = await runSync({ config: inlineConfig, ledger: inlineLedger, log });
    runner = new QueueRunner({ config: queueConfig, ledger: queueLedger, log, redisUrl, prefix, rateBatchSize: 400, pushBatchSize: 3 });
    runner.startWorkers();
    const handle = await runner.triggerRun('all');
    firstRunId = handle.runId;
    const state = await runner.waitForRun(handle.runId, 120_000);
    if (state.state !== 'completed') throw new Error(`run ${state.state}: ${state.failedReason}`);
    queued = state.result!;
  }, 180_000);

  afterAll(async () => {
    await runner?.close();
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await inlineLedger?.close();
    await queueLedger?.close();
    for (const db of dbs) await db.drop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('Given the same input When run inline and through the queues Then the ledgers hold the same invoices, line for line and cent for cent', async () => {
    const a = await invoiceFacts(inlineLedger);
    const b = await invoiceFacts(queueLedger);
    expect(a.length).toBeGreaterThan(5);
    expect(b).toEqual(a);
  });

  it('Given both runs When their summaries are compared Then every count matches the inline runner', () => {
    expect(queued.summary).toEqual(inline.summary);
    expect(queued.summary.read).toBe(3000);
    expect(queued.summary.quarantined).toBe(6);
    expect(queued.invoices.map((i) => [i.key, i.net, i.billedHours, i.status])).toEqual(
      inline.invoices.map((i) => [i.key, i.net, i.billedHours, i.status]),
    );
  });

  it('Given both runs When the written files are compared Then the destination received identical drafts', async () => {
    const a = await outputFiles(path.join(tmp, 'inline'));
    const b = await outputFiles(path.join(tmp, 'queue'));
    expect(b.size).toBe(a.size);
    expect([...b.entries()]).toEqual([...a.entries()]);
  });

  it('Given the queue run When the ledger is checked Then no entry is on two invoices and every priced entry is invoiced', async () => {
    expect(await entriesOnTwoInvoices(queueLedger)).toBe(0);
    expect(await ratedEntriesNotInvoiced(queueLedger)).toBe(0);
  });

  it('Given the run finished between its job being read and its state being read When its state is asked Then the result is read again, not reported empty', async () => {
    const push = runner.queues.push;
    const real = push.getJob.bind(push);
    let calls = 0;
    // The first read returns the job as it was while still running (no result yet).
    push.getJob = (async (id: string) => {
      const job = await real(id);
      if (calls++ === 0 && job)
        return Object.assign(Object.create(Object.getPrototypeOf(job) as object), job, { returnvalue: null }) as typeof job;
      return job;
    }) as typeof push.getJob;
    try {
      const state = await runner.runState(firstRunId);
      expect(state.state).toBe('completed');
      expect(state.result).toEqual(queued);
      expect(calls).toBe(2);
    } finally {
      push.getJob = real;
    }
  });

  it('Given a run finished When the same pipeline runs again Then nothing is drafted or written twice', async () => {
    const before = await invoiceFacts(queueLedger);
    const handle = await runner.triggerRun('all');
    const state = await runner.waitForRun(handle.runId, 60_000);
    expect(state.state).toBe('completed');
    expect(state.result!.summary).toMatchObject({ accepted: 0, unchanged: 2994, rated: 0, invoicesDrafted: 0, pushed: 0 });
    expect(await invoiceFacts(queueLedger)).toEqual(before);
  });

  it('Given a run in flight When the pipeline is triggered again Then the second trigger returns the same run', async () => {
    const first = await runner.triggerRun('all');
    const second = await runner.triggerRun('all');
    expect(first.created).toBe(true);
    expect(second).toEqual({ runId: first.runId, pipelineId: 'all', created: false });
    expect((await runner.waitForRun(first.runId, 60_000)).state).toBe('completed');
  });

  it('Given the jobs of several runs in Redis When their data is read Then it holds ids and batches, never a secret', async () => {
    const redis = new Redis(redisUrl);
    const keys = (await redis.keys(`${prefix}:*`)).filter((k) => (k.match(/:/g) ?? []).length === 2);
    let jobs = 0;
    for (const key of keys) {
      if ((await redis.type(key)) !== 'hash') continue;
      const data = await redis.hget(key, 'data');
      if (data === null) continue;
      jobs++;
      expect(data).not.toContain(FAKE_TOKEN);
      expect(data).not.toContain(FAKE_WEBHOOK_KEY);
      expect(
        Object.keys(JSON.parse(data) as object).every((k) =>
          ['runId', 'pipelineId', 'startedAt', 'sources', 'step', 'sourceId', 'ids', 'clientId', 'destinationId', 'keys'].includes(k),
        ),
      ).toBe(true);
    }
    redis.disconnect();
    expect(jobs).toBeGreaterThan(10);
  });

  it('Given an unknown pipeline When it is triggered Then the error names the pipelines that exist', async () => {
    await expect(runner.triggerRun('nope')).rejects.toThrow(/unknown pipeline "nope" \(expected one of: all\)/);
  });
});
