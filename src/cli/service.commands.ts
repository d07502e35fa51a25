import type { Command } from 'commander';
import type { LoadedConfig } from '../config/loader';
import { createLogger } from '../observability/logger';
import { closeOnSignals, openServiceContext } from '../queue/bootstrap';
import { QUEUE_NAMES, type QueueName } from '../queue/jobs';
import type { Out } from './output';
import { apiTokensFrom, TokenVerifier } from '../service/token-verifier';
import { ServiceMetrics } from '../service/metrics';
import { DEFAULT_WORKER_METRICS_PORT, startMetricsListener, type MetricsListener } from '../service/worker-metrics';

interface ServiceOptions {
  config: string;
  json?: boolean;
  ledgerUrl?: string;
  redisUrl?: string;
  prefix?: string;
  logLevel?: string;
}

function serviceOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-c, --config <path>', 'config file or directory of .yaml files')
    .option('--ledger-url <url>', 'PostgreSQL URL of the shared ledger (default: ledger.url, then DATABASE_URL)')
    .option('--redis-url <url>', 'Redis URL of the queues (default: server.redisUrl, then REDIS_URL, then redis://127.0.0.1:6379)')
    .option('--prefix <prefix>', 'queue key prefix (default: server.queuePrefix)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug', process.env.HOURBRIDGE_LOG_LEVEL ?? 'info');
}

function parseQueues(list: string | undefined): QueueName[] | undefined {
  if (!list) return undefined;
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(QUEUE_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`unknown queue(s) ${unknown.join(', ')}: expected some of ${QUEUE_NAMES.join(', ')}`);
  return names as QueueName[];
}

/** What main.ts shares with these commands: the one output, the config loader, the exit code. */
export interface CliContext {
  out: Out;
  load(target: string): LoadedConfig;
  setExitCode(code: number): void;
}

/** `serve`, `worker` and `run`: the queue runner's commands. Registered by main.ts in one line. */
export function registerServiceCommands(program: Command, { out, load, setExitCode }: CliContext): void {
  serviceOptions(program.command('serve').description('HTTP API, dashboard, schedules and workers (queue runner)'))
    .option('-p, --port <port>', 'HTTP port (default: server.port, then PORT, then 8080)')
    .option('--no-workers', 'serve the API and schedules only; run workers with `hourbridge worker`')
    .action(async (opts: ServiceOptions & { port?: string; workers: boolean }) => {
      const config = load(opts.config);
      const log = createLogger({ level: opts.logLevel, bindings: { role: 'serve' } });
      const ctx = await openServiceContext({ config, log, ledgerUrl: opts.ledgerUrl, redisUrl: opts.redisUrl, prefix: opts.prefix });
      const { createApp } = await import('../service/app.module');
      const app = await createApp(ctx, { workers: opts.workers });
      const port = Number(opts.port ?? process.env.PORT ?? config.raw.server?.port ?? 8080);
      await app.listen(port, '0.0.0.0');
      log.info({ port }, 'hourbridge serving');
      // Nest's shutdown hooks close the app (and with it the workers and queues) on SIGTERM.
      await new Promise<void>((resolve) => process.once('beforeExit', () => resolve()));
    });

  serviceOptions(program.command('worker').description('work the queues (any number of processes on any number of machines)'))
    .option('--queues <names>', `comma-separated subset of ${QUEUE_NAMES.join(', ')} (default: all)`)
    .option('--concurrency <n>', 'jobs in parallel per queue in this process')
    .option(
      '--metrics-port <port>',
      `port of this worker's GET /metrics (Prometheus); 0: none (default: server.metricsPort, then ${DEFAULT_WORKER_METRICS_PORT})`,
    )
    .action(async (opts: ServiceOptions & { queues?: string; concurrency?: string; metricsPort?: string }) => {
      const config = load(opts.config);
      const log = createLogger({ level: opts.logLevel, bindings: { role: 'worker', pid: process.pid } });
      const queues = parseQueues(opts.queues);
      const metricsPort = Number(opts.metricsPort ?? config.raw.server?.metricsPort ?? DEFAULT_WORKER_METRICS_PORT);
      if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) {
        throw new Error(`--metrics-port: expected a port number 0–65535 (0: no listener), got "${opts.metricsPort}"`);
      }
      const ctx = await openServiceContext({ config, log, ledgerUrl: opts.ledgerUrl, redisUrl: opts.redisUrl, prefix: opts.prefix });
      const n = opts.concurrency ? Number(opts.concurrency) : undefined;
      const metrics = new ServiceMetrics(ctx);
      if (ctx.live) ctx.live.onWritten = metrics.observeLive;
      ctx.runner.startWorkers({
        ...(queues ? { queues } : {}),
        ...(n ? { concurrency: Object.fromEntries(QUEUE_NAMES.map((q) => [q, n])) } : {}),
        onJobEnd: metrics.observeJob,
      });
      let listener: MetricsListener | undefined;
      if (metricsPort > 0) {
        const tokens = new TokenVerifier(apiTokensFrom(config.raw.server?.apiTokens ?? []));
        // A port already taken (two workers on one host) costs the metrics, not the work.
        listener = await startMetricsListener({ metrics, tokens, port: metricsPort, log }).catch((err: Error) => {
          log.warn(
            { port: metricsPort, err: err.message },
            'metrics listener not started: set another --metrics-port or server.metricsPort (0: none)',
          );
          return undefined;
        });
        if (listener) log.info({ port: listener.port }, 'metrics on GET /metrics');
      }
      // Runs the ledger still calls running though their jobs are gone (a lost Redis) are settled.
      ctx.runner.settleAbandonedRuns().catch((err: Error) => log.warn({ err: err.message }, 'could not check for abandoned runs'));
      log.info({ queues: queues ?? QUEUE_NAMES }, 'worker started');
      // Runs until SIGTERM/SIGINT: active jobs finish, connections close, the process exits.
      await new Promise<void>(() =>
        closeOnSignals({
          log,
          close: async () => {
            await listener?.close();
            await ctx.close();
          },
        }),
      );
    });

  serviceOptions(program.command('run').description('start a pipeline run on the queues now (workers do the work)'))
    .requiredOption('--pipeline <id>', 'pipeline id (`all` when the config has no pipelines)')
    .option('--wait', 'wait for the run to finish and print its summary')
    .option('--json', 'print one JSON document on stdout')
    .action(async (opts: ServiceOptions & { pipeline: string; wait?: boolean }) => {
      const config = load(opts.config);
      const log = createLogger({ level: opts.logLevel ?? 'warn', bindings: { role: 'run' } });
      const ctx = await openServiceContext({ config, log, ledgerUrl: opts.ledgerUrl, redisUrl: opts.redisUrl, prefix: opts.prefix });
      try {
        const handle = await ctx.runner.triggerRun(opts.pipeline);
        if (!opts.wait) {
          out.document(handle);
          out.print(
            handle.created
              ? `Run ${handle.runId} of pipeline ${handle.pipelineId} queued.`
              : `A run of pipeline ${handle.pipelineId} is already in flight: ${handle.runId}.`,
          );
          return;
        }
        const state = await ctx.runner.waitForRun(handle.runId, 24 * 3600_000, 1000);
        out.document(state);
        if (state.state === 'completed' && state.result) {
          const s = state.result.summary;
          out.table(
            ['run', 'read', 'accepted', 'quarantined', 'drafted', 'updated', 'written', 'failed'],
            [[handle.runId, s.read, s.accepted, s.quarantined, s.invoicesDrafted, s.invoicesUpdated, s.pushed, s.pushFailed]],
            { alignRight: [1, 2, 3, 4, 5, 6, 7] },
          );
          for (const alert of state.result.alerts) out.print(`! ${alert}`);
          if (s.pushFailed > 0) {
            out.fail({ code: 'push_failed', message: `${s.pushFailed} invoice(s) could not be written` });
            setExitCode(1);
          }
        } else {
          out.fail({ code: 'run_failed', message: `Run ${handle.runId} failed: ${state.failedReason ?? 'unknown reason'}` });
          setExitCode(1);
        }
      } finally {
        await ctx.close();
      }
    });
}
