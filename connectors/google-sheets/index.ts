import type { CheckResult, ConnectorContext, RawRecord, ReadOptions, SourceConnector, SourcePage } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { asConnectorError, checkWith } from '../../src/http/client';
import { HeaderError, SheetRecordBuilder, mapSheetRecord, type Cell } from '../../src/mapping/index';
import { GoogleSheetsConfigSchema, type GoogleSheetsConfig } from './config.schema';
import { driveFileVersion, sheetsApi } from './client';

export const SHEETS_STREAM = 'time_entries';

/** A1 range of the tab, quoted as the API wants (tab names with spaces or quotes). */
export function a1Range(config: Pick<GoogleSheetsConfig, 'sheet' | 'range'>): string {
  const tab = `'${config.sheet.replace(/'/g, "''")}'`;
  return config.range ? `${tab}!${config.range}` : tab;
}

/** First row number of the range the API answered with ("'Uren'!A1:K120" → 1), default 1. */
export function firstRowOf(answered: string | undefined): number {
  const m = /!\$?[A-Za-z]*\$?(\d+)/.exec(answered ?? '');
  return m ? Number(m[1]) : 1;
}

/**
 * One batchGet of the whole range per read (a snapshot: the last page reconciles everything).
 * Values come unformatted with dates, times and durations as serial numbers, which the shared
 * sheet mapping reads (days since 1899-12-30, fraction = time of day).
 */
async function* readSheets(config: GoogleSheetsConfig, _options: ReadOptions, ctx: ConnectorContext): AsyncIterable<SourcePage> {
  const who = `google-sheets (${config.id})`;
  try {
    const api = await sheetsApi(config, ctx);
    const res = await api.batchGet([a1Range(config)]);
    const vr = res.valueRanges?.[0];
    const rows = (vr?.values ?? []) as Cell[][];
    const first = firstRowOf(vr?.range);
    const headerIndex = config.headerRow - first;
    const header = rows[headerIndex];
    if (!header || header.length === 0) {
      throw new ConnectorError('config', `${who}: tab "${config.sheet}" has no header row on row ${config.headerRow}.`, { connector: who });
    }
    let builder: SheetRecordBuilder;
    try {
      builder = new SheetRecordBuilder(config, header, {
        sourceId: config.id,
        file: config.spreadsheetId,
        sheet: config.sheet,
        fetchedAt: ctx.now.toISOString(),
      });
    } catch (err) {
      if (err instanceof HeaderError)
        throw new ConnectorError('config', `${who}: tab "${config.sheet}": ${err.message}`, { connector: who });
      throw err;
    }
    let page: RawRecord[] = [];
    for (let i = headerIndex + 1; i < rows.length; i++) {
      // Ragged rows: missing trailing cells read as blank; an omitted row is an empty array.
      page.push(builder.record(rows[i] ?? [], first + i));
      if (page.length >= config.pageSize) {
        yield { stream: SHEETS_STREAM, records: page, cursor: null };
        page = [];
      }
    }
    yield { stream: SHEETS_STREAM, records: page, cursor: null, reconcile: { from: null, to: null } };
  } catch (err) {
    throw asConnectorError(who, err, [config.credentialsJson]);
  }
}

async function checkSheets(config: GoogleSheetsConfig, ctx: ConnectorContext): Promise<CheckResult> {
  return checkWith(`google-sheets (${config.id})`, [config.credentialsJson], async () => {
    const p = await (await sheetsApi(config, ctx)).properties();
    return `can read "${p.title ?? config.spreadsheetId}" (locale ${p.locale ?? 'unknown'}, time zone ${p.timeZone ?? 'unknown'}).`;
  });
}

export const googleSheetsSource: SourceConnector<GoogleSheetsConfig> = {
  kind: 'google-sheets',
  role: 'source',
  mode: 'snapshot',
  configSchema: GoogleSheetsConfigSchema,
  secretFields: ['credentialsJson'],
  check: checkSheets,
  read: readSheets,
  // The file's Drive version is looked at before any read: an unchanged sheet is not read at all.
  async pollChange(config, previous, ctx) {
    const token = await driveFileVersion(config, ctx).catch((err: unknown) => {
      throw asConnectorError(`google-sheets (${config.id})`, err, [config.credentialsJson]);
    });
    return { changed: token !== previous, token };
  },
  map: (record, config) => mapSheetRecord(record, config, config.id),
};

export default googleSheetsSource;
export { GoogleSheetsConfigSchema } from './config.schema';
export type { GoogleSheetsConfig } from './config.schema';
