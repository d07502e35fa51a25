import { access, constants as fsConstants, open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'csv-parse';
import type { CheckResult, ConnectorContext, RawRecord, SourceConnector, SourcePage } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { HeaderError, SheetRecordBuilder, mapSheetRecord, resolveHeader } from '../../src/mapping/index';
import { CsvConfigSchema, type CsvConfig } from './config.schema';
import {
  isSkipped,
  openText,
  parserOptions,
  startCsvParse,
  type CsvItem,
  type CsvItemSource,
  type CsvSink,
  type CsvTarget,
  type Delimiter,
} from './parse.mjs';
import { startCsvParseThread } from './parse.thread';

export const CSV_STREAM = 'time_entries';

/** `parseThread: auto` parses files at least this large on a worker thread (see parse.thread.ts). */
export const PARSE_THREAD_MIN_BYTES = 8 * 1024 * 1024;

function filePath(config: CsvConfig, ctx: ConnectorContext): string {
  return resolve(ctx.configDir, config.path);
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

async function readHeader(config: CsvConfig, path: string): Promise<{ header: string[]; delimiter: Delimiter }> {
  const delimiter = await delimiterOf(config, path);
  const parser = openText(path, config.encoding).pipe(parse(parserOptions({ delimiter, quote: config.quote }, { to: config.headerRow })));
  let header: string[] | undefined;
  let n = 0;
  for await (const rec of parser as AsyncIterable<string[]>) {
    if (++n === config.headerRow) header = rec;
  }
  if (!header)
    throw new ConnectorError(
      'config',
      `csv source "${config.id}": ${config.path} has no header row (expected it on row ${config.headerRow})`,
    );
  return { header, delimiter };
}

/** The file's size, or why it cannot be read. */
async function inspectFile(path: string): Promise<{ problem: string } | { size: number }> {
  try {
    const s = await stat(path);
    if (!s.isFile()) return { problem: `${path} is not a file` };
    await access(path, fsConstants.R_OK);
    return { size: s.size };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      problem:
        code === 'ENOENT'
          ? `file ${path} not found (path is relative to the config file)`
          : `cannot read ${path} (${code ?? (err as Error).message})`,
    };
  }
}

function useThread(config: CsvConfig, size: number): boolean {
  return config.parseThread === 'on' || (config.parseThread === 'auto' && size >= PARSE_THREAD_MIN_BYTES);
}

async function* readCsv(config: CsvConfig, ctx: ConnectorContext): AsyncGenerator<SourcePage> {
  const path = filePath(config, ctx);
  const file = await inspectFile(path);
  if ('problem' in file) throw new ConnectorError('config', `csv source "${config.id}": ${file.problem}`);
  const target: CsvTarget = { path, encoding: config.encoding, delimiter: await delimiterOf(config, path), quote: config.quote };
  const fetchedAt = ctx.now.toISOString();

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

  // Items arrive by callback and are handed out a page at a time (the parse pauses while a full
  // page waits): an async iteration step per record would cost more than the mapping itself on
  // the million-row path.
  const onItem = (item: CsvItem) => {
    if (failure !== undefined) return;
    row++;
    try {
      if (isSkipped(item)) {
        if (row <= config.headerRow || !builder) return;
        malformed++;
        const reason = item.swallowedRest
          ? `${item.reason} — a quote opened on row ${row} is never closed, so the rest of the file could not be read`
          : item.reason;
        page.push(builder.malformed(row, reason, item.line));
      } else if (builder) {
        page.push(builder.record(item, row));
      } else if (row === config.headerRow) {
        builder = new SheetRecordBuilder(config, item, { sourceId: config.id, file: config.path, fetchedAt });
      }
      if (page.length >= config.pageSize) {
        full.push(page);
        page = [];
        source.pause();
        signal();
      }
    } catch (err) {
      failure =
        err instanceof HeaderError ? new ConnectorError('config', `csv source "${config.id}": ${config.path}: ${err.message}`) : err;
      source.destroy();
      signal();
    }
  };
  const sink: CsvSink = {
    item: onItem,
    end() {
      finished = true;
      signal();
    },
    fail(f) {
      failure ??=
        f.kind === 'parse'
          ? new ConnectorError('permanent', `csv source "${config.id}": ${config.path} could not be read: ${f.message}`)
          : new ConnectorError('transient', `csv source "${config.id}": reading ${config.path} failed: ${f.message}`);
      signal();
    },
  };
  // Both sources deliver items from later event-loop turns only, so onItem never runs before
  // `source` is assigned.
  const source: CsvItemSource = useThread(config, file.size) ? startCsvParseThread(target, sink) : startCsvParse(target, sink);

  try {
    for (;;) {
      if (full.length > 0) {
        const records = full.shift()!;
        yield { stream: CSV_STREAM, records, cursor: null };
        if (full.length === 0 && !finished && failure === undefined) source.resume();
        continue;
      }
      if (failure !== undefined) throw failure;
      if (finished) break;
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  } finally {
    if (!finished) source.destroy();
  }
  if (!builder)
    throw new ConnectorError(
      'config',
      `csv source "${config.id}": ${config.path} has no header row (expected it on row ${config.headerRow})`,
    );

  if (malformed > 0) {
    // A record that could not be parsed has no id: reconciling would read its entry as deleted.
    // The snapshot is incomplete, so this read deletes nothing; the malformed rows are quarantined.
    ctx.log.warn(
      { source: config.id, file: config.path, malformed },
      'csv: malformed records; deletions are not applied until they are fixed',
    );
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
    const file = await inspectFile(path);
    if ('problem' in file) return { ok: false, category: 'config', message: `csv source "${config.id}": ${file.problem}` };
    try {
      const { header, delimiter } = await readHeader(config, path);
      resolveHeader(config, header);
      const shown = delimiter === '\t' ? 'tab' : delimiter;
      return {
        ok: true,
        message: `csv source "${config.id}": ${config.path} is readable and has every mapped column (delimiter "${shown}", ${header.length} columns)`,
      };
    } catch (err) {
      if (err instanceof HeaderError)
        return { ok: false, category: 'config', message: `csv source "${config.id}": ${config.path}: ${err.message}` };
      if (err instanceof ConnectorError) return { ok: false, category: err.category, message: err.message };
      return {
        ok: false,
        category: 'config',
        message: `csv source "${config.id}": ${config.path} could not be read: ${(err as Error).message}`,
      };
    }
  },

  read(config: CsvConfig, _options, ctx: ConnectorContext): AsyncIterable<SourcePage> {
    return readCsv(config, ctx);
  },

  map(record: RawRecord, config: CsvConfig) {
    return mapSheetRecord(record, config, config.id);
  },
};
