import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/loader';
import type { ConnectorContext } from '../connectors/contract';
import { ConnectorRunError } from '../connectors/errors';
import type { Ledger } from '../ledger/db';
import { finishRun, recordEvent, startRun } from '../ledger/sync.repository';
import {
  acquireSourceLeases,
  keepAlive,
  markAbandonedRuns,
  processOwner,
  releaseSourceLeases,
  SourceBusyError,
} from '../ledger/leases.repository';
import { withRollback } from '../ledger/rollback';
import { invoicesTouchedSince, type TouchedInvoice } from '../ledger/invoices.repository';
import { assembleAll, type AssembleSummary } from '../stages/assemble.stage';
import { ClientResolver } from '../stages/clients';
import { pullSource, type PullSummary } from '../stages/pull.stage';
import { pollStatuses, pushPending, type PushSummary } from '../stages/push.stage';
import { rateStale, type RateSummary } from '../stages/rate.stage';
import { destinationConnectorMap, sourceConnectorFor } from './registry';
import { newRunId } from './run-id';

export interface Progress {
  phase(label: string): void;
  update(count: number): void;
  done(): void;
}

export const silentProgress: Progress = { phase() {}, update() {}, done() {} };

/** One invoice drafted or changed by a run, as the run summary lists it. */
export type InvoiceSummary = TouchedInvoice;

export interface SyncResult {
  runId: string;
  dryRun: boolean;
  summary: {
    read: number;
    accepted: number;
    unchanged: number;
    skipped: number;
    quarantined: number;
    deleted: number;
    rated: number;
    excluded: number;
    unpriced: number;
    invoicesDrafted: number;
    invoicesUpdated: number;
    invoicesUnchanged: number;
    invoicesEmptied: number;
    corrections: number;
    pushed: number;
    pushFailed: number;
  };
  sources: PullSummary[];
  invoices: InvoiceSummary[];
  alerts: string[];
}

/**
 * The inline runner: the stage functions in order, in one process (`hourbridge sync`).
 * The queue runner calls the same stages; nothing here is specific to running inline except
 * the order and the progress display.
 */
export async function runSync(args: {
  config: LoadedConfig;
  ledger: Ledger;
  log: Logger;
  progress?: Progress;
  /** Preview: everything inside one transaction that is rolled back, and nothing written out. */
  dryRun?: boolean;
  now?: Date;
  /** The run's id, when the caller names it before the run starts (the `ui` command's "start a run"). */
  runId?: string;
}): Promise<SyncResult> {
  const { config, log } = args;
  const progress = args.progress ?? silentProgress;
  const now = args.now ?? new Date();
  const runId = args.runId ?? newRunId(args.dryRun ? 'preview' : 'sync', now);
  if (args.dryRun) {
    return withRollback(args.ledger, (scoped) => execute(config, scoped, log, progress, now, runId, true));
  }
  // Runs left `running` by a killed process are settled first (their leases freed with them).
  for (const a of await markAbandonedRuns(args.ledger)) log.warn({ runId: a.id, owner: a.owner }, a.message);
  // One run per source at a time: refused, not queued, while another process reads one of them.
  const owner = processOwner();
  const sourceIds = config.sources.map((s) => s.id);
  const lease = await acquireSourceLeases(args.ledger, sourceIds, runId, owner);
  if (!lease.ok) throw new SourceBusyError(lease.holder);
  let alive: { stop(): void } | undefined;
  try {
    await startRun(args.ledger, runId, 'sync', owner);
    alive = keepAlive(args.ledger, runId, (err) => log.warn({ runId, err: err.message }, 'could not renew the run heartbeat'));
    const result = await execute(config, args.ledger, log, progress, now, runId, false);
    await finishRun(args.ledger, runId, result.summary.pushFailed > 0 ? 'failed' : 'succeeded', result.summary);
    return result;
  } catch (err) {
    await finishRun(args.ledger, runId, 'failed', { error: (err as Error).message }).catch(() => undefined);
    throw err;
  } finally {
    alive?.stop();
    await releaseSourceLeases(args.ledger, runId).catch(() => undefined);
  }
}

async function execute(
  config: LoadedConfig,
  ledger: Ledger,
  log: Logger,
  progress: Progress,
  now: Date,
  runId: string,
  dryRun: boolean,
): Promise<SyncResult> {
  const runLog = log.child({ runId });
  const ctx: ConnectorContext = { log: runLog, now, configDir: config.configDir, services: { ledger } };
  const clients = new ClientResolver(config.clients);
  const [{ t: startedAt }] = (await ledger.rows<{ t: string }>(sql`SELECT now()::text AS t`)) as [{ t: string }];

  const sources: PullSummary[] = [];
  // Each phase's log line carries its duration (ms), so a slow run shows where it spent its time.
  let mark = performance.now();
  const lap = () => {
    const at = performance.now();
    const ms = Math.round(at - mark);
    mark = at;
    return ms;
  };
  for (const source of config.sources) {
    progress.phase(`read ${source.id}`);
    const connector = sourceConnectorFor(source.kind);
    const s = await pullSource({
      ledger,
      source,
      connector,
      clients,
      ctx: { ...ctx, log: runLog.child({ source: source.id }) },
      runId,
      onPage: (p) => progress.update(p.read),
    }).catch((err: unknown) => {
      throw new ConnectorRunError('source', source.id, source.kind, err);
    });
    progress.done();
    runLog.info(
      {
        source: source.id,
        read: s.read,
        accepted: s.accepted,
        unchanged: s.unchanged,
        quarantined: s.quarantined,
        deleted: s.deleted,
        ms: lap(),
      },
      'source read',
    );
    sources.push(s);
  }

  progress.phase('price');
  const rate: RateSummary = await rateStale({ ledger, rates: config.rates, clients, onProgress: (n) => progress.update(n) });
  progress.done();
  runLog.info({ ...rate, ms: lap() }, 'priced');

  // Status back before assembly: approved drafts must be locked before they are rebuilt.
  // Not in preview: a token refresh inside the rolled-back transaction would lose the rotated token.
  const statuses = dryRun
    ? { checked: 0, changed: 0, alerts: [] as string[] }
    : await pollStatuses({ destinations: config.destinations, connectors: destinationConnectorMap(), ctx });
  runLog.info({ checked: statuses.checked, changed: statuses.changed, ms: lap() }, 'statuses polled');

  progress.phase('assemble');
  const assembled: AssembleSummary = await assembleAll(ledger, config.clients, config.rates);
  progress.done();
  runLog.info({ ...assembled, ms: lap() }, 'assembled');

  let push: PushSummary = { written: 0, failed: 0, locked: 0, alerts: [] };
  if (!dryRun) {
    progress.phase('write');
    push = await pushPending({ ledger, destinations: config.destinations, connectors: destinationConnectorMap(), ctx, runId });
    progress.done();
    runLog.info({ written: push.written, failed: push.failed, locked: push.locked, ms: lap() }, 'written');
  }
  const alerts = [...sourceAlerts(sources), ...push.alerts];
  if (!dryRun && alerts.length > 0) await recordEvent(ledger, runId, 'run.alerts', null, alerts);

  const invoices = await invoicesTouchedSince(ledger, startedAt);

  return {
    runId,
    dryRun,
    summary: runSummary(sources, rate, assembled, push),
    sources,
    invoices,
    alerts: [...sourceAlerts(sources), ...statuses.alerts, ...push.alerts],
  };
}

/** Source warnings as run alerts (each names its connector and source id); both runners print and record them. */
export function sourceAlerts(sources: PullSummary[]): string[] {
  return sources.flatMap((s) => s.warnings ?? []);
}

/** The run summary both runners report: per-source counts added up, then each stage's. */
export function runSummary(
  sources: PullSummary[],
  rate: RateSummary,
  assembled: AssembleSummary,
  push: PushSummary,
): SyncResult['summary'] {
  const sum = (f: (s: PullSummary) => number) => sources.reduce((a, s) => a + f(s), 0);
  return {
    read: sum((s) => s.read),
    accepted: sum((s) => s.accepted),
    unchanged: sum((s) => s.unchanged),
    skipped: sum((s) => s.skipped),
    quarantined: sum((s) => s.quarantined),
    deleted: sum((s) => s.deleted),
    rated: rate.rated,
    excluded: rate.excluded,
    unpriced: rate.unpriced,
    invoicesDrafted: assembled.drafted,
    invoicesUpdated: assembled.updated,
    invoicesUnchanged: assembled.unchanged,
    invoicesEmptied: assembled.emptied,
    corrections: assembled.corrections,
    pushed: push.written,
    pushFailed: push.failed,
  };
}
