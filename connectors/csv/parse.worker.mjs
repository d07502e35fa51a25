// @ts-check
import { parentPort, workerData } from 'node:worker_threads';
import { startCsvParse } from './parse.mjs';

/*
 * The worker side of a threaded CSV parse (see parse.thread.ts): runs the shared parse core
 * and posts its items in batches. Each batch spends one credit; the reading thread grants a
 * credit back as it takes a batch, so at most `ahead` batches wait in its heap (unread pages
 * that pile up there outlive young-generation collections and turn into old-generation garbage).
 */

/** @typedef {import('./parse.mjs').CsvItem} CsvItem */
/** @typedef {import('./parse.mjs').ThreadMessage} ThreadMessage */

const { target, batch, ahead } = /** @type {{ target: import('./parse.mjs').CsvTarget; batch: number; ahead: number }} */ (workerData);
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
/** @param {ThreadMessage} m */
const post = (m) => port.postMessage(m);

let credit = ahead;
/** @type {CsvItem[]} */
let items = [];
const flush = () => {
  if (items.length === 0) return;
  post({ t: 'items', items });
  items = [];
  if (--credit <= 0) source.pause();
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
port.on('message', () => {
  if (++credit > 0) source.resume();
});
