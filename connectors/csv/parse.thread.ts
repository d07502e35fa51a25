import { Worker } from 'node:worker_threads';
import { CREDITS_TAKEN, CREDITS_WAITING } from './parse.mjs';
import type { CsvItemSource, CsvSink, CsvTarget, ThreadMessage } from './parse.mjs';

/**
 * The CSV parse core on a worker thread. csv-parse costs about as much CPU per row as mapping
 * the row does; on a large file the two then run side by side on two cores, and csv-parse's
 * garbage is collected in the worker's heap instead of the one that holds the pages. A thread
 * costs tens of milliseconds and a few MB to start, so the connector only uses it for large
 * files (see `parseThread`).
 */
export interface ThreadOptions {
  /** Items per message (default 200). */
  batch?: number;
  /** Messages the worker may post before the reader has taken them (default 6: a short stall of either thread must not stop the other). */
  ahead?: number;
}

const WORKER_URL = new URL('./parse.worker.mjs', import.meta.url);

const running = new Set<Worker>();

/** Parse threads that have not exited yet (tests check that none outlives its read). */
export function runningParseThreads(): number {
  return running.size;
}

export function startCsvParseThread(target: CsvTarget, sink: CsvSink, opts: ThreadOptions = {}): CsvItemSource {
  // Flow control through shared memory: [TAKEN] counts batches this thread has taken, [WAITING]
  // is 1 while the worker waits for one. Granting a credit is then an atomic add, and a wake-up
  // only when the worker is actually waiting; a postMessage per batch cost ~45 µs here.
  const credits = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  const workerData = { target, batch: opts.batch ?? 200, ahead: opts.ahead ?? 6, credits };
  // No execArgv: the worker is plain JavaScript and must not inherit the TypeScript loader.
  const worker = new Worker(WORKER_URL, { workerData, execArgv: [] });
  running.add(worker);
  let done = false;
  let paused = false;
  /** Batches taken while paused: granted on resume. */
  let owed = 0;
  const grant = (n: number) => {
    Atomics.add(credits, CREDITS_TAKEN, n);
    if (Atomics.load(credits, CREDITS_WAITING) === 1) Atomics.notify(credits, CREDITS_TAKEN);
  };
  const finish = (then: () => void) => {
    if (done) return;
    done = true;
    void worker.terminate();
    then();
  };
  worker.on('message', (m: ThreadMessage) => {
    if (done) return;
    if (m.t === 'items') {
      for (const item of m.items) sink.item(item);
      if (paused) owed++;
      else grant(1);
    } else if (m.t === 'end') finish(() => sink.end());
    else finish(() => sink.fail(m.failure));
  });
  worker.on('error', (err) => finish(() => sink.fail({ kind: 'input', message: `the CSV parse thread failed: ${err.message}` })));
  worker.on('exit', (code) => {
    running.delete(worker);
    finish(() => sink.fail({ kind: 'input', message: `the CSV parse thread stopped (exit code ${code}) before the end of the file` }));
  });
  return {
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      if (owed > 0 && !done) grant(owed);
      owed = 0;
    },
    destroy() {
      finish(() => undefined);
    },
  };
}
