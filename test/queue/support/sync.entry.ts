/**
 * An inline `sync` in its own process for the run-lifecycle tests: runSync over the generated
 * source on the ledger at DATABASE_URL. HB_HANG_MARKER=<file>: the source hangs after its first
 * page (the run is `running`, its lease held), writing the marker so the test knows when to
 * kill -9 this process.
 */
import { writeFileSync } from 'node:fs';
import pino from 'pino';
import { sourceConnectors } from '../../../connectors/index';
import { openLedger } from '../../../src/ledger/db';
import { runSync } from '../../../src/runners/inline.runner';
import { generatedConfig } from './generated-source';

const env = process.env;
const config = generatedConfig({ count: Number(env.HB_COUNT ?? 200), outDir: env.HB_OUT_DIR!, pageSize: 50 });
const marker = env.HB_HANG_MARKER;
const index = sourceConnectors.findIndex((c) => c.kind === 'generated');
const generated = sourceConnectors[index]!;
if (marker) {
  sourceConnectors[index] = {
    ...generated,
    async *read(cfg, options, ctx) {
      for await (const page of generated.read(cfg, options, ctx)) {
        yield page;
        writeFileSync(marker, String(process.pid));
        await new Promise(() => undefined);
      }
    },
  };
}
const log = pino({ level: 'warn' }, pino.destination(2));
const ledger = await openLedger({ url: env.DATABASE_URL!, poolSize: 2 });
const result = await runSync({ config, ledger, log });
process.stdout.write(`${JSON.stringify({ runId: result.runId })}\n`);
await ledger.close();
