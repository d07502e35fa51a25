import { sql } from 'drizzle-orm';
import {
  DelayedError,
  FlowProducer,
  Queue,
  RateLimitError,
  UnrecoverableError,
  WaitingChildrenError,
  Worker,
  type Job,
  type JobsOptions,
} from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/loader';
import type { PipelineConfig } from '../config/schema';
import type { ConnectorContext, DestinationConnector } from '../connectors/contract';
import { isConnectorError, type ConnectorError } from '../connectors/errors';
import type { DestinationConfig } from '../config/schema';
import type { Ledger } from '../ledger/db';
import { applyRemoteStatus, invoicesTouchedSince, pendingPushKeys } from '../ledger/invoices.repository';
import { staleEntryRefs } from '../ledger/rated-lines.repository';
import { findRun, finishRun, recordEvent, startRun } from '../ledger/sync.repository';
import {
  acquireSourceLeases,
  keepAlive,
  processOwner,
  releaseSourceLeases,
  settleAbandoned,
  type AbandonedRun,
} from '../ledger/leases.repository';
import { runSummary, sourceAlerts, type SyncResult } from '../runners/inline.runner';
import { destinationConnectorMap, sourceConnectorFor } from '../runners/registry';
import { newRunId } from '../runners/run-id';
import { assembleClient, type AssembleSummary } from '../stages/assemble.stage';
import { ClientResolver } from '../stages/clients';
import { pullSource, type PullSummary } from '../stages/pull.stage';
import { pushPending, type PushSummary } from '../stages/push.stage';
import { rateEntries, type RateSummary } from '../stages/rate.stage';
import { createRedis } from './connection';
import { decideForQueue } from './errors';
import { withDestinationServices } from '../destinations/services';
import {
  AssembleClientJob,
  JOB,
  PlanJob,
  PullJob,
  PushBatchJob,
  QUEUE_NAMES,
  RateBatchJob,
  StatusJob,
  StatusRefreshJob,
  TriggerJob,
  jobIds,
  type QueueName,
} from './jobs';

export interface QueueRunnerOptions {
  config: LoadedConfig;
  ledger: Ledger;
  log: Logger;
  redisUrl: string;
  /** Prefix of every BullMQ key (tests use a unique one per file). */
  prefix?: string;
  /** Entries per rate job (default 500). */
  rateBatchSize?: number;
  /** Invoices per push job (default 50). */
  pushBatchSize?: number;
  /** Attempts per job before it is failed (default 5), with exponential back-off and jitter. */
  attempts?: number;
  backoffMs?: number;
  /** How long a pull job waits before it looks again at a source another run is reading (default 2000 ms). */
  sourceBusyDelayMs?: number;
}

export interface WorkerOptions {
  /** Queues this process works on (default: all). */
  queues?: QueueName[];
  concurrency?: Partial<Record<QueueName, number>>;
  /** A job whose worker stops renewing its lock for this long is stalled and handed to another worker. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Called when a job starts (tests use it to crash a worker at a chosen point). */
  onJobStart?: (queue: QueueName, job: Job) => void | Promise<void>;
  /** Called when a job attempt ends (metrics: job durations). */
  onJobEnd?: (queue: QueueName, jobName: string, seconds: number, outcome: 'completed' | 'failed' | 'waiting') => void;
}

export type ExtraJobHandler = (job: Job, token: string | undefined, log: Logger) => Promise<unknown>;

export interface RunHandle {
  runId: string;
  pipelineId: string;
  /** false: a run of this pipeline was already in flight and this is that run. */
  created: boolean;
}

export interface RunState {
  runId: string;
  state: 'running' | 'completed' | 'failed' | 'unknown';
  result?: QueueRunResult;
  failedReason?: string;
}

export type QueueRunResult = Omit<SyncResult, 'dryRun'> & { dryRun: false; pipelineId: string };

type StageValue =
  | { stage: 'pull'; summary: PullSummary }
  | { stage: 'rate-batch'; summary: RateSummary }
  | { stage: 'rate'; sources: PullSummary[]; rate: RateSummary }
  | { stage: 'assemble-client'; summary: AssembleSummary }
  | { stage: 'assemble'; sources: PullSummary[]; rate: RateSummary; assemble: AssembleSummary }
  | { stage: 'push-batch'; summary: PushSummary };

const DEFAULT_CONCURRENCY: Record<QueueName, number> = { trigger: 1, pull: 2, rate: 2, assemble: 2, push: 2, status: 4 };
/**
 * Lock durations per queue. Assembling a large client is CPU-bound for seconds and its lock is
 * renewed from the event loop, so assemble and rate get longer locks than the I/O-bound queues
 * (a crashed worker's job is then handed back after at most this long).
 */
const DEFAULT_LOCK_MS: Record<QueueName, number> = {
  trigger: 30_000,
  pull: 60_000,
  rate: 60_000,
  assemble: 180_000,
  push: 60_000,
  status: 30_000,
};
const EMPTY_ASSEMBLE: AssembleSummary = { drafted: 0, updated: 0, unchanged: 0, emptied: 0, corrections: 0, released: 0 };

/** Pipelines from the config; without any, one pipeline "all" over every source. */
export function pipelinesOf(config: LoadedConfig): PipelineConfig[] {
  const configured = config.raw.pipelines ?? [];
  return configured.length > 0 ? configured : [{ id: 'all' }];
}

export class UnknownPipelineError extends Error {
  override readonly name = 'UnknownPipelineError';
}

/**
 * The queue runner: the same stage functions as `hourbridge sync`, carried by BullMQ queues so
 * any number of worker processes share the work. A run is a flow
 * `pull (per source) → rate-plan → assemble-plan → push-plan`; each plan job fans out small
 * batches as its own children (ids only), waits for them, and passes the summary up, so the
 * root's return value is the run's summary in the inline runner's shape.
 *
 * Exactly-once invoicing rests on the ledger, not on the queue: jobs are at-least-once, every
 * stage is idempotent, assemble holds a per-client advisory lock, rate batches hold per
 * (client, worker) locks, and destinations write idempotently by invoice key.
 */
export class QueueRunner {
  readonly prefix: string;
  readonly queues: Record<QueueName, Queue>;
  private readonly connection: Redis;
  private readonly flow: FlowProducer;
  private readonly workers: Worker[] = [];
  private readonly workerConnections: Redis[] = [];
  private readonly clients: ClientResolver;
  private readonly jobDefaults: JobsOptions;
  private readonly extraHandlers = new Map<string, ExtraJobHandler>();
  private closing: Promise<void> | null = null;

  constructor(private readonly opts: QueueRunnerOptions) {
    this.prefix = opts.prefix ?? 'hourbridge';
    this.connection = createRedis(opts.redisUrl);
    // Queue connections fail fast while Redis is away (a trigger gets an error, not a hang);
    // worker connections (created per worker below) wait it out.
    this.queues = Object.fromEntries(
      QUEUE_NAMES.map((n) => [n, new Queue(n, { connection: this.connection, prefix: this.prefix })]),
    ) as Record<QueueName, Queue>;
    this.flow = new FlowProducer({ connection: this.connection, prefix: this.prefix });
    this.clients = new ClientResolver(opts.config.clients);
    this.jobDefaults = {
      attempts: opts.attempts ?? 5,
      backoff: { type: 'exponential', delay: opts.backoffMs ?? 2000, jitter: 0.5 },
      // Completed jobs go after a day; failed ones stay a week, listed with their reason.
      removeOnComplete: { age: 24 * 3600, count: 5000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    };
  }

  get log(): Logger {
    return this.opts.log;
  }

  /**
   * A handler for jobs outside a pipeline run (live updates from webhooks and polls,
   * src/live), by job name, on any of the queues. Registered before workers start.
   */
  registerHandler(jobName: string, handler: ExtraJobHandler): void {
    if (this.extraHandlers.has(jobName) || (Object.values(JOB) as string[]).includes(jobName))
      throw new Error(`a handler for job "${jobName}" is already registered`);
    this.extraHandlers.set(jobName, handler);
  }

  private inflightKey(pipelineId: string): string {
    return `${this.prefix}:hourbridge:inflight:${pipelineId}`;
  }

  pipelines(): PipelineConfig[] {
    return pipelinesOf(this.opts.config);
  }

  /**
   * Start a run of a pipeline, unless one is already in flight (then that run is returned).
   * A Redis key holds the in-flight run id; it is released when the run finishes or fails, and
   * a key whose run's root job is gone or finished is taken over (a crashed `serve`).
   */
  async triggerRun(pipelineId: string, now = new Date()): Promise<RunHandle> {
    const pipeline = this.pipelines().find((p) => p.id === pipelineId);
    if (!pipeline)
      throw new UnknownPipelineError(
        `unknown pipeline "${pipelineId}" (expected one of: ${this.pipelines()
          .map((p) => p.id)
          .join(', ')})`,
      );
    const runId = newRunId(pipelineId, now);
    const key = this.inflightKey(pipelineId);
    for (let attempt = 0; attempt < 2; attempt++) {
      const taken = await this.connection.set(key, runId, 'EX', 24 * 3600, 'NX');
      if (taken === 'OK') break;
      const current = await this.connection.get(key);
      if (current && (await this.runState(current)).state === 'running') return { runId: current, pipelineId, created: false };
      if (current) await this.releaseInflight(pipelineId, current);
      if (attempt === 1) throw new Error(`could not start pipeline "${pipelineId}": another trigger is racing for it`);
    }
    const sources = pipeline.sources ?? this.opts.config.sources.map((s) => s.id);
    await startRun(this.opts.ledger, runId, `pipeline:${pipelineId}`);
    const run = await findRun(this.opts.ledger, runId);
    const base = { runId, pipelineId, startedAt: new Date(run?.startedAt ?? now).toISOString() };
    const child = { ...this.jobDefaults, failParentOnFailure: true };
    await this.flow.add({
      name: JOB.pushPlan,
      queueName: 'push',
      data: PlanJob.parse({ ...base }),
      opts: { ...this.jobDefaults, jobId: jobIds.root(runId) },
      children: [
        {
          name: JOB.assemblePlan,
          queueName: 'assemble',
          data: PlanJob.parse({ ...base }),
          opts: { ...child, jobId: jobIds.assemble(runId) },
          children: [
            {
              name: JOB.ratePlan,
              queueName: 'rate',
              data: PlanJob.parse({ ...base, sources }),
              opts: { ...child, jobId: jobIds.rate(runId) },
              children: sources.map((sourceId) => ({
                name: JOB.pull,
                queueName: 'pull',
                data: PullJob.parse({ ...base, sourceId }),
                opts: { ...child, jobId: jobIds.pull(runId, sourceId) },
              })),
            },
          ],
        },
      ],
    });
    this.log.info({ runId, pipelineId, sources }, 'run queued');
    return { runId, pipelineId, created: true };
  }

  private async releaseInflight(pipelineId: string, runId: string): Promise<void> {
    // Compare-and-delete: never release a newer run's key.
    await this.connection.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
      1,
      this.inflightKey(pipelineId),
      runId,
    );
  }

  /** Where a run stands, from its root job (the ledger's `runs` row says the same once it finished). */
  async runState(runId: string): Promise<RunState> {
    const root = await this.queues.push.getJob(jobIds.root(runId));
    if (!root) return this.runStateFromLedger(runId);
    const state = await root.getState();
    if (state === 'completed' || state === 'failed') {
      // The job was read before its state: it may have finished in between, and the copy read
      // first then lacks the result. Read it again (or, once removed, the run's ledger row).
      const done = root.returnvalue != null || root.failedReason ? root : await this.queues.push.getJob(jobIds.root(runId));
      if (!done) return this.runStateFromLedger(runId);
      if (state === 'failed') return { runId, state: 'failed', failedReason: done.failedReason };
      if (done.returnvalue != null) return { runId, state: 'completed', result: done.returnvalue as QueueRunResult };
      const recorded = await this.runStateFromLedger(runId);
      if (recorded.state !== 'unknown') return recorded;
    }
    return { runId, state: 'running' };
  }

  private async runStateFromLedger(runId: string): Promise<RunState> {
    const row = await findRun(this.opts.ledger, runId);
    if (row && row.status === 'succeeded') return { runId, state: 'completed', result: row.summary as QueueRunResult };
    if (row && (row.status === 'failed' || row.status === 'abandoned'))
      return { runId, state: 'failed', failedReason: (row.summary as { error?: string } | null)?.error ?? 'failed' };
    return { runId, state: 'unknown' };
  }

  /** Poll until the run finishes (tests, `hourbridge run --wait`). Survives Redis restarts. */
  async waitForRun(runId: string, timeoutMs = 10 * 60_000, pollMs = 200): Promise<RunState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let s: RunState | undefined;
      try {
        s = await this.runState(runId);
      } catch (err) {
        this.log.debug({ runId, err: (err as Error).message }, 'run state not readable yet');
      }
      if (s && (s.state === 'completed' || s.state === 'failed')) return s;
      if (Date.now() > deadline) throw new Error(`run ${runId} did not finish within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** Queue a status change reported by a destination (webhook, poll). */
  async enqueueStatus(data: StatusJob, eventId?: string): Promise<void> {
    const parsed = StatusJob.parse(data);
    await this.queues.status.add(JOB.status, parsed, {
      ...this.jobDefaults,
      ...(eventId ? { jobId: `status.${eventId.replace(/:/g, '_')}` } : {}),
    });
  }

  /**
   * Queue a status refresh for a destination that reported an invoice changed (webhook). A burst
   * of events collapses into one refresh while it waits (BullMQ deduplication by destination).
   */
  async enqueueStatusRefresh(destinationId: string, remoteId: string, eventId: string): Promise<void> {
    const data = StatusRefreshJob.parse({ destinationId, remoteId });
    await this.queues.status.add(JOB.statusRefresh, data, { ...this.jobDefaults, deduplication: { id: `refresh.${destinationId}` } });
    this.log.debug({ destinationId, remoteId, eventId }, 'status refresh queued');
  }

  /** Redis round trip (readiness). */
  async ping(): Promise<string> {
    return this.connection.ping();
  }

  /** Job counts per queue (metrics, dashboard, health). */
  async depths(): Promise<Record<QueueName, Record<string, number>>> {
    const entries = await Promise.all(
      QUEUE_NAMES.map(
        async (n) =>
          [
            n,
            await this.queues[n].getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'waiting-children', 'prioritized'),
          ] as const,
      ),
    );
    return Object.fromEntries(entries) as Record<QueueName, Record<string, number>>;
  }

  /** Failed jobs with their reasons, newest first. */
  async failedJobs(
    limit = 50,
  ): Promise<
    Array<{ queue: QueueName; id: string; name: string; runId?: string; reason: string; attemptsMade: number; failedAt?: number }>
  > {
    const out = [];
    for (const n of QUEUE_NAMES) {
      for (const j of await this.queues[n].getFailed(0, limit - 1)) {
        out.push({
          queue: n,
          id: j.id ?? '',
          name: j.name,
          runId: (j.data as { runId?: string }).runId,
          reason: j.failedReason,
          attemptsMade: j.attemptsMade,
          failedAt: j.finishedOn,
        });
      }
    }
    return out.sort((a, b) => (b.failedAt ?? 0) - (a.failedAt ?? 0)).slice(0, limit);
  }

  // ---------------------------------------------------------------- workers

  /** Start workers in this process. They stop with `close()` (SIGTERM), finishing their active jobs. */
  startWorkers(options: WorkerOptions = {}): Worker[] {
    const names = options.queues ?? [...QUEUE_NAMES];
    for (const name of names) {
      const connection = createRedis(this.opts.redisUrl);
      this.workerConnections.push(connection);
      const worker: Worker = new Worker(
        name,
        async (job, token) => {
          await options.onJobStart?.(name, job);
          const started = process.hrtime.bigint();
          const jobLog = this.log.child({
            runId: (job.data as { runId?: string }).runId,
            jobId: job.id,
            queue: name,
            job: job.name,
            attempt: job.attemptsMade + 1,
          });
          try {
            const value = await this.process(name, job, token, jobLog);
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            options.onJobEnd?.(name, job.name, seconds, 'completed');
            jobLog.debug({ ms: seconds * 1000 }, 'job done');
            return value;
          } catch (err) {
            options.onJobEnd?.(
              name,
              job.name,
              Number(process.hrtime.bigint() - started) / 1e9,
              err instanceof WaitingChildrenError || err instanceof DelayedError ? 'waiting' : 'failed',
            );
            if (err instanceof WaitingChildrenError || err instanceof DelayedError) throw err;
            const decision = decideForQueue(err);
            if (decision.action === 'rate_limit') {
              jobLog.warn({ delayMs: decision.delayMs }, 'rate limited; pausing this queue');
              await worker.rateLimit(decision.delayMs);
              throw new RateLimitError();
            }
            jobLog.warn({ err: decision.error.message, action: decision.action }, 'job failed');
            throw decision.error;
          }
        },
        {
          connection,
          prefix: this.prefix,
          concurrency: options.concurrency?.[name] ?? DEFAULT_CONCURRENCY[name],
          lockDuration: options.lockDurationMs ?? DEFAULT_LOCK_MS[name],
          stalledInterval: options.stalledIntervalMs ?? 30_000,
          // A job whose worker died is handed back twice before it counts as failed.
          maxStalledCount: 2,
        },
      );
      worker.on('failed', (job, err) => {
        if (!job) return;
        const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
        if (final) void this.onJobFailedFinally(job, err);
      });
      worker.on('error', (err) => this.log.warn({ err: err.message, queue: name }, 'worker connection problem'));
      this.workers.push(worker);
    }
    return this.workers;
  }

  private async onJobFailedFinally(job: Job, err: Error): Promise<void> {
    const { runId, pipelineId } = job.data as { runId?: string; pipelineId?: string };
    this.log.error({ runId, jobId: job.id, queue: job.queueName, job: job.name, reason: err.message }, 'job failed for good');
    if (!runId || !pipelineId) return;
    try {
      await finishRun(this.opts.ledger, runId, 'failed', { error: `${job.name} ${job.id}: ${err.message}` });
      await this.releaseInflight(pipelineId, runId);
    } catch (e) {
      this.log.warn({ runId, err: (e as Error).message }, 'could not record the failed run');
    }
  }

  private async process(queue: QueueName, job: Job, token: string | undefined, log: Logger): Promise<unknown> {
    switch (job.name) {
      case JOB.trigger: {
        const { pipelineId } = TriggerJob.parse(job.data);
        return this.triggerRun(pipelineId);
      }
      case JOB.pull:
        return this.pull(PullJob.parse(job.data), log, job, token);
      case JOB.ratePlan:
        return this.plan(
          job,
          token,
          log,
          () => this.planRate(PlanJob.parse(job.data)),
          (values) => this.finishRate(values),
        );
      case JOB.rateBatch: {
        const data = RateBatchJob.parse(job.data);
        const summary = await rateEntries({
          ledger: this.opts.ledger,
          rates: this.opts.config.rates,
          clients: this.clients,
          ids: data.ids,
        });
        return { stage: 'rate-batch', summary } satisfies StageValue;
      }
      case JOB.assemblePlan:
        return this.plan(
          job,
          token,
          log,
          () => this.planAssemble(PlanJob.parse(job.data)),
          (values) => this.finishAssemble(values),
        );
      case JOB.assembleClient: {
        const data = AssembleClientJob.parse(job.data);
        const client = this.opts.config.clients.find((c) => c.id === data.clientId);
        if (!client) throw new UnrecoverableError(`client "${data.clientId}" is not in this worker's config`);
        const summary = await assembleClient(this.opts.ledger, client, this.opts.config.rates);
        return { stage: 'assemble-client', summary } satisfies StageValue;
      }
      case JOB.pushPlan:
        return this.plan(
          job,
          token,
          log,
          () => this.planPush(PlanJob.parse(job.data)),
          (values) => this.finishRun(PlanJob.parse(job.data), values, log),
        );
      case JOB.pushBatch:
        return this.push(PushBatchJob.parse(job.data), log);
      case JOB.status: {
        const data = StatusJob.parse(job.data);
        const ref = data.key ? { key: data.key } : { destinationId: data.destinationId, remoteId: data.remoteId ?? '' };
        const applied = await applyRemoteStatus(this.opts.ledger, ref, data.status, data.remoteStatus);
        return { applied };
      }
      case JOB.statusRefresh: {
        const data = StatusRefreshJob.parse(job.data);
        // The webhook body is never trusted for a status: the destination is asked what it holds.
        const destination = this.opts.config.destinations.find((d) => d.id === data.destinationId);
        const connector = destination ? destinationConnectorMap().get(destination.kind) : undefined;
        if (!destination || !connector?.pollStatuses) {
          throw new UnrecoverableError(`destination "${data.destinationId}" is not configured or cannot report statuses`);
        }
        await recordEvent(this.opts.ledger, null, 'webhook.invoice-changed', data.remoteId, { destinationId: data.destinationId });
        return connector.pollStatuses(
          destination,
          withDestinationServices(this.ctx(new Date().toISOString(), log), connector, destination.id),
        );
      }
      default: {
        const extra = this.extraHandlers.get(job.name);
        if (extra) return extra(job, token, log);
        throw new UnrecoverableError(`no handler for job "${job.name}" on queue ${queue}`);
      }
    }
  }

  private ctx(startedAt: string, log: Logger): ConnectorContext {
    return {
      log,
      now: new Date(startedAt),
      configDir: this.opts.config.configDir,
      services: { ledger: this.opts.ledger, redisUrl: this.opts.redisUrl },
    };
  }

  private async pull(data: PullJob, log: Logger, job: Job, token: string | undefined): Promise<StageValue> {
    const source = this.opts.config.sources.find((s) => s.id === data.sourceId);
    if (!source) throw new UnrecoverableError(`source "${data.sourceId}" is not in this worker's config`);
    const connector = sourceConnectorFor(source.kind);
    // One run reads a source at a time (the same ledger lease `hourbridge sync` takes): while
    // another run holds it, this job waits, delayed without using up an attempt.
    const lease = await acquireSourceLeases(this.opts.ledger, [source.id], data.runId, processOwner());
    if (!lease.ok) {
      log.info({ source: source.id, heldBy: lease.holder.runId, owner: lease.holder.owner }, 'source busy with another run; waiting');
      await job.moveToDelayed(Date.now() + (this.opts.sourceBusyDelayMs ?? 2000), token);
      throw new DelayedError();
    }
    const alive = keepAlive(this.opts.ledger, data.runId, (err) => log.warn({ err: err.message }, 'could not renew the source lease'));
    try {
      // pullSource commits each page's cursor only after the page is in the ledger, inside this
      // one job; a retry resumes from the last committed cursor (invariant 4).
      const summary = await pullSource({
        ledger: this.opts.ledger,
        source,
        connector,
        clients: this.clients,
        ctx: this.ctx(data.startedAt, log.child({ source: source.id })),
        runId: data.runId,
      });
      log.info({ source: source.id, read: summary.read, accepted: summary.accepted, quarantined: summary.quarantined }, 'source read');
      return { stage: 'pull', summary };
    } finally {
      alive.stop();
      await releaseSourceLeases(this.opts.ledger, data.runId, [source.id]).catch(() => undefined);
    }
  }

  /**
   * Runs the ledger still calls `running` whose queue state says otherwise (worker start-up):
   * a root job that finished records its outcome; one that is gone from Redis (lost, removed)
   * leaves the run `abandoned` with a message, and its pipeline free for the next trigger.
   */
  async settleAbandonedRuns(minAgeMs = 30_000): Promise<AbandonedRun[]> {
    // Younger runs may be between their ledger row and their flow being added (triggerRun).
    const running = await this.opts.ledger.rows<{ id: string; kind: string }>(sql`
      SELECT id, kind FROM runs WHERE status = 'running' AND kind LIKE 'pipeline:%' AND owner IS NULL
        AND started_at < now() - ${`${minAgeMs} milliseconds`}::interval`);
    const out: AbandonedRun[] = [];
    for (const r of running) {
      const pipelineId = r.kind.slice('pipeline:'.length);
      const root = await this.queues.push.getJob(jobIds.root(r.id));
      if (root) {
        const state = await root.getState();
        if (state !== 'failed' && state !== 'unknown') continue;
        if (state === 'failed') {
          await finishRun(this.opts.ledger, r.id, 'failed', { error: root.failedReason || 'failed' });
          await this.releaseInflight(pipelineId, r.id);
          continue;
        }
      }
      const message = `abandoned: the run's jobs are no longer in the queues (prefix ${this.prefix}); the next run picks up from what the ledger holds`;
      out.push(await settleAbandoned(this.opts.ledger, r.id, r.kind, null, message));
      await this.releaseInflight(pipelineId, r.id);
      this.log.warn({ runId: r.id }, message);
    }
    return out;
  }

  /**
   * Plan → wait → finish, the BullMQ "process step jobs" pattern with dynamic children. A plan
   * that crashes after adding some children re-adds them under the same ids (no duplicates).
   */
  private async plan(
    job: Job,
    token: string | undefined,
    log: Logger,
    plan: () => Promise<Array<{ queue: QueueName; name: string; data: object; jobId: string }>>,
    finish: (values: StageValue[]) => Promise<unknown>,
  ): Promise<unknown> {
    const data = PlanJob.parse(job.data);
    if (data.step === 'plan') {
      const children = await plan();
      const parent = { id: job.id!, queue: job.queueQualifiedName };
      for (let i = 0; i < children.length; i += 500) {
        const slice = children.slice(i, i + 500);
        const byQueue = new Map<QueueName, typeof slice>();
        for (const c of slice) byQueue.set(c.queue, [...(byQueue.get(c.queue) ?? []), c]);
        for (const [q, list] of byQueue) {
          await this.queues[q].addBulk(
            list.map((c) => ({
              name: c.name,
              data: c.data,
              opts: { ...this.jobDefaults, jobId: c.jobId, parent, failParentOnFailure: true },
            })),
          );
        }
      }
      await job.updateData({ ...data, step: 'wait' });
      log.debug({ children: children.length }, 'planned');
    }
    if (await job.moveToWaitingChildren(token ?? '')) throw new WaitingChildrenError();
    const values = Object.values(await job.getChildrenValues<StageValue>());
    return finish(values);
  }

  private async planRate(data: PlanJob) {
    const size = this.opts.rateBatchSize ?? 500;
    const refs = await staleEntryRefs(this.opts.ledger, this.opts.config.rates.hash);
    const out = [];
    for (let i = 0, n = 0; i < refs.length; i += size, n++) {
      const ids = refs.slice(i, i + size).map((r) => r.id);
      out.push({
        queue: 'rate' as const,
        name: JOB.rateBatch,
        data: RateBatchJob.parse({ runId: data.runId, pipelineId: data.pipelineId, startedAt: data.startedAt, ids }),
        jobId: jobIds.rateBatch(data.runId, n),
      });
    }
    return out;
  }

  private async finishRate(values: StageValue[]): Promise<StageValue> {
    const rate: RateSummary = { rated: 0, excluded: 0, unpriced: 0 };
    const sources: PullSummary[] = [];
    for (const v of values) {
      if (v.stage === 'pull') sources.push(v.summary);
      if (v.stage === 'rate-batch') {
        rate.rated += v.summary.rated;
        rate.excluded += v.summary.excluded;
        rate.unpriced += v.summary.unpriced;
      }
    }
    sources.sort((a, b) => a.sourceId.localeCompare(b.sourceId));
    return { stage: 'rate', sources, rate };
  }

  private async planAssemble(data: PlanJob) {
    return this.opts.config.clients.map((c) => ({
      queue: 'assemble' as const,
      name: JOB.assembleClient,
      data: AssembleClientJob.parse({ runId: data.runId, pipelineId: data.pipelineId, startedAt: data.startedAt, clientId: c.id }),
      jobId: jobIds.assembleClient(data.runId, c.id),
    }));
  }

  private async finishAssemble(values: StageValue[]): Promise<StageValue> {
    const total: AssembleSummary = { ...EMPTY_ASSEMBLE };
    let upstream: Extract<StageValue, { stage: 'rate' }> = { stage: 'rate', sources: [], rate: { rated: 0, excluded: 0, unpriced: 0 } };
    let released = 0;
    const add = (s: AssembleSummary) => {
      total.drafted += s.drafted;
      total.updated += s.updated;
      total.emptied += s.emptied;
      total.corrections += s.corrections;
      total.unchanged += s.unchanged;
    };
    for (const v of values) {
      if (v.stage === 'rate') upstream = v;
      if (v.stage === 'assemble-client') {
        add(v.summary);
        released += v.summary.released;
      }
    }
    // As assembleAll: an entry released by its old client's pass is taken by its new client in
    // a second pass. Rare (a client renamed at source), so it runs here rather than fanning out.
    if (released > 0) {
      total.unchanged = 0;
      for (const client of this.opts.config.clients) add(await assembleClient(this.opts.ledger, client, this.opts.config.rates));
    }
    return { stage: 'assemble', sources: upstream.sources, rate: upstream.rate, assemble: total };
  }

  private async planPush(data: PlanJob) {
    const size = this.opts.pushBatchSize ?? 50;
    const pending = await pendingPushKeys(this.opts.ledger);
    const byDestination = new Map<string, string[]>();
    for (const p of pending) byDestination.set(p.destinationId, [...(byDestination.get(p.destinationId) ?? []), p.key]);
    const out = [];
    for (const [destinationId, keys] of byDestination) {
      for (let i = 0, n = 0; i < keys.length; i += size, n++) {
        out.push({
          queue: 'push' as const,
          name: JOB.pushBatch,
          data: PushBatchJob.parse({
            runId: data.runId,
            pipelineId: data.pipelineId,
            startedAt: data.startedAt,
            destinationId,
            keys: keys.slice(i, i + size),
          }),
          jobId: jobIds.pushBatch(data.runId, destinationId, n),
        });
      }
    }
    return out;
  }

  private async push(data: PushBatchJob, log: Logger): Promise<StageValue> {
    // pushPending records a connector's thrown error per invoice and carries on; the queue runner
    // also wants BullMQ to retry (transient), pause (429) or stop (auth/config), so it keeps the
    // error the connector threw and rethrows it after the stage has recorded it.
    let thrown: ConnectorError | undefined;
    const connectors = new Map<string, DestinationConnector<DestinationConfig>>();
    for (const [kind, c] of destinationConnectorMap()) {
      connectors.set(kind, {
        ...c,
        write: async (config, drafts, ctx) => {
          try {
            return await c.write(config, drafts, ctx);
          } catch (err) {
            if (isConnectorError(err)) thrown = err;
            throw err;
          }
        },
      });
    }
    const summary = await pushPending({
      ledger: this.opts.ledger,
      destinations: this.opts.config.destinations,
      connectors,
      ctx: this.ctx(data.startedAt, log.child({ destination: data.destinationId })),
      runId: data.runId,
      onlyKeys: new Set(data.keys),
    });
    if (thrown) throw thrown;
    log.info({ destination: data.destinationId, written: summary.written, failed: summary.failed }, 'invoices written');
    return { stage: 'push-batch', summary };
  }

  private async finishRun(data: PlanJob, values: StageValue[], log: Logger): Promise<QueueRunResult> {
    let upstream: Extract<StageValue, { stage: 'assemble' }> = {
      stage: 'assemble',
      sources: [],
      rate: { rated: 0, excluded: 0, unpriced: 0 },
      assemble: { ...EMPTY_ASSEMBLE },
    };
    const push: PushSummary = { written: 0, failed: 0, locked: 0, alerts: [] };
    for (const v of values) {
      if (v.stage === 'assemble') upstream = v;
      if (v.stage === 'push-batch') {
        push.written += v.summary.written;
        push.failed += v.summary.failed;
        push.locked += v.summary.locked;
        push.alerts.push(...v.summary.alerts);
      }
    }
    const run = await findRun(this.opts.ledger, data.runId);
    const invoices = await invoicesTouchedSince(this.opts.ledger, run?.startedAt ?? data.startedAt);
    const alerts = [...sourceAlerts(upstream.sources), ...push.alerts];
    if (alerts.length > 0) await recordEvent(this.opts.ledger, data.runId, 'run.alerts', null, alerts);
    const result: QueueRunResult = {
      runId: data.runId,
      pipelineId: data.pipelineId,
      dryRun: false,
      summary: runSummary(upstream.sources, upstream.rate, upstream.assemble, push),
      sources: upstream.sources,
      invoices,
      alerts,
    };
    await finishRun(this.opts.ledger, data.runId, push.failed > 0 ? 'failed' : 'succeeded', result);
    await this.releaseInflight(data.pipelineId, data.runId);
    log.info({ ...result.summary }, 'run finished');
    return result;
  }

  /**
   * Graceful stop (SIGTERM): workers finish their active jobs (a job that outlives the grace
   * period of the orchestrator is handed back by stall detection), then connections close.
   */
  async close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.workers.map((w) => w.close()));
      await Promise.all(QUEUE_NAMES.map((n) => this.queues[n].close()));
      await this.flow.close();
      // Connections handed to BullMQ are not closed by it.
      for (const c of this.workerConnections) c.disconnect();
      this.connection.disconnect();
    })();
    return this.closing;
  }
}
