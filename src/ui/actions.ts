import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/loader';
import { configSecrets, scrubMessage } from '../cli/failure';
import type { Ledger } from '../ledger/db';
import type { QueueRunner } from '../queue/queue.runner';
import { pipelinesOf, UnknownPipelineError } from '../queue/queue.runner';
import { type ConnectorCheck, checkConnectors } from '../runners/check';
import { runSync } from '../runners/inline.runner';
import { newRunId } from '../runners/run-id';

export interface Schedule {
  pipeline: string;
  cron: string;
  timeZone: string;
  /** ISO instant of the next run, where a scheduler runs it (the queue runner); null otherwise. */
  next: string | null;
}

export interface StartedRun {
  runId: string;
  pipelineId: string;
  /** false: a run of this pipeline was already going, and this is it. */
  created: boolean;
}

/**
 * What the pages can do and know beyond the ledger: start a run, re-check connectors, the
 * schedules and the queues. One implementation per runner, so a page never knows which one
 * carries the work (as a stage never does).
 */
export interface UiRunner {
  readonly mode: 'inline' | 'queue';
  pipelines(): string[];
  startRun(pipelineId: string): Promise<StartedRun>;
  schedules(): Promise<Schedule[]>;
  /** Job counts per queue and state (queue runner only). */
  queueDepths(): Promise<Record<string, Record<string, number>> | null>;
  /** Where the queue dashboard is (queue runner only). */
  readonly dashboard: string | null;
  /** Subscribe to "a run of this process finished" (the ledger poll sees the others). */
  onRunFinished(listener: () => void): () => void;
}

export class UiChecks {
  private last = new Map<string, ConnectorCheck & { at: string }>();
  constructor(
    private readonly config: LoadedConfig,
    private readonly log: Logger,
  ) {}

  list(): Array<ConnectorCheck & { at: string | null }> {
    return [
      ...this.config.sources.map((s) => ({ id: s.id, kind: s.kind, role: 'source' })),
      ...this.config.destinations.map((d) => ({ id: d.id, kind: d.kind, role: 'destination' })),
    ].map((c) => this.last.get(c.id) ?? { ...c, ok: false, message: 'not checked yet', at: null });
  }

  async run(id?: string): Promise<ConnectorCheck[]> {
    const results = await checkConnectors(this.config, this.log, id ? new Set([id]) : undefined);
    const at = new Date().toISOString();
    for (const r of results) this.last.set(r.id, { ...r, at });
    return results;
  }

  knows(id: string): boolean {
    return this.config.sources.some((s) => s.id === id) || this.config.destinations.some((d) => d.id === id);
  }
}

type Listeners = Set<() => void>;

/** The inline runner behind the `ui` command: a run is `hourbridge sync` in this process, one at a time. */
export class InlineUiRunner implements UiRunner {
  readonly mode = 'inline' as const;
  readonly dashboard = null;
  private current: Promise<unknown> | null = null;
  private currentRun: StartedRun | null = null;
  private readonly listeners: Listeners = new Set();

  constructor(
    private readonly config: LoadedConfig,
    private readonly ledger: Ledger,
    private readonly log: Logger,
  ) {}

  pipelines(): string[] {
    return pipelinesOf(this.config).map((p) => p.id);
  }

  async startRun(pipelineId: string): Promise<StartedRun> {
    const pipeline = pipelinesOf(this.config).find((p) => p.id === pipelineId);
    if (!pipeline) throw new UnknownPipelineError(`unknown pipeline "${pipelineId}" (expected one of: ${this.pipelines().join(', ')})`);
    if (this.current && this.currentRun) return { ...this.currentRun, created: false };
    const sources = pipeline.sources ? new Set(pipeline.sources) : undefined;
    const config = sources ? { ...this.config, sources: this.config.sources.filter((s) => sources.has(s.id)) } : this.config;
    const now = new Date();
    const runId = newRunId('sync', now);
    const secrets = configSecrets(this.config);
    this.currentRun = { runId, pipelineId, created: true };
    this.current = runSync({ config, ledger: this.ledger, log: this.log, now, runId })
      .then((result) => {
        this.log.info({ runId: result.runId, ...result.summary }, 'run finished');
        return result.runId;
      })
      .catch((err: Error) => {
        this.log.warn({ err: scrubMessage(err.message, secrets) }, 'run failed');
        return null;
      })
      .finally(() => {
        this.current = null;
        this.currentRun = null;
        for (const l of this.listeners) l();
      });
    return this.currentRun;
  }

  async schedules(): Promise<Schedule[]> {
    return pipelinesOf(this.config).flatMap((p) =>
      p.schedule ? [{ pipeline: p.id, cron: p.schedule.cron, timeZone: p.schedule.timeZone, next: null }] : [],
    );
  }

  async queueDepths() {
    return null;
  }

  onRunFinished(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Wait for the run in flight (tests, shutdown). */
  async idle(): Promise<void> {
    await this.current;
  }
}

/** The queue runner behind `hourbridge serve`: runs are flows on the queues, schedules are BullMQ job schedulers. */
export class QueueUiRunner implements UiRunner {
  readonly mode = 'queue' as const;
  readonly dashboard = '/admin/queues';

  constructor(private readonly runner: QueueRunner) {}

  pipelines(): string[] {
    return this.runner.pipelines().map((p) => p.id);
  }

  startRun(pipelineId: string): Promise<StartedRun> {
    return this.runner.triggerRun(pipelineId);
  }

  async schedules(): Promise<Schedule[]> {
    const byKey = new Map((await this.runner.queues.trigger.getJobSchedulers()).map((s) => [s.key, s]));
    return this.runner.pipelines().flatMap((p) => {
      if (!p.schedule) return [];
      const next = byKey.get(`pipeline.${p.id}`)?.next;
      return [{ pipeline: p.id, cron: p.schedule.cron, timeZone: p.schedule.timeZone, next: next ? new Date(next).toISOString() : null }];
    });
  }

  queueDepths() {
    return this.runner.depths();
  }

  onRunFinished(): () => void {
    // Queue runs finish in any worker process: the ledger poll (LiveFeed) sees them.
    return () => undefined;
  }
}
