// @ts-check
import { parentPort, workerData } from 'node:worker_threads';
import { CREDITS_TAKEN, CREDITS_WAITING, startCsvParse } from './parse.mjs';

/*
 * The worker side of a threaded CSV parse (see parse.thread.ts): runs the shared parse core
 * and posts its items in batches. Each batch spends one credit; the reading thread grants a
 * credit back (a shared counter) as it takes a batch, so at most `ahead` batches wait in its
 * heap (unread pages that pile up there outlive young-generation collections and turn into
 * old-generation garbage).
 */

/** @typedef {import('./parse.mjs').CsvItem} CsvItem */
/** @typedef {import('./parse.mjs').ThreadMessage} ThreadMessage */

const { target, batch, ahead, credits } =
  /** @type {{ target: import('./parse.mjs').CsvTarget; batch: number; ahead: number; credits: Int32Array }} */ (workerData);
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
/** @param {ThreadMessage} m */
const post = (m) => port.postMessage(m);

// A pending Atomics.waitAsync does not keep a thread alive; a listening port does.
port.on('message', () => undefined);

let sent = 0;
let waiting = false;
const available = () => ahead - (sent - Atomics.load(credits, CREDITS_TAKEN));
/** Paused for want of credit: wait (without blocking this thread's event loop) until the reader takes a batch. */
const awaitCredit = () => {
  if (waiting) return;
  waiting = true;
  Atomics.store(credits, CREDITS_WAITING, 1);
  const check = () => {
    const taken = Atomics.load(credits, CREDITS_TAKEN);
    if (ahead - (sent - taken) > 0) {
      Atomics.store(credits, CREDITS_WAITING, 0);
      waiting = false;
      source.resume();
      return;
    }
    const w = Atomics.waitAsync(credits, CREDITS_TAKEN, taken);
    if (w.async) void w.value.then(check);
    else check();
  };
  check();
};
/** @type {CsvItem[]} */
let items = [];
const flush = () => {
  if (items.length === 0) return;
  post({ t: 'items', items });
  items = [];
  sent++;
  if (available() <= 0) {
    source.pause();
    awaitCredit();
  }
};
const source = startCsvParse(target, {
  item(item) {
    items.push(item);
    if (items.length >= batch) flush();
  },
  end() {
    flush();
    post({ t: 'end' });
  },
  fail(failure) {
    flush();
    post({ t: 'fail', failure });
  },
});
