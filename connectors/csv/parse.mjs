// @ts-check
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { parse } from 'csv-parse';

/*
 * The CSV parsing core: a file → an ordered stream of items (a record's cells, or a record
 * csv-parse had to skip), with pause/resume. The connector runs it on its own thread for small
 * files and in a worker thread for large ones (parse.thread.ts); both paths share this code so
 * they cannot disagree on a single row.
 *
 * JavaScript with JSDoc types (checked by tsc: allowJs + checkJs, strict) rather than
 * TypeScript because the worker thread loads it directly: registering the TypeScript loader in
 * a worker costs ~0.3 s per thread, about what parsing 100,000 rows saves.
 */

/** Slots of a parse thread's shared credit counter (see parse.thread.ts). */
export const CREDITS_TAKEN = 0;
export const CREDITS_WAITING = 1;

/** @typedef {',' | ';' | '\t' | '|'} Delimiter */
/** @typedef {'utf-8' | 'utf-16le' | 'latin1' | 'windows-1252'} CsvEncoding */

/**
 * What to parse: plain data, so it can be handed to a worker thread.
 * @typedef {{ path: string; encoding: CsvEncoding; delimiter: Delimiter; quote: string }} CsvTarget
 */

/**
 * A record csv-parse could not read, in the position it had in the file. `line`: where
 * csv-parse gave up on it; `swallowedRest`: an unclosed quote took everything after it.
 * @typedef {{ skipped: true; line?: number; reason: string; swallowedRest: boolean }} SkippedRecord
 */

/**
 * One record of the file, in file order (header and title rows included).
 * @typedef {string[] | SkippedRecord} CsvItem
 */

/**
 * Why parsing stopped: csv-parse rejected the file ('parse') or reading it failed ('input').
 * @typedef {{ kind: 'parse' | 'input'; message: string }} CsvFailure
 */

/** @typedef {{ item(item: CsvItem): void; end(): void; fail(failure: CsvFailure): void }} CsvSink */

/**
 * What a parse thread posts (parse.worker.mjs → parse.thread.ts).
 * @typedef {{ t: 'items'; items: CsvItem[] } | { t: 'end' } | { t: 'fail'; failure: CsvFailure }} ThreadMessage
 */

/**
 * A running parse. pause() may let a few more items through (what csv-parse already holds).
 * @typedef {{ pause(): void; resume(): void; destroy(): void }} CsvItemSource
 */

/**
 * @param {CsvItem} item
 * @returns {item is SkippedRecord}
 */
export function isSkipped(item) {
  return !Array.isArray(item);
}

/**
 * Decode non-UTF-8 files to text before csv-parse (which reads UTF-8 bytes itself, BOM included).
 * @param {string} path
 * @param {CsvEncoding} encoding
 * @param {number} [end]
 * @returns {import('node:stream').Readable}
 */
export function openText(path, encoding, end) {
  const bytes = createReadStream(path, end === undefined ? {} : { end });
  if (encoding === 'utf-8') return bytes;
  const decoder = new TextDecoder(encoding);
  const decode = new Transform({
    readableObjectMode: false,
    transform(chunk, _enc, cb) {
      cb(null, decoder.decode(chunk, { stream: true }));
    },
    flush(cb) {
      cb(null, decoder.decode());
    },
  });
  bytes.on('error', (err) => decode.destroy(err));
  return bytes.pipe(decode);
}

/**
 * @param {{ delimiter: Delimiter; quote: string }} target
 * @param {import('csv-parse').Options} [extra]
 * @returns {import('csv-parse').Options}
 */
export function parserOptions(target, extra = {}) {
  return {
    delimiter: target.delimiter,
    quote: target.quote,
    bom: true,
    // Rows are ragged in real files (trailing empty cells dropped); the mapper reads missing cells as blank.
    relax_column_count: true,
    // A quote inside an unquoted field (5" screen) is kept as text instead of failing the row.
    relax_quotes: true,
    ...extra,
  };
}

/**
 * Parse `target` into `sink`, in this thread. Records csv-parse skips are reported through
 * on_skip, possibly ahead of records it still buffers; `err.records` (records emitted so far)
 * puts each back in its place, so row numbers stay what a person sees in the sheet.
 * @param {CsvTarget} target
 * @param {CsvSink} sink
 * @returns {CsvItemSource}
 */
export function startCsvParse(target, sink) {
  /** @type {Array<SkippedRecord & { after: number }>} */
  const skipped = [];
  let emitted = 0;
  let done = false;
  /** @param {CsvFailure} failure */
  const fail = (failure) => {
    if (done) return;
    done = true;
    sink.fail(failure);
  };
  const input = openText(target.path, target.encoding);
  const parser = parse(
    parserOptions(target, {
      skip_records_with_error: true,
      on_skip: (err) => {
        if (!err) return;
        const e = /** @type {import('csv-parse').CsvError & { records?: number; lines?: number }} */ (err);
        skipped.push({
          skipped: true,
          after: e.records ?? 0,
          line: e.lines,
          reason: `could not be read as CSV: ${err.message}`,
          swallowedRest: err.code === 'CSV_QUOTE_NOT_CLOSED',
        });
      },
    }),
  );
  /** @param {number} upTo */
  const flushSkipped = (upTo) => {
    while (skipped.length > 0 && /** @type {SkippedRecord & { after: number }} */ (skipped[0]).after <= upTo) {
      const { after: _after, ...s } = /** @type {SkippedRecord & { after: number }} */ (skipped.shift());
      sink.item(s);
    }
  };
  parser.on('data', (/** @type {string[]} */ rec) => {
    if (done) return;
    if (skipped.length > 0) flushSkipped(emitted);
    emitted++;
    sink.item(rec);
  });
  parser.on('end', () => {
    if (done) return;
    flushSkipped(Number.MAX_SAFE_INTEGER);
    done = true;
    sink.end();
  });
  parser.on('error', (err) => fail({ kind: 'parse', message: err.message }));
  input.on('error', (err) => fail({ kind: 'input', message: err.message }));
  input.pipe(parser);
  return {
    pause: () => parser.pause(),
    resume: () => {
      if (!done) parser.resume();
    },
    destroy: () => {
      done = true;
      parser.destroy();
      input.destroy();
    },
  };
}
