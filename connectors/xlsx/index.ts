import { access, constants as fsConstants, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CheckResult, ConnectorContext, RawRecord, SourceConnector, SourcePage } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { HeaderError, SheetRecordBuilder, cellText, mapSheetRecord, resolveHeader, type Cell } from '../../src/mapping/index';
import { XlsxConfigSchema, type XlsxConfig } from './config.schema';

export const XLSX_STREAM = 'time_entries';

// exceljs' streaming reader has loose typings; these are the parts used here.
interface StreamRow {
  number: number;
  values: unknown[] | Record<string, unknown>;
}
interface StreamSheet extends AsyncIterable<StreamRow> {
  name: string;
}
interface StreamWorkbook extends AsyncIterable<StreamSheet> {
  properties?: { model?: { date1904?: boolean } };
  stream?: { destroy?: () => void };
}

/**
 * exceljs is loaded when a workbook is first opened, not with the connector registry: it adds
 * about half a second and 25 MB to every command, most of which never read a workbook.
 */
async function openWorkbook(path: string): Promise<StreamWorkbook> {
  const { default: ExcelJS } = await import('exceljs');
  const Reader = (ExcelJS as unknown as { stream: { xlsx: { WorkbookReader: new (p: string, o: object) => StreamWorkbook } } }).stream.xlsx
    .WorkbookReader;
  // styles: 'cache' is what lets exceljs see which numeric cells are date/time formatted.
  return new Reader(path, { worksheets: 'emit', sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', entries: 'ignore' });
}

/** An exceljs cell value as a plain cell: rich text joined, formula results, hyperlink text, errors as their text (#N/A). */
export function plainCell(v: unknown): Cell {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) return v;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.richText)) return (o.richText as Array<{ text?: string }>).map((r) => r.text ?? '').join('');
    if ('result' in o) return plainCell(o.result);
    if ('formula' in o || 'sharedFormula' in o) return undefined;
    if (typeof o.text === 'string') return o.text;
    if (typeof o.error === 'string') return o.error;
  }
  return String(v);
}

/** exceljs row values are 1-based and sparse; cells are 0-based and dense. */
function rowCells(values: StreamRow['values']): Cell[] {
  if (!Array.isArray(values)) return [];
  const n = values.length - 1;
  const out: Cell[] = new Array(Math.max(n, 0));
  for (let i = 1; i < values.length; i++) out[i - 1] = plainCell(values[i]);
  return out;
}

function filePath(config: XlsxConfig, ctx: ConnectorContext): string {
  return resolve(ctx.configDir, config.path);
}

async function fileProblem(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    if (!s.isFile()) return `${path} is not a file`;
    await access(path, fsConstants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? `file ${path} not found (path is relative to the config file)`
      : `cannot read ${path} (${code ?? (err as Error).message})`;
  }
  return undefined;
}

const label = (config: XlsxConfig) => `xlsx source "${config.id}"`;

/**
 * Walks the workbook's sheets in file order and hands the wanted one's rows to `onRow`; the
 * others are drained (the zip is one stream). Resolves with what was seen.
 */
async function* sheetRows(
  config: XlsxConfig,
  path: string,
): AsyncGenerator<{ row: StreamRow; sheet: string; date1904: boolean }, { names: string[]; found: boolean }> {
  const wb = await openWorkbook(path);
  const names: string[] = [];
  let found = false;
  let complete = false;
  try {
    for await (const ws of wb) {
      names.push(ws.name);
      const wanted = !found && (config.sheet === undefined ? true : ws.name === config.sheet);
      if (!wanted) {
        for await (const _ of ws) void _;
        continue;
      }
      found = true;
      const date1904 = wb.properties?.model?.date1904 === true;
      for await (const row of ws) yield { row, sheet: ws.name, date1904 };
    }
    complete = true;
  } catch (err) {
    if (err instanceof ConnectorError) throw err;
    throw new ConnectorError('permanent', `${label(config)}: ${config.path} is not a readable .xlsx workbook: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    // Stopped early (check reads only the header): release the file.
    if (!complete) wb.stream?.destroy?.();
  }
  return { names, found };
}

function sheetMissing(config: XlsxConfig, names: string[]): ConnectorError {
  return new ConnectorError(
    'config',
    `${label(config)}: ${config.path} has no sheet ${config.sheet === undefined ? '' : `"${config.sheet}" `}(sheets found: ${names.map((n) => `"${n}"`).join(', ') || 'none'})`,
  );
}

async function* readXlsx(config: XlsxConfig, ctx: ConnectorContext): AsyncGenerator<SourcePage> {
  const path = filePath(config, ctx);
  const problem = await fileProblem(path);
  if (problem) throw new ConnectorError('config', `${label(config)}: ${problem}`);
  const fetchedAt = ctx.now.toISOString();
  let builder: SheetRecordBuilder | undefined;
  let page: RawRecord[] = [];
  const rows = sheetRows(config, path);
  let step = await rows.next();
  while (!step.done) {
    const { row, sheet, date1904 } = step.value;
    if (builder) {
      page.push(builder.record(rowCells(row.values), row.number));
      if (page.length >= config.pageSize) {
        yield { stream: XLSX_STREAM, records: page, cursor: null };
        page = [];
      }
    } else if (row.number === config.headerRow) {
      try {
        builder = new SheetRecordBuilder(config, rowCells(row.values), {
          sourceId: config.id,
          file: config.path,
          sheet,
          fetchedAt,
          date1904,
        });
      } catch (err) {
        if (err instanceof HeaderError)
          throw new ConnectorError('config', `${label(config)}: ${config.path} sheet "${sheet}": ${err.message}`);
        throw err;
      }
    } else if (row.number > config.headerRow) {
      throw new ConnectorError(
        'config',
        `${label(config)}: ${config.path} sheet "${sheet}" has no header on row ${config.headerRow} (that row is empty)`,
      );
    }
    step = await rows.next();
  }
  if (!step.value.found) throw sheetMissing(config, step.value.names);
  if (!builder)
    throw new ConnectorError('config', `${label(config)}: ${config.path} has no header row (expected it on row ${config.headerRow})`);
  yield { stream: XLSX_STREAM, records: page, cursor: null, reconcile: { from: null, to: null } };
}

export const xlsxSource: SourceConnector<XlsxConfig> = {
  kind: 'xlsx',
  role: 'source',
  mode: 'snapshot',
  configSchema: XlsxConfigSchema,
  secretFields: [],

  async check(config: XlsxConfig, ctx: ConnectorContext): Promise<CheckResult> {
    const path = filePath(config, ctx);
    const problem = await fileProblem(path);
    if (problem) return { ok: false, category: 'config', message: `${label(config)}: ${problem}` };
    try {
      const rows = sheetRows(config, path);
      let step = await rows.next();
      while (!step.done) {
        const { row, sheet } = step.value;
        if (row.number >= config.headerRow) {
          const header = row.number === config.headerRow ? rowCells(row.values) : [];
          await rows.return({ names: [], found: true });
          try {
            resolveHeader(config, header);
          } catch (err) {
            if (err instanceof HeaderError) {
              return { ok: false, category: 'config', message: `${label(config)}: ${config.path} sheet "${sheet}": ${err.message}` };
            }
            throw err;
          }
          const columns = header.filter((h) => cellText(h) !== '').length;
          return {
            ok: true,
            message: `${label(config)}: ${config.path} sheet "${sheet}" is readable and has every mapped column (${columns} columns)`,
          };
        }
        step = await rows.next();
      }
      if (!step.value.found) {
        const err = sheetMissing(config, step.value.names);
        return { ok: false, category: 'config', message: err.message };
      }
      return {
        ok: false,
        category: 'config',
        message: `${label(config)}: ${config.path} has no header row (expected it on row ${config.headerRow})`,
      };
    } catch (err) {
      if (err instanceof ConnectorError) return { ok: false, category: err.category, message: err.message };
      return { ok: false, category: 'config', message: `${label(config)}: ${config.path} could not be read: ${(err as Error).message}` };
    }
  },

  read(config: XlsxConfig, _options, ctx: ConnectorContext): AsyncIterable<SourcePage> {
    return readXlsx(config, ctx);
  },

  map(record: RawRecord, config: XlsxConfig) {
    // revive: Dates that crossed a process boundary as JSON come back as ISO strings.
    return mapSheetRecord(record, config, config.id, { revive: true });
  },
};
