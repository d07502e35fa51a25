import type { MapResult, RawRecord } from '../connectors/contract';
import type { Cell } from './cells';
import type { Mapping } from './mapping.schema';
import { HeaderError, SheetMapper, type RowMeta } from './sheet-mapper';

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
  /** The source line could not be read into cells at all (e.g. an unclosed quote). */
  malformed?: { reason: string; line?: number; text?: string };
}

/**
 * Builds the records of one read: computes each row's external id once, and marks a row
 * whose id an earlier row already produced as a duplicate (the ledger keeps the first; the
 * second is quarantined naming both rows). Duplicate detection has to happen here, during
 * the read, because only the read sees all rows of a snapshot in order.
 */
export class SheetRecordBuilder {
  readonly mapper: SheetMapper;
  private readonly seen = new Map<string, number>();
  private readonly base: { file?: string; sheet?: string };

  /** Throws HeaderError when the header lacks mapped columns. */
  constructor(
    readonly mapping: Mapping,
    readonly header: readonly Cell[],
    readonly opts: { file?: string; sheet?: string; fetchedAt: string; date1904?: boolean },
  ) {
    this.mapper = mapperFor(mapping, header);
    this.base = {};
    if (opts.file !== undefined) this.base.file = opts.file;
    if (opts.sheet !== undefined) this.base.sheet = opts.sheet;
  }

  record(cells: Cell[], row: number): RawRecord {
    const data: SheetRow = { cells, header: this.header, fetchedAt: this.opts.fetchedAt };
    if (this.opts.date1904) data.date1904 = true;
    if (this.mapper.skipReason(cells) === undefined) {
      const k = this.mapper.keyOf(cells, this.opts.date1904);
      if (k.ok) {
        data.key = k.value;
        const first = this.seen.get(k.value);
        if (first === undefined) this.seen.set(k.value, row);
        else data.duplicateOf = first;
      }
    }
    return { ref: { ...this.base, row }, data };
  }

  malformed(row: number, reason: string, line?: number, text?: string): RawRecord {
    const data: SheetRow = { cells: [], header: this.header, fetchedAt: this.opts.fetchedAt, malformed: { reason } };
    if (line !== undefined) data.malformed!.line = line;
    if (text !== undefined) data.malformed!.text = text.length > 500 ? `${text.slice(0, 500)}…` : text;
    return { ref: { ...this.base, row }, data };
  }
}

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
  if (!perMapping) byHeaderText.set(mapping, (perMapping = new Map()));
  const text = JSON.stringify(header);
  let mapper = perMapping.get(text);
  if (!mapper) {
    mapper = new SheetMapper(mapping, header);
    if (perMapping.size > 100) perMapping.clear();
    perMapping.set(text, mapper);
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
  return mapRow(opts.revive ? revive(data.cells) : data.cells, data.header, mapping, meta);
}
