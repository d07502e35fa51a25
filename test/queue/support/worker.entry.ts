/**
 * A worker process for the fault tests: the queue runner's workers over the generated source,
 * configured from the environment. HB_HANG_AFTER_WRITE=<marker file> makes the file destination
 * hang right after its first write reached the disk (and before the ledger records it), writing
 * the marker so the test knows when to kill -9 this process.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { destinationConnectors } from '../../../connectors/index';
import { openLedger } from '../../../src/ledger/db';
import { QueueRunner } from '../../../src/queue/queue.runner';
import { closeOnSignals } from '../../../src/queue/bootstrap';
import { generatedConfig } from './generated-source';

const env = process.env;
const config = generatedConfig({
  count: Number(env.HB_COUNT ?? 2000),
  outDir: env.HB_OUT_DIR!,
  pageSize: Number(env.HB_PAGE_SIZE ?? 2000),
});
const hangMarker = env.HB_HANG_AFTER_WRITE;
const writeLog = env.HB_WRITE_LOG;

const index = destinationConnectors.findIndex((d) => d.kind === 'file');
const file = destinationConnectors[index]!;
destinationConnectors[index] = {
  ...file,
  async write(cfg, drafts, ctx) {
    const outcomes = await file.write(cfg, drafts, ctx);
    if (writeLog) for (const d of drafts) appendFileSync(writeLog, `${process.pid} ${d.key}\n`);
    if (hangMarker && !existsSync(hangMarker)) {
      writeFileSync(hangMarker, String(process.pid));
      await new Promise(() => undefined); // the destination has the drafts; the ledger never hears of it
    }
    return outcomes;
  },
};

const log = pino({ level: env.HB_LOG_LEVEL ?? 'warn', base: { pid: process.pid } }, pino.destination(2));
const ledger = await openLedger({ url: env.DATABASE_URL!, poolSize: 4 });
const runner = new QueueRunner({
  config,
  ledger,
  log,
  redisUrl: env.REDIS_URL!,
  prefix: env.HB_PREFIX!,
  rateBatchSize: Number(env.HB_RATE_BATCH ?? 500),
  pushBatchSize: Number(env.HB_PUSH_BATCH ?? 5),
  backoffMs: 200,
});
runner.startWorkers({ lockDurationMs: Number(env.HB_LOCK_MS ?? 8000), stalledIntervalMs: Number(env.HB_STALLED_MS ?? 2000) });
closeOnSignals({
  log,
  close: async () => {
    await runner.close();
    await ledger.close();
  },
});
process.stdout.write('ready\n');
