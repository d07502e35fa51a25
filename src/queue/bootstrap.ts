import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/loader';
import { openLedger, type Ledger } from '../ledger/db';
import { redactRedisUrl, resolveRedisUrl } from './connection';
import { LiveUpdates } from '../live/live.runtime';
import { QueueRunner, type WorkerOptions } from './queue.runner';

export interface ServiceContext {
  config: LoadedConfig;
  ledger: Ledger;
  runner: QueueRunner;
  /** Webhook events and polls of sources (src/live); its jobs run on the runner's workers. */
  live?: LiveUpdates;
  log: Logger;
  redisUrl: string;
  /** Closes workers (finishing active jobs), queues and the ledger, once. */
  close(): Promise<void>;
}

export class ServiceSetupError extends Error {
  override readonly name = 'ServiceSetupError';
}

/**
 * Open what `serve`, `worker` and `run` share: the ledger (a PostgreSQL server: the embedded
 * ledger lives in one process and cannot be shared by workers) and the queue runner.
 */
export async function openServiceContext(args: {
  config: LoadedConfig;
  log: Logger;
  ledgerUrl?: string | undefined;
  redisUrl?: string | undefined;
  prefix?: string | undefined;
}): Promise<ServiceContext> {
  const url = args.ledgerUrl || args.config.raw.ledger.url || process.env.DATABASE_URL;
  if (!url) {
    throw new ServiceSetupError(
      'the queue runner needs a PostgreSQL ledger shared by all processes: set ledger.url in the config, DATABASE_URL, or --ledger-url (the embedded ledger is for `hourbridge sync`)',
    );
  }
  const redisUrl = resolveRedisUrl(args.redisUrl || args.config.raw.server?.redisUrl);
  const ledger = await openLedger({ url });
  const prefix = args.prefix || args.config.raw.server?.queuePrefix || 'hourbridge';
  const runner = new QueueRunner({ config: args.config, ledger, log: args.log, redisUrl, prefix });
  const live = new LiveUpdates({ config: args.config, ledger, runner, log: args.log, redisUrl }).register();
  args.log.info({ ledger: ledger.location, redis: redactRedisUrl(redisUrl), prefix }, 'queue runner ready');
  let closing: Promise<void> | null = null;
  return {
    config: args.config,
    ledger,
    runner,
    live,
    log: args.log,
    redisUrl,
    close() {
      closing ??= (async () => {
        await runner.close();
        live.close();
        await ledger.close();
      })();
      return closing;
    },
  };
}

/** Close on SIGTERM/SIGINT: active jobs finish (or are handed back by stall detection), then exit. */
export function closeOnSignals(ctx: { close(): Promise<void>; log: Logger }, onClosed: () => void = () => process.exit(0)): void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    ctx.log.info({ signal }, 'shutting down: finishing active jobs');
    ctx.close().then(onClosed, (err: Error) => {
      ctx.log.error({ err: err.message }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}

export type { WorkerOptions };
