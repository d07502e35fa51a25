import { createReadStream } from 'node:fs';
import { access, constants as fsConstants, open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { parse, type CsvError, type Options as CsvOptions } from 'csv-parse';
import type { CheckResult, ConnectorContext, RawRecord, SourceConnector, SourcePage } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { HeaderError, SheetRecordBuilder, mapSheetRecord, resolveHeader, type Cell } from '../../src/mapping/index';
import { CsvConfigSchema, type CsvConfig } from './config.schema';

export const CSV_STREAM = 'time_entries';

type Delimiter = ',' | ';' | '\t' | '|';

function filePath(config: CsvConfig, ctx: ConnectorContext): string {
  return resolve(ctx.configDir, config.path);
}

/** Decode non-UTF-8 files to text before csv-parse (which reads UTF-8 bytes itself, BOM included). */
function openText(path: string, encoding: CsvConfig['encoding'], end?: number): Readable {
  const bytes = createReadStream(path, end === undefined ? {} : { end });
  if (encoding === 'utf-8') return bytes;
  const decoder = new TextDecoder(encoding);
  const decode = new Transform({
    readableObjectMode: false,
    transform(chunk: Buffer, _enc, cb) {
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
 * The header row's delimiter: the candidate that occurs most often outside quotes in that line.
 * Only the start of the file is read.
 */
export async function sniffDelimiter(path: string, encoding: CsvConfig['encoding'], headerRow: number, quote = '"'): Promise<Delimiter> {
  const fh = await open(path, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    text = new TextDecoder(encoding).decode(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
  const line = text.replace(/^\uFEFF/, '').split(/\r?\n/)[headerRow - 1] ?? '';
  const counts = new Map<Delimiter, number>([
    [';', 0],
    [',', 0],
    ['\t', 0],
    ['|', 0],
  ]);
  let quoted = false;
  for (const ch of line) {
    if (ch === quote) quoted = !quoted;
    else if (!quoted && counts.has(ch as Delimiter)) counts.set(ch as Delimiter, counts.get(ch as Delimiter)! + 1);
  }
  let best: Delimiter = ',';
  let max = 0;
  for (const [d, n] of counts) {
    if (n > max) {
      best = d;
      max = n;
    }
  }
  return best;
}

async function delimiterOf(config: CsvConfig, path: string): Promise<Delimiter> {
  if (config.delimiter === 'auto') return sniffDelimiter(path, config.encoding, config.headerRow, config.quote);
  return config.delimiter === 'tab' ? '\t' : config.delimiter;
}

function parserOptions(config: CsvConfig, delimiter: Delimiter, extra: CsvOptions = {}): CsvOptions {
  return {
    delimiter,
    quote: config.quote,
    bom: true,
    // Rows are ragged in real files (trailing empty cells dropped); the mapper reads missing cells as blank.
    relax_column_count: true,
    // A quote inside an unquoted field (5" screen) is kept as text instead of failing the row.
    relax_quotes: true,
    ...extra,
  };
}

async function readHeader(config: CsvConfig, path: string): Promise<{ header: string[]; delimiter: Delimiter }> {
  const delimiter = await delimiterOf(config, path);
  const parser = openText(path, config.encoding).pipe(parse(parserOptions(config, delimiter, { to: config.headerRow })));
  let header: string[] | undefined;
  let n = 0;
  for await (const rec of parser as AsyncIterable<string[]>) {
    if (++n === config.headerRow) header = rec;
  }
  if (!header) throw new ConnectorError('config', `csv source "${config.id}": ${config.path} has no header row (expected it on row ${config.headerRow})`);
  return { header, delimiter };
}

async function fileProblem(config: CsvConfig, path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    if (!s.isFile()) return `${path} is not a file`;
    await access(path, fsConstants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `file ${path} not found (path is relative to the config file)` : `cannot read ${path} (${code ?? (err as Error).message})`;
  }
  return undefined;
}

interface Skipped {
  /** Records emitted before the bad one: it belongs right after them. */
  after: number;
  line?: number;
  reason: string;
  swallowedRest: boolean;
}

async function* readCsv(config: CsvConfig, ctx: ConnectorContext): AsyncGenerator<SourcePage> {
  const path = filePath(config, ctx);
  const problem = await fileProblem(config, path);
  if (problem) throw new ConnectorError('config', `csv source "${config.id}": ${problem}`);
  const delimiter = await delimiterOf(config, path);
  const fetchedAt = ctx.now.toISOString();

  // csv-parse reports a record it skips (skip_records_with_error) through on_skip, possibly
  // ahead of records still buffered for us; `err.records` (records emitted so far) puts it
  // back in order, so row numbers stay what a person sees in the sheet.
  const skipped: Skipped[] = [];
  const input = openText(path, config.encoding);
  const parser = parse(
    parserOptions(config, delimiter, {
      skip_records_with_error: true,
      on_skip: (err: CsvError | undefined) => {
        if (!err) return;
        const e = err as CsvError & { records?: number; lines?: number };
        skipped.push({
          after: e.records ?? 0,
          line: e.lines,
          reason: `could not be read as CSV: ${err.message}`,
          swallowedRest: err.code === 'CSV_QUOTE_NOT_CLOSED',
        });
      },
    }),
  );

  let emitted = 0;
  let row = 0;
  let builder: SheetRecordBuilder | undefined;
  let page: RawRecord[] = [];
  let malformed = 0;
  const full: RawRecord[][] = [];
  let finished = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const flushSkipped = () => {
    while (skipped.length > 0 && skipped[0]!.after <= emitted) {
      const s = skipped.shift()!;
      row++;
      if (row <= config.headerRow || !builder) continue;
      malformed++;
      const reason = s.swallowedRest
        ? `${s.reason} — a quote opened on row ${row} is never closed, so the rest of the file could not be read`
        : s.reason;
      page.push(builder.malformed(row, reason, s.line));
    }
  };

  // Records are taken from 'data' events and handed out a page at a time (the parser pauses
  // while a full page waits): an async iteration step per record would cost more than the
  // mapping itself on the million-row path.
  parser.on('data', (rec: Cell[]) => {
    try {
      flushSkipped();
      emitted++;
      row++;
      if (builder) {
        page.push(builder.record(rec, row));
        if (page.length >= config.pageSize) {
          full.push(page);
          page = [];
          parser.pause();
          signal();
        }
      } else if (row === config.headerRow) {
        builder = new SheetRecordBuilder(config, rec, { sourceId: config.id, file: config.path, fetchedAt });
      }
    } catch (err) {
      failure =
        err instanceof HeaderError ? new ConnectorError('config', `csv source "${config.id}": ${config.path}: ${err.message}`) : err;
      parser.destroy();
      signal();
    }
  });
  parser.on('end', () => {
    finished = true;
    signal();
  });
  parser.on('error', (err) => {
    failure ??= new ConnectorError('permanent', `csv source "${config.id}": ${config.path} could not be read: ${err.message}`, { cause: err });
    signal();
  });
  input.on('error', (err) => {
    failure ??= new ConnectorError('transient', `csv source "${config.id}": reading ${config.path} failed: ${err.message}`, { cause: err });
    signal();
  });
  input.pipe(parser);

  try {
    for (;;) {
      if (full.length > 0) {
        const records = full.shift()!;
        yield { stream: CSV_STREAM, records, cursor: null };
        if (full.length === 0 && !finished && failure === undefined) parser.resume();
        continue;
      }
      if (failure !== undefined) throw failure;
      if (finished) break;
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  } finally {
    if (!finished) {
      parser.destroy();
      input.destroy();
    }
  }
  emitted = Number.MAX_SAFE_INTEGER;
  flushSkipped();
  if (!builder) throw new ConnectorError('config', `csv source "${config.id}": ${config.path} has no header row (expected it on row ${config.headerRow})`);

  if (malformed > 0) {
    // A record that could not be parsed has no id: reconciling would read its entry as deleted.
    // The snapshot is incomplete, so this read deletes nothing; the malformed rows are quarantined.
    ctx.log.warn({ source: config.id, file: config.path, malformed }, 'csv: malformed records; deletions are not applied until they are fixed');
    yield { stream: CSV_STREAM, records: page, cursor: null };
  } else {
    yield { stream: CSV_STREAM, records: page, cursor: null, reconcile: { from: null, to: null } };
  }
}

export const csvSource: SourceConnector<CsvConfig> = {
  kind: 'csv',
  role: 'source',
  mode: 'snapshot',
  configSchema: CsvConfigSchema,
  secretFields: [],

  async check(config: CsvConfig, ctx: ConnectorContext): Promise<CheckResult> {
    const path = filePath(config, ctx);
    const problem = await fileProblem(config, path);
    if (problem) return { ok: false, category: 'config', message: `csv source "${config.id}": ${problem}` };
    try {
      const { header, delimiter } = await readHeader(config, path);
      resolveHeader(config, header);
      const shown = delimiter === '\t' ? 'tab' : delimiter;
      return { ok: true, message: `csv source "${config.id}": ${config.path} is readable and has every mapped column (delimiter "${shown}", ${header.length} columns)` };
    } catch (err) {
      if (err instanceof HeaderError) return { ok: false, category: 'config', message: `csv source "${config.id}": ${config.path}: ${err.message}` };
      if (err instanceof ConnectorError) return { ok: false, category: err.category, message: err.message };
      return { ok: false, category: 'config', message: `csv source "${config.id}": ${config.path} could not be read: ${(err as Error).message}` };
    }
  },

  read(config: CsvConfig, _options, ctx: ConnectorContext): AsyncIterable<SourcePage> {
    return readCsv(config, ctx);
  },

  map(record: RawRecord, config: CsvConfig) {
    return mapSheetRecord(record, config, config.id);
  },
};
