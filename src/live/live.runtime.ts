import { DateTime } from 'luxon';
import { DelayedError, UnrecoverableError, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { LoadedConfig } from '../config/loader';
import { LIVE_DEFAULTS, type LiveConfig, type SourceConfig } from '../config/schema';
import type { ConnectorContext, LiveSelection, SourceConnector, SourceHookEvent } from '../connectors/contract';
import type { Ledger } from '../ledger/db';
import { acquireSourceLeases, keepAlive, processOwner, releaseSourceLeases } from '../ledger/leases.repository';
import { finishRun, recordEvent, startRun } from '../ledger/sync.repository';
import { createRedis } from '../queue/connection';
import type { QueueRunner } from '../queue/queue.runner';
import { destinationConnectorMap, sourceConnectorFor } from '../runners/registry';
import { newRunId } from '../runners/run-id';
import { assembleClient } from '../stages/assemble.stage';
import { ClientResolver } from '../stages/clients';
import { pullSource, type PullSummary } from '../stages/pull.stage';
import { pushPending } from '../stages/push.stage';
import { rateStale } from '../stages/rate.stage';
import { clientPendingKeys, dirtyClients, entryDates } from './live.repository';

export const LIVE_JOB = { pull: 'live-pull', assemble: 'live-assemble', poll: 'live-poll' } as const;

// Job data: ids only (invariant 6). What a pull reads waits in Redis beside the job.
export const LivePullJob = z.strictObject({ sourceId: z.string().min(1), gen: z.number().int().min(0) });
export const LiveAssembleJob = z.strictObject({ clientId: z.string().min(1), gen: z.number().int().min(0) });
export const LivePollJob = z.strictObject({ sourceId: z.string().min(1) });

/** What happened to the events of one webhook delivery. */
export interface AcceptOutcome {
  queued: number;
  ignored: number;
  /** Deliveries seen before, or sent longer ago than the replay window: refused. */
  replayed: number;
  stale: number;
}

interface PendingChange {
  date?: string;
  deleted: boolean;
  /** Arrival (epoch ms) of the first event since the last pull. */
  at: number;
}

const POLL_SCHEDULER = 'live.poll.';

/** Dates of one pull's entries that lie further apart than this are read as separate windows. */
const WINDOW_GAP_DAYS = 7;

/**
 * Live updates: a verified webhook event becomes a pull of just that entry, a price, one
 * assembly of its client and a write of the client's changed drafts — on the queue runner's
 * own queues and workers, beside the scheduled runs (which still reconcile everything).
 *
 * Debounce: every event waits in a Redis hash per source and queues a pull job whose id is
 * `live.pull.<source>.<generation>`; the job moves the generation on when it starts, so events
 * that arrive while it waits join it (same id: BullMQ keeps the one job) and events that arrive
 * once it runs get the next one. Assemblies of a client work the same way, so a burst of events
 * for one client is one assembly. The ledger stays the source of truth: a lost job costs
 * latency only (the next scheduled run finds the change), never a wrong invoice.
 */
export class LiveUpdates {
  private readonly clients: ClientResolver;
  private readonly settings: LiveConfig;
  private readonly jobDefaults: JobsOptions = {
    attempts: 5,
    backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
    removeOnComplete: { age: 3600, count: 2000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };

  constructor(private readonly deps: { config: LoadedConfig; ledger: Ledger; runner: QueueRunner; log: Logger; redisUrl: string }) {
    this.clients = new ClientResolver(deps.config.clients);
    this.settings = { ...LIVE_DEFAULTS, ...(deps.config.raw.server?.live ?? {}) };
  }

  /**
   * Called when a live assembly has written a client's drafts, with the seconds since the oldest
   * webhook event (or poll) it covers arrived (the service's metrics observe it).
   */
  onWritten: ((clientId: string, seconds: number) => void) | undefined;

  get replayWindowMs(): number {
    return this.settings.replayWindowSeconds * 1000;
  }

  /** Job handlers on the runner's workers (pull and assemble queues). */
  register(): this {
    this.deps.runner.registerHandler(LIVE_JOB.pull, (job, token, log) => this.pull(job, token, log));
    this.deps.runner.registerHandler(LIVE_JOB.assemble, (job, _token, log) => this.assemble(job, log));
    this.deps.runner.registerHandler(LIVE_JOB.poll, (job, _token, log) => this.poll(job, log));
    return this;
  }

  /**
   * One BullMQ job scheduler per source with `poll.everySeconds` whose connector can look for
   * changes cheaply (Harvest, Google Sheets); schedulers of sources no longer polled are removed.
   * Idempotent: every `serve` may call it at start-up.
   */
  async syncPolls(): Promise<string[]> {
    const queue = this.deps.runner.queues.pull;
    const wanted = new Map<string, number>();
    for (const source of this.deps.config.sources) {
      const every = (source as { poll?: { everySeconds?: number } }).poll?.everySeconds;
      if (every && sourceConnectorFor(source.kind).pollChange) wanted.set(source.id, every);
    }
    for (const [sourceId, every] of wanted) {
      await queue.upsertJobScheduler(
        `${POLL_SCHEDULER}${sourceId}`,
        { every: every * 1000 },
        {
          name: LIVE_JOB.poll,
          data: LivePollJob.parse({ sourceId }),
          opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
        },
      );
      this.deps.log.info({ source: sourceId, everySeconds: every }, 'source poll scheduled');
    }
    for (const s of await queue.getJobSchedulers()) {
      if (s.key.startsWith(POLL_SCHEDULER) && !wanted.has(s.key.slice(POLL_SCHEDULER.length))) await queue.removeJobScheduler(s.key);
    }
    return [...wanted.keys()].map((id) => `${POLL_SCHEDULER}${id}`);
  }

  private key(...parts: string[]): string {
    return [this.deps.runner.prefix, 'hourbridge', 'live', ...parts].join(':');
  }

  private connection: Redis | undefined;

  private async redis(): Promise<Redis> {
    this.connection ??= createRedis(this.deps.redisUrl);
    return this.connection;
  }

  /** Closes this module's Redis connection (the queues and workers are the runner's). */
  close(): void {
    this.connection?.disconnect();
    this.connection = undefined;
  }

  source(sourceId: string): { source: SourceConfig; connector: SourceConnector<SourceConfig> } | undefined {
    const source = this.deps.config.sources.find((s) => s.id === sourceId);
    if (!source) return undefined;
    return { source, connector: sourceConnectorFor(source.kind) };
  }

  /**
   * Events of a verified delivery: refuse replays (a delivery key seen within the window, or a
   * send time outside it), keep the rest for the source's next pull, and queue that pull.
   */
  async accept(sourceId: string, events: SourceHookEvent[], now = new Date()): Promise<AcceptOutcome> {
    const out: AcceptOutcome = { queued: 0, ignored: 0, replayed: 0, stale: 0 };
    const redis = await this.redis();
    const pending: Record<string, string> = {};
    for (const e of events) {
      if (e.kind === 'ping') continue;
      if (e.sentAt && Math.abs(now.getTime() - e.sentAt.getTime()) > this.replayWindowMs) {
        out.stale++;
        continue;
      }
      // Kept twice the window: a delivery sent at the window's edge is still recognised.
      const fresh = await redis.set(this.key('seen', sourceId, e.eventKey), '1', 'PX', 2 * this.replayWindowMs, 'NX');
      if (fresh !== 'OK') {
        out.replayed++;
        continue;
      }
      if (e.kind === 'ignored') {
        out.ignored++;
        continue;
      }
      pending[e.externalId] = JSON.stringify({
        ...(e.date ? { date: e.date } : {}),
        deleted: e.deleted,
        at: now.getTime(),
      } satisfies PendingChange);
      out.queued++;
    }
    if (Object.keys(pending).length > 0) {
      await redis.hset(this.key('pending', sourceId), pending);
      await this.queuePull(redis, sourceId);
    }
    return out;
  }

  private async queuePull(redis: Redis, sourceId: string): Promise<void> {
    const gen = Number((await redis.get(this.key('pull-gen', sourceId))) ?? 0);
    await this.deps.runner.queues.pull.add(LIVE_JOB.pull, LivePullJob.parse({ sourceId, gen }), {
      ...this.jobDefaults,
      jobId: `live.pull.${sourceId}.${gen}`,
      delay: this.settings.pullDelayMs,
    });
  }

  /** Queue (or join) the next assembly of a client. */
  async queueAssemble(clientId: string, since?: number): Promise<void> {
    const redis = await this.redis();
    // The oldest arrival the client's next assembly covers (kept until that assembly takes it).
    if (since !== undefined && Number.isFinite(since)) await redis.set(this.key('since', clientId), String(since), 'NX');
    const gen = Number((await redis.get(this.key('assemble-gen', clientId))) ?? 0);
    await this.deps.runner.queues.assemble.add(LIVE_JOB.assemble, LiveAssembleJob.parse({ clientId, gen }), {
      ...this.jobDefaults,
      jobId: `live.assemble.${clientId}.${gen}`,
      delay: this.settings.assembleDelayMs,
    });
  }

  private ctx(log: Logger): ConnectorContext {
    return {
      log,
      now: new Date(),
      configDir: this.deps.config.configDir,
      services: { ledger: this.deps.ledger, redisUrl: this.deps.redisUrl },
    };
  }

  /** The pull job: the entries the source's events named since the last one, then their prices, then the assemblies. */
  private async pull(job: Job, token: string | undefined, log: Logger): Promise<unknown> {
    const data = LivePullJob.parse(job.data);
    const found = this.source(data.sourceId);
    if (!found) throw new UnrecoverableError(`source "${data.sourceId}" is not in this worker's config`);
    const { source, connector } = found;
    const { ledger } = this.deps;
    const runId = newRunId(`live-${source.id}`);
    const lease = await acquireSourceLeases(ledger, [source.id], runId, processOwner());
    if (!lease.ok) {
      log.debug({ source: source.id, heldBy: lease.holder.runId }, 'source busy; live pull waits');
      await job.moveToDelayed(Date.now() + 1000, token);
      throw new DelayedError();
    }
    const redis = await this.redis();
    // From here on new events belong to the next generation's job.
    await redis.incr(this.key('pull-gen', source.id));
    const processing = this.key('pulling', source.id, String(data.gen));
    // Pending changes move to this job's own hash (atomically); a retried attempt finds them there.
    const moved = (await redis.eval(
      "local kv = redis.call('HGETALL', KEYS[1]) for i = 1, #kv, 2 do redis.call('HSET', KEYS[2], kv[i], kv[i + 1]) end redis.call('DEL', KEYS[1]) return redis.call('HGETALL', KEYS[2])",
      2,
      this.key('pending', source.id),
      processing,
    )) as string[];
    const changes = new Map<string, PendingChange>();
    for (let i = 0; i + 1 < moved.length; i += 2) changes.set(moved[i]!, JSON.parse(moved[i + 1]!) as PendingChange);
    await startRun(ledger, runId, `live:${source.id}`, processOwner());
    const alive = keepAlive(ledger, runId, (err) => log.warn({ err: err.message }, 'could not renew the source lease'));
    try {
      const summaries: PullSummary[] = [];
      for (const only of await this.selections(source.id, changes)) {
        summaries.push(
          await pullSource({
            ledger,
            source,
            // The same connector, asked for just these entries; its page cursors are dropped so
            // the scheduled sync's stream position never moves here (invariant 4 holds as is).
            connector: {
              ...connector,
              read: (config, options, ctx) => dropCursors(connector.read(config, { ...options, only }, ctx)),
            },
            clients: this.clients,
            ctx: this.ctx(log.child({ source: source.id })),
            runId,
          }),
        );
      }
      const rate = await rateStale({ ledger, rates: this.deps.config.rates, clients: this.clients });
      const dirty = await dirtyClients(
        ledger,
        this.deps.config.clients.map((c) => c.id),
      );
      const oldest = Math.min(...[...changes.values()].map((c) => c.at));
      for (const clientId of dirty) await this.queueAssemble(clientId, oldest);
      const summary = {
        entries: changes.size,
        read: summaries.reduce((n, s) => n + s.read, 0),
        accepted: summaries.reduce((n, s) => n + s.accepted, 0),
        deleted: summaries.reduce((n, s) => n + s.deleted, 0),
        quarantined: summaries.reduce((n, s) => n + s.quarantined, 0),
        rated: rate.rated,
        assembliesQueued: dirty,
      };
      await finishRun(ledger, runId, 'succeeded', summary);
      await redis.del(processing);
      log.info({ source: source.id, ...summary }, 'live pull done');
      return summary;
    } catch (err) {
      await finishRun(ledger, runId, 'failed', { error: (err as Error).message }).catch(() => undefined);
      throw err;
    } finally {
      alive.stop();
      await releaseSourceLeases(ledger, runId, [source.id]).catch(() => undefined);
    }
  }

  /**
   * The reads of one pull: entries grouped by date into windows (a day either side: an event's
   * date is in the source's zone, the API may list by another), deletions without a date placed
   * by the ledger's date of the entry, and those the ledger does not hold dropped (nothing to undo).
   */
  private async selections(sourceId: string, changes: Map<string, PendingChange>): Promise<LiveSelection[]> {
    const undated = [...changes].filter(([, c]) => !c.date).map(([id]) => id);
    const known = await entryDates(this.deps.ledger, sourceId, undated);
    const dated: Array<{ id: string; date: string; deleted: boolean }> = [];
    for (const [id, c] of changes) {
      const date = c.date ?? known.get(id);
      if (date) dated.push({ id, date, deleted: c.deleted });
    }
    dated.sort((a, b) => a.date.localeCompare(b.date));
    const groups: (typeof dated)[] = [];
    for (const d of dated) {
      const last = groups[groups.length - 1];
      const lastDate = last?.[last.length - 1]?.date;
      if (last && lastDate && daysBetween(lastDate, d.date) <= WINDOW_GAP_DAYS) last.push(d);
      else groups.push([d]);
    }
    return groups.map((g) => ({
      externalIds: g.map((d) => d.id),
      deleted: g.filter((d) => d.deleted).map((d) => d.id),
      window: { from: shiftDate(g[0]!.date, -1), to: shiftDate(g[g.length - 1]!.date, 1) },
    }));
  }

  private async poll(job: Job, log: Logger): Promise<unknown> {
    const data = LivePollJob.parse(job.data);
    const out = await this.pollOnce(data.sourceId, log);
    if (out === 'busy') {
      // A run is reading the source: it sees the change itself; this look is simply skipped.
      log.debug({ source: data.sourceId }, 'source busy; poll skipped');
      return { changed: null };
    }
    return out;
  }

  /**
   * One poll of a source: the connector's cheap look (one small request) against the token of
   * the last look; only when it changed, the source's normal incremental pull (cursor and all,
   * under the source's lease), its prices, and the assemblies of the clients it touched. The new
   * token is kept only once that worked, so a failed pull is looked at again next time.
   */
  async pollOnce(sourceId: string, log: Logger = this.deps.log): Promise<{ changed: boolean; read?: number } | 'busy'> {
    const found = this.source(sourceId);
    if (!found?.connector.pollChange) throw new UnrecoverableError(`source "${sourceId}" is not configured or cannot be polled`);
    const { source, connector } = found;
    const pollChange = found.connector.pollChange.bind(found.connector);
    const redis = await this.redis();
    const tokenKey = this.key('poll-token', source.id);
    const previous = (await redis.get(tokenKey)) ?? undefined;
    const look = await pollChange(source, previous, this.ctx(log));
    if (!look.changed) {
      await redis.set(tokenKey, look.token);
      return { changed: false };
    }
    const { ledger } = this.deps;
    const runId = newRunId(`live-${source.id}`);
    const lease = await acquireSourceLeases(ledger, [source.id], runId, processOwner());
    if (!lease.ok) return 'busy';
    await startRun(ledger, runId, `live:${source.id}`, processOwner());
    const alive = keepAlive(ledger, runId, (err) => log.warn({ err: err.message }, 'could not renew the source lease'));
    try {
      const summary = await pullSource({
        ledger,
        source,
        connector,
        clients: this.clients,
        ctx: this.ctx(log.child({ source: source.id })),
        runId,
      });
      const queued = await this.afterPull();
      await finishRun(ledger, runId, 'succeeded', { poll: true, ...summary, assembliesQueued: queued });
      await redis.set(tokenKey, look.token);
      log.info({ source: source.id, read: summary.read, accepted: summary.accepted }, 'source changed; polled and pulled');
      return { changed: true, read: summary.read };
    } catch (err) {
      await finishRun(ledger, runId, 'failed', { error: (err as Error).message }).catch(() => undefined);
      throw err;
    } finally {
      alive.stop();
      await releaseSourceLeases(ledger, runId, [source.id]).catch(() => undefined);
    }
  }

  /** After a pull: price what it changed and queue the assemblies of the clients whose drafts it touched. */
  private async afterPull(since = Date.now()): Promise<string[]> {
    await rateStale({ ledger: this.deps.ledger, rates: this.deps.config.rates, clients: this.clients });
    const dirty = await dirtyClients(
      this.deps.ledger,
      this.deps.config.clients.map((c) => c.id),
    );
    for (const clientId of dirty) await this.queueAssemble(clientId, since);
    return dirty;
  }

  /** The assembly job: one client's drafts rebuilt from the ledger, then its changed drafts written. */
  private async assemble(job: Job, log: Logger): Promise<unknown> {
    const data = LiveAssembleJob.parse(job.data);
    const client = this.deps.config.clients.find((c) => c.id === data.clientId);
    if (!client) throw new UnrecoverableError(`client "${data.clientId}" is not in this worker's config`);
    const { ledger } = this.deps;
    const redis = await this.redis();
    await redis.incr(this.key('assemble-gen', client.id));
    const since = Number(await redis.getdel(this.key('since', client.id)));
    const summary = await assembleClient(ledger, client, this.deps.config.rates);
    // An entry that moved to another client was released here: that client assembles next.
    if (summary.released > 0) {
      for (const other of await dirtyClients(
        ledger,
        this.deps.config.clients.map((c) => c.id),
      ))
        if (other !== client.id) await this.queueAssemble(other);
    }
    const keys = await clientPendingKeys(ledger, client.id);
    let written = 0;
    if (keys.length > 0) {
      const runId = newRunId(`live-${client.id}`);
      await startRun(ledger, runId, `live:${client.id}`, processOwner());
      const push = await pushPending({
        ledger,
        destinations: this.deps.config.destinations,
        connectors: destinationConnectorMap(),
        ctx: this.ctx(log.child({ client: client.id })),
        runId,
        onlyKeys: new Set(keys),
      });
      written = push.written;
      if (written > 0 && since > 0) this.onWritten?.(client.id, (Date.now() - since) / 1000);
      await finishRun(ledger, runId, push.failed > 0 ? 'failed' : 'succeeded', { assemble: summary, push });
      if (push.alerts.length > 0) await recordEvent(ledger, runId, 'run.alerts', null, push.alerts);
    }
    log.info({ client: client.id, ...summary, written }, 'live assembly done');
    return { client: client.id, ...summary, written };
  }
}

async function* dropCursors<T extends { cursor: unknown }>(pages: AsyncIterable<T>): AsyncIterable<T> {
  for await (const page of pages) yield { ...page, cursor: null };
}

function shiftDate(date: string, days: number): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate()!;
}

function daysBetween(a: string, b: string): number {
  return DateTime.fromISO(b, { zone: 'UTC' }).diff(DateTime.fromISO(a, { zone: 'UTC' }), 'days').days;
}
