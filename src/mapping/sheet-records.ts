import type { MapResult, RawRecord } from '../connectors/contract';
import type { Cell } from './cells';
import type { Mapping } from './mapping.schema';
import { KeySet, rowFingerprint } from './key-set';
import { HeaderError, SheetMapper, type RowMeta } from './sheet-mapper';
import { remember } from '../util/remember';

/**
 * The raw record every spreadsheet-like source emits (`RawRecord.data`). It stays JSON-safe
 * (Dates serialise as ISO strings; `mapSheetRecord` turns them back) so a queue runner can
 * carry it between processes.
 */
export interface SheetRow {
  cells: Cell[];
  /** The header row's cells; the same array for every row of one read. */
  header: readonly Cell[];
  fetchedAt: string;
  date1904?: boolean;
  /** External id computed during the read. */
  key?: string;
  /** Earlier row of the same read with the same external id. */
  duplicateOf?: number;
  /** That earlier row has exactly the same cells: the row was typed (or pasted) twice. */
  duplicateExact?: boolean;
  /** The source line could not be read into cells at all (e.g. an unclosed quote). */
  malformed?: { reason: string; line?: number; text?: string };
}

/**
 * Builds the records of one read: maps each row once, and marks a row whose external id an
 * earlier row already produced as a duplicate (the ledger keeps the first; the second is
 * quarantined naming both rows). Duplicate detection has to happen here, during the read,
 * because only the read sees all rows of a snapshot in order.
 *
 * The mapping result is memoised for `mapSheetRecord` under a symbol key on the record's data
 * (in-process only: JSON and structured clone drop symbol keys, and a WeakMap of a million
 * records makes garbage collection crawl), so the ingest path parses every cell once. A record
 * that crossed a process boundary is simply mapped again: `key` and `duplicateOf` travel with it.
 */
export class SheetRecordBuilder {
  readonly mapper: SheetMapper;
  private readonly seen = new KeySet();
  /** Reused for every row: SheetMapper.map copies what it keeps. */
  private readonly meta: RowMeta;

  /** Throws HeaderError when the header lacks mapped columns. */
  constructor(
    readonly mapping: Mapping,
    readonly header: readonly Cell[],
    readonly opts: { sourceId: string; file?: string; sheet?: string; fetchedAt: string; date1904?: boolean },
  ) {
    this.mapper = mapperFor(mapping, header);
    owners.set(header, { mapping, sourceId: opts.sourceId });
    this.meta = { sourceId: opts.sourceId, row: 0, file: opts.file, sheet: opts.sheet, fetchedAt: opts.fetchedAt, date1904: opts.date1904 };
  }

  record(cells: Cell[], row: number): RawRecord {
    const o = this.opts;
    const meta = this.meta;
    meta.row = row;
    meta.key = undefined;
    meta.duplicateOf = undefined;
    meta.duplicateExact = undefined;
    let result = this.mapper.map(cells, meta);
    const key = result.kind === 'entry' ? result.entry.externalId : result.kind === 'invalid' ? result.externalId : undefined;
    const content = key === undefined ? 0 : rowFingerprint(cells);
    const first = key === undefined ? undefined : this.seen.add(key, row, content);
    let data: SheetRow;
    if (key !== undefined && first === undefined && !o.date1904) {
      // The common row, built in one literal: properties added afterwards would go to an
      // out-of-object property array (one more allocation kept alive per record).
      data = { cells, header: this.header, fetchedAt: o.fetchedAt, key, [MAPPED]: result } as SheetRow;
    } else {
      data = { cells, header: this.header, fetchedAt: o.fetchedAt };
      if (o.date1904) data.date1904 = true;
      if (key !== undefined) {
        data.key = key;
        if (first !== undefined) {
          data.duplicateOf = first;
          meta.key = key;
          meta.duplicateOf = first;
          if (this.seen.contentOf(key) === content) data.duplicateExact = meta.duplicateExact = true;
          result = this.mapper.map(cells, meta);
        }
      }
      (data as SheetRow & { [MAPPED]?: MapResult })[MAPPED] = result;
    }
    return { ref: o.sheet === undefined ? { file: o.file, row } : { file: o.file, sheet: o.sheet, row }, data };
  }

  malformed(row: number, reason: string, line?: number, text?: string): RawRecord {
    const data: SheetRow = { cells: [], header: this.header, fetchedAt: this.opts.fetchedAt, malformed: { reason } };
    if (line !== undefined) data.malformed!.line = line;
    if (text !== undefined) data.malformed!.text = text.length > 500 ? `${text.slice(0, 500)}…` : text;
    const o = this.opts;
    return { ref: o.sheet === undefined ? { file: o.file, row } : { file: o.file, sheet: o.sheet, row }, data };
  }
}

/** In-process memo of the mapping result computed during the read. */
const MAPPED = Symbol('hourbridge.mapped');
/** Which mapping and source a read's header array belongs to (guards the memo). */
const owners = new WeakMap<readonly Cell[], { mapping: Mapping; sourceId: string }>();

// Compiled mappers, per mapping object and header row. The first level is keyed by the
// header array itself (the same reference for every row of a read, so a lookup is one
// WeakMap hit); records that crossed a process boundary fall back to the header's text.
const byHeaderRef = new WeakMap<readonly Cell[], { mapping: Mapping; mapper: SheetMapper }>();
const byHeaderText = new WeakMap<Mapping, Map<string, SheetMapper>>();

/** The compiled mapper of a mapping for a header row (cached). Throws HeaderError. */
export function mapperFor(mapping: Mapping, header: readonly Cell[]): SheetMapper {
  const hit = byHeaderRef.get(header);
  if (hit && hit.mapping === mapping) return hit.mapper;
  let perMapping = byHeaderText.get(mapping);
  if (!perMapping) {
    perMapping = new Map();
    byHeaderText.set(mapping, perMapping);
  }
  const text = JSON.stringify(header);
  let mapper = perMapping.get(text);
  if (!mapper) {
    mapper = remember(perMapping, text, new SheetMapper(mapping, header), 100);
  }
  byHeaderRef.set(header, { mapping, mapper });
  return mapper;
}

/**
 * Map one row given as cells plus its header row. Never throws: a header that lacks mapped
 * columns makes the row invalid with a problem naming them.
 */
export function mapRow(cells: readonly Cell[], header: readonly Cell[], mapping: Mapping, meta: RowMeta): MapResult {
  let mapper: SheetMapper;
  try {
    mapper = mapperFor(mapping, header);
  } catch (err) {
    if (err instanceof HeaderError) return { kind: 'invalid', problems: [{ reason: err.message }] };
    throw err;
  }
  return mapper.map(cells, meta);
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function revive(cells: Cell[]): Cell[] {
  // After JSON transport exceljs Dates arrive as ISO strings; bring them back to Dates so
  // they read as serial dates, not as text in the sheet's date format.
  let out = cells;
  for (let i = 0; i < cells.length; i++) {
    const v = cells[i];
    if (typeof v === 'string' && v.length >= 20 && ISO_INSTANT.test(v)) {
      if (out === cells) out = cells.slice();
      out[i] = new Date(v);
    }
  }
  return out;
}

/** `SourceConnector.map` for spreadsheet-like sources. */
export function mapSheetRecord(record: RawRecord, mapping: Mapping, sourceId: string, opts: { revive?: boolean } = {}): MapResult {
  const data = record.data as SheetRow;
  const owner = owners.get(data.header);
  if (owner !== undefined && owner.mapping === mapping && owner.sourceId === sourceId) {
    const done = (data as SheetRow & { [MAPPED]?: MapResult })[MAPPED];
    if (done !== undefined) return done;
  }
  const row = record.ref.row ?? 0;
  if (data.malformed) {
    const where = data.malformed.line !== undefined ? ` (line ${data.malformed.line} of the file)` : '';
    return { kind: 'invalid', problems: [{ reason: `${data.malformed.reason}${where}`, value: data.malformed.text }] };
  }
  const meta: RowMeta = { sourceId, row, fetchedAt: data.fetchedAt };
  if (record.ref.file !== undefined) meta.file = record.ref.file;
  if (record.ref.sheet !== undefined) meta.sheet = record.ref.sheet;
  if (data.date1904) meta.date1904 = true;
  if (data.key !== undefined) meta.key = data.key;
  if (data.duplicateOf !== undefined) meta.duplicateOf = data.duplicateOf;
  if (data.duplicateExact) meta.duplicateExact = true;
  return mapRow(opts.revive ? revive(data.cells) : data.cells, data.header, mapping, meta);
}
