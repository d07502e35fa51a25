import { hash } from 'node:crypto';
import type { MapResult, Problem } from '../connectors/contract';
import type { EntryExtra, TimeEntry } from '../domain/time-entry';
import type { Cell, Parsed } from './cells';
import { cellText, isBlank } from './cells';
import { compileDateFormat, isoDateOf, isoInstantOf, parseDateCell, type DateFormat } from './date.parser';
import { parseBreakCell, parseDurationCell } from './duration.parser';
import { DEFAULT_DERIVE, type KeyField, MAPPED_FIELDS, type Mapping, type MappedField } from './mapping.schema';
import { compileBooleanParser, parseDecimalCell, type BooleanParser } from './number.parser';
import { parseTimeCell, formatClock, type TimeValue } from './time.parser';
import { ZoneClock } from './zone-clock';
import { remember } from '../util/remember';

/** Everything about a row that is not in its cells. */
export interface RowMeta {
  /** Configured source id (TimeEntry.sourceId). */
  sourceId: string;
  /** 1-based row as a person sees it in the sheet (header row included in the count). */
  row: number;
  file?: string;
  sheet?: string;
  /** When the source was read (ISO instant). */
  fetchedAt: string;
  /** The workbook counts serials in the 1904 date system. */
  date1904?: boolean;
  /** External id already computed while reading (see SheetRecordBuilder); computed here when absent. */
  key?: string;
  /** Earlier row of the same read with the same external id: this row is a duplicate. */
  duplicateOf?: number;
  /** The earlier row has exactly the same cells (the row was entered twice), not just the same id. */
  duplicateExact?: boolean;
}

/** The mapping refers to headers the sheet does not have. */
export class HeaderError extends Error {
  override readonly name = 'HeaderError';
  constructor(
    readonly missing: string[],
    readonly found: string[],
    readonly duplicated: string[] = [],
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}`);
    if (duplicated.length)
      parts.push(`column${duplicated.length > 1 ? 's' : ''} ${duplicated.map((m) => `"${m}"`).join(', ')} appear more than once`);
    super(`${parts.join('; ')} (headers found: ${found.map((f) => `"${f}"`).join(', ') || 'none'})`);
  }
}

const normHeader = (h: unknown): string =>
  cellText(h as Cell)
    .replace(/\s+/g, ' ')
    .toLowerCase();

/** Every header a mapping refers to, by where it is used. */
export function mappedHeaders(mapping: Mapping): Array<{ use: string; header: string }> {
  const out: Array<{ use: string; header: string }> = [];
  for (const [field, header] of Object.entries(mapping.columns)) {
    if (field === 'extras' || typeof header !== 'string') continue;
    out.push({ use: field, header });
  }
  for (const e of mapping.columns.extras) out.push({ use: `extra ${e.kind}`, header: e.column });
  for (const r of mapping.skipRowsWhere) out.push({ use: 'skipRowsWhere', header: r.column });
  return out;
}

/**
 * Resolve header names to column indexes (trimmed, case- and whitespace-insensitive).
 * Throws HeaderError naming missing or ambiguous columns and listing the headers found.
 */
export function resolveHeader(mapping: Mapping, header: readonly Cell[]): Map<string, number> {
  const index = new Map<string, number>();
  const dup = new Set<string>();
  header.forEach((h, i) => {
    const k = normHeader(h);
    if (k === '') return;
    if (index.has(k)) dup.add(k);
    else index.set(k, i);
  });
  const missing: string[] = [];
  const duplicated: string[] = [];
  const out = new Map<string, number>();
  for (const { header: name } of mappedHeaders(mapping)) {
    const k = normHeader(name);
    const i = index.get(k);
    if (i === undefined) {
      if (!missing.includes(name)) missing.push(name);
    } else if (dup.has(k)) {
      if (!duplicated.includes(name)) duplicated.push(name);
    } else out.set(name, i);
  }
  if (missing.length || duplicated.length) {
    throw new HeaderError(
      missing,
      header.map((h) => cellText(h)).filter((h) => h !== ''),
      duplicated,
    );
  }
  return out;
}

/**
 * Why a row whose id an earlier row already has is quarantined, with the fix that fits: a row
 * entered twice is deleted; two different rows the id cannot tell apart need a wider id.
 */
function duplicateReason(row: number, first: number, exact: boolean, derive: readonly KeyField[] | undefined): string {
  if (exact) return `duplicate: row ${row} repeats row ${first} cell for cell: delete one of the rows (the ledger keeps row ${first})`;
  if (derive) {
    return (
      `duplicate id: rows ${first} and ${row} have the same ${derive.join(', ')} but differ in other cells: if they are the same shift entered twice, delete one; ` +
      'if they are different shifts, add a field that tells them apart to externalId.derive (or map an id column)'
    );
  }
  return `duplicate id: rows ${first} and ${row} have the same id but differ in other cells: give each row its own id (the ledger keeps row ${first})`;
}

function problem(problems: Problem[], cells: readonly Cell[], col: Col, reason: string, field = col.field): void {
  problems.push(col.index >= 0 ? { field, column: col.header, value: cells[col.index], reason } : { field, reason });
}

interface KeyValues {
  /** Text fields already read (by field name); others are read from the cells. */
  texts?: Partial<Record<KeyField, string | undefined>>;
  date?: number;
  start?: TimeValue;
  end?: TimeValue;
  hours?: number;
  break?: number;
}

interface Col {
  field: string;
  header: string;
  index: number;
}

const NO_COL: Col = { field: '', header: '', index: -1 };

function deriveHash(parts: string): string {
  // sha1 is used as a stable fingerprint here, not for security; crypto.hash is the one-shot
  // (fastest) form. 27 base64url characters = 160 bits: collisions are not a practical concern.
  return `d:${hash('sha1', parts, 'base64url')}`;
}

/** Largest number of distinct texts a column memo keeps before it starts over. */
const MEMO_LIMIT = 4096;

/**
 * Per-column memo of parse results for text cells. Timesheet columns repeat a handful of
 * values (dates, quarter hours, "ja"/"nee", break lengths), and the parsers are pure functions
 * of the text, so a Map hit replaces the scan and the result objects it allocates: on the
 * million-row ingest path that garbage is what drives the collector. `null` marks a blank
 * cell. Results are shared between rows and never mutated. Hand-written (a Map with a size
 * cap) because an LRU package would cost more per hit than the parse it saves.
 */
interface Memo<T> {
  /** The first cell that had this text: later cells with the same text are replaced by it. */
  text: string;
  parsed: T;
}

function memoSet<T>(memo: Map<string, Memo<T>>, text: string, parsed: T): Memo<T> {
  return remember(memo, text, { text, parsed }, MEMO_LIMIT);
}

/**
 * The memoised parse of a text cell. On a hit the cell is replaced by the memo's equal text,
 * so the record keeps one shared string instead of its own copy (a page of records is most of
 * what is alive on the ingest path; the replaced copy dies young).
 */
function memoised<T>(memo: Map<string, Memo<T>>, cells: readonly Cell[], index: number, text: string, parse: (text: string) => T): T {
  const m = memo.get(text);
  if (m === undefined) return memoSet(memo, text, parse(text)).parsed;
  (cells as Cell[])[index] = m.text;
  return m.parsed;
}

/**
 * A mapping compiled against one header row: column indexes resolved once, one parser per
 * column, a cached time-zone clock. `map` builds the TimeEntry directly, correct by
 * construction (a test checks it against the zod schema), so the per-row path does no zod
 * parsing and no luxon work outside DST-transition days.
 */
export class SheetMapper {
  private readonly cols: Record<MappedField, Col>;
  private readonly extras: Array<Col & { kind: string; unitPrice?: string; description?: string }>;
  private readonly skipRules: Array<{ col: Col; test: (cell: Cell) => boolean; describe: string }>;
  private readonly dateFormat: DateFormat;
  private readonly bool: BooleanParser;
  private readonly clock: ZoneClock;
  private readonly deriveFields: readonly KeyField[] | undefined;
  private readonly constantTags: string[];
  /** deriveKey's parts, one per derive field plus a trailing '' (reused: map is not re-entrant). */
  private readonly keyParts: string[] = [];
  private readonly timeParts = new Map<number, string>();
  private readonly kv: KeyValues = {
    texts: {
      worker: undefined,
      client: undefined,
      project: undefined,
      task: undefined,
      role: undefined,
      notes: undefined,
      workerId: undefined,
    },
    date: undefined,
    start: undefined,
    end: undefined,
    hours: undefined,
    break: undefined,
  };
  private readonly dateMemo = new Map<string, Memo<Parsed<number> | null>>();
  private readonly timeMemo = new Map<string, Memo<Parsed<TimeValue> | null>>();
  private readonly hoursMemo = new Map<string, Memo<Parsed<number> | null>>();
  private readonly breakMemo = new Map<string, Memo<Parsed<number> | null>>();
  private readonly boolMemo = new Map<string, Memo<Parsed<boolean>>>();
  private readonly decimalMemo = new Map<string, Memo<Parsed<string>>>();
  // Parsers of text cells for the memos (pure functions of the text; date1904 only matters
  // for numbers and Dates, which bypass the memos).
  private readonly parseDateText = (v: string) => (isBlank(v) ? null : parseDateCell(v, this.dateFormat, false));
  private readonly parseTimeText = (v: string) =>
    isBlank(v) ? null : parseTimeCell(v, this.mapping.locale.timeFormat, false, this.dateFormat);
  private readonly parseHoursText = (v: string) => (isBlank(v) ? null : parseDurationCell(v, this.mapping.locale.durationNumbers, false));
  private readonly parseBreakText = (v: string) =>
    isBlank(v) ? null : parseBreakCell(v, this.mapping.locale.breakUnit, this.mapping.locale.durationNumbers, false);
  private readonly parseBoolText = (v: string) => this.bool(v);
  private readonly parseDecimalText = (v: string) => parseDecimalCell(v, this.mapping.locale.decimal);

  constructor(
    readonly mapping: Mapping,
    readonly header: readonly Cell[],
  ) {
    const at = resolveHeader(mapping, header);
    const col = (field: MappedField): Col => {
      const h = mapping.columns[field as keyof Mapping['columns']];
      if (typeof h !== 'string') return NO_COL;
      return { field, header: cellText(header[at.get(h)!]), index: at.get(h)! };
    };
    this.cols = Object.fromEntries(MAPPED_FIELDS.map((f) => [f, col(f)])) as Record<MappedField, Col>;
    this.extras = mapping.columns.extras.map((e) => ({
      field: `extras.${e.kind}`,
      header: cellText(header[at.get(e.column)!]),
      index: at.get(e.column)!,
      kind: e.kind,
      unitPrice: e.unitPrice,
      description: e.description,
    }));
    this.skipRules = mapping.skipRowsWhere.map((r) => {
      const c: Col = { field: '', header: r.column, index: at.get(r.column)! };
      if (r.blank) return { col: c, test: (cell: Cell) => isBlank(cell), describe: `"${r.column}" is blank` };
      if (r.equals !== undefined) {
        const want = r.equals.trim().toLowerCase();
        return { col: c, test: (cell: Cell) => cellText(cell).toLowerCase() === want, describe: `"${r.column}" is "${r.equals}"` };
      }
      const re = new RegExp(r.matches!, 'i');
      return { col: c, test: (cell: Cell) => re.test(cellText(cell)), describe: `"${r.column}" matches /${r.matches}/` };
    });
    this.dateFormat = compileDateFormat(mapping.locale.dateFormat);
    this.bool = compileBooleanParser(mapping.truthy, mapping.falsy);
    this.clock = new ZoneClock(mapping.timeZone);
    if (mapping.columns.externalId === undefined) {
      const wanted = mapping.externalId?.derive ?? DEFAULT_DERIVE;
      this.deriveFields = wanted.filter(
        (f) =>
          mapping.externalId !== undefined ||
          mapping.columns[f as keyof Mapping['columns']] !== undefined ||
          (mapping.constants as Record<string, unknown>)[f] !== undefined,
      );
      this.keyParts = this.deriveFields.map(() => '');
      this.keyParts.push('');
    }
    this.constantTags = mapping.constants.tags ?? [];
  }

  /** The fields a derived id is built from (undefined when an id column is mapped). */
  get derivedFrom(): readonly KeyField[] | undefined {
    return this.deriveFields;
  }

  /** True when every cell is blank (such rows are skipped, never quarantined). */
  isBlankRow(cells: readonly Cell[]): boolean {
    for (let i = 0; i < cells.length; i++) if (!isBlank(cells[i])) return false;
    return true;
  }

  private text(
    field: 'worker' | 'workerId' | 'client' | 'project' | 'task' | 'role' | 'notes',
    cells: readonly Cell[],
  ): string | undefined {
    const c = this.cols[field];
    if (c.index >= 0) {
      const v = cells[c.index];
      if (typeof v === 'string') {
        const t = v.trim();
        if (t.length > 0) return t;
      } else if (!isBlank(v)) return cellText(v);
    }
    return field === 'notes' || field === 'workerId' ? undefined : this.mapping.constants[field];
  }

  // Text cells go through the column memos (their parse does not depend on date1904);
  // numbers and Dates (XLSX, Google Sheets) are parsed directly.
  private readDate(cells: readonly Cell[], date1904: boolean): Parsed<number> | undefined {
    const c = this.cols.date;
    if (c.index < 0) return undefined;
    const v = cells[c.index];
    if (typeof v === 'string') {
      return memoised(this.dateMemo, cells, c.index, v, this.parseDateText) ?? undefined;
    }
    return isBlank(v) ? undefined : parseDateCell(v, this.dateFormat, date1904);
  }

  private readTime(field: 'start' | 'end', cells: readonly Cell[], date1904: boolean): Parsed<TimeValue> | undefined {
    const c = this.cols[field];
    if (c.index < 0) return undefined;
    const v = cells[c.index];
    if (typeof v === 'string') {
      return memoised(this.timeMemo, cells, c.index, v, this.parseTimeText) ?? undefined;
    }
    return isBlank(v) ? undefined : parseTimeCell(v, this.mapping.locale.timeFormat, date1904, this.dateFormat);
  }

  private readHours(cells: readonly Cell[], date1904: boolean): Parsed<number> | undefined {
    const c = this.cols.hours;
    if (c.index < 0) return undefined;
    const v = cells[c.index];
    if (typeof v === 'string') {
      return memoised(this.hoursMemo, cells, c.index, v, this.parseHoursText) ?? undefined;
    }
    return isBlank(v) ? undefined : parseDurationCell(v, this.mapping.locale.durationNumbers, date1904);
  }

  private readBreak(cells: readonly Cell[], date1904: boolean): Parsed<number> | undefined {
    const c = this.cols.break;
    if (c.index < 0) return undefined;
    const v = cells[c.index];
    const l = this.mapping.locale;
    if (typeof v === 'string') {
      return memoised(this.breakMemo, cells, c.index, v, this.parseBreakText) ?? undefined;
    }
    return isBlank(v) ? undefined : parseBreakCell(v, l.breakUnit, l.durationNumbers, date1904);
  }

  /** The boolean parser on cells[index], memoised for text cells. */
  private readBool(cells: readonly Cell[], index: number): Parsed<boolean> {
    const v = cells[index];
    if (typeof v !== 'string') return this.bool(v);
    return memoised(this.boolMemo, cells, index, v, this.parseBoolText);
  }

  /** parseDecimalCell on cells[index], memoised for text cells. */
  private readDecimal(cells: readonly Cell[], index: number): Parsed<string> {
    const v = cells[index];
    if (typeof v !== 'string') return parseDecimalCell(v, this.mapping.locale.decimal);
    return memoised(this.decimalMemo, cells, index, v, this.parseDecimalText);
  }

  /**
   * The row's external id: the id column's text, or a hash of the derive fields' normalised
   * values (dates as ISO, times and durations as seconds, text trimmed and lower-cased, so
   * re-typing 7:30 as 07:30 keeps the id). Fails when a field it needs cannot be read.
   */
  keyOf(cells: readonly Cell[], date1904 = false): Parsed<string> {
    if (!this.deriveFields) return this.idCell(cells);
    const parsed: KeyValues = {};
    for (const f of this.deriveFields) {
      let p: Parsed<unknown> | undefined;
      switch (f) {
        case 'date':
          p = this.readDate(cells, date1904) ?? this.dateFromStart(cells, date1904);
          if (p?.ok) parsed.date = p.value as number;
          break;
        case 'start':
        case 'end':
          p = this.readTime(f, cells, date1904);
          if (p?.ok) parsed[f] = p.value as TimeValue;
          break;
        case 'hours':
        case 'break':
          p = f === 'hours' ? this.readHours(cells, date1904) : this.readBreak(cells, date1904);
          if (p?.ok) parsed[f] = p.value as number;
          break;
        default:
          break;
      }
      if (p && !p.ok) return p as Parsed<string>;
    }
    return { ok: true, value: this.deriveKey(cells, parsed) };
  }

  private idCell(cells: readonly Cell[]): Parsed<string> {
    const v = cells[this.cols.externalId.index];
    if (isBlank(v)) return { ok: false, reason: 'is blank: every row needs an id' };
    return { ok: true, value: cellText(v) };
  }

  /** Hash of the derive fields' normalised values (parsed fields given, text fields read here). */
  private deriveKey(cells: readonly Cell[], v: KeyValues): string {
    // The parts go into one reused array and are joined once: concatenating them one by one
    // made a short-lived string per part and a flat copy for the hash (~0.5 KB per row).
    const fields = this.deriveFields!;
    const parts = this.keyParts;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      let part: string;
      switch (f) {
        case 'date':
          part = v.date === undefined ? '' : isoDateOf(v.date);
          break;
        case 'start':
        case 'end': {
          const t = v[f];
          part = t ? this.timeKeyPart(t) : '';
          break;
        }
        case 'hours':
        case 'break': {
          const n = v[f];
          part = n === undefined ? '' : String(n);
          break;
        }
        default: {
          const t = v.texts && f in v.texts ? v.texts[f] : this.text(f, cells);
          part = t === undefined ? '' : t.toLowerCase();
        }
      }
      parts[i] = part;
    }
    // The last element stays '': every part, the last one included, is followed by \u001f.
    return deriveHash(parts.join('\u001f'));
  }

  /** `${epochDay}T${seconds}` of a time, cached: shifts start and end on a few hundred distinct times. */
  private timeKeyPart(t: TimeValue): string {
    const k = t.epochDay === undefined ? -1 - t.seconds : t.epochDay * 1e6 + t.seconds;
    return this.timeParts.get(k) ?? remember(this.timeParts, k, `${t.epochDay ?? ''}T${t.seconds}`, MEMO_LIMIT);
  }

  private dateFromStart(cells: readonly Cell[], date1904: boolean): Parsed<number> | undefined {
    if (this.cols.date.index >= 0) return undefined;
    const t = this.readTime('start', cells, date1904);
    if (!t?.ok || t.value.epochDay === undefined) return undefined;
    return { ok: true, value: t.value.epochDay };
  }

  /**
   * The instant a shift that starts at `startMs` (local `s` on `epochDay`) ends, from its end
   * cell: the first moment after the start at which the zone's clock shows the end time — the
   * same day when that moment comes after the start (on the autumn night possibly the second
   * occurrence of a repeated time: 02:45 summer time → 02:15 winter time is 1.5 h), else the next
   * day (a night shift). An end the same day later on the wall clock that is not after the
   * start (only possible around the spring gap) stays that day, to be reported. An end that
   * carries its own date (no date column) is taken on that date. Equal times (`equalStartEnd:
   * 24h`) end at that time the next day.
   */
  private endInstant(epochDay: number, s: number, startMs: number, end: TimeValue, endHasDate: boolean): number {
    const clock = this.clock;
    if (end.epochDay !== undefined && endHasDate) {
      const e = end.seconds + (end.epochDay - epochDay) * 86_400;
      const after = clock.instantAfterMs(startMs, epochDay, e);
      return Number.isNaN(after) ? clock.instantMs(epochDay, e) : after;
    }
    const e = end.seconds;
    if (e > s) {
      const after = clock.instantAfterMs(startMs, epochDay, e);
      return Number.isNaN(after) ? clock.instantMs(epochDay, e) : after;
    }
    if (e < s) {
      const sameDay = clock.instantAfterMs(startMs, epochDay, e);
      if (!Number.isNaN(sameDay)) return sameDay;
    }
    // The next day: a night shift (e < s) or, opted in, equal times (e = s).
    const after = clock.instantAfterMs(startMs, epochDay, e + 86_400);
    return Number.isNaN(after) ? clock.instantMs(epochDay, e + 86_400) : after;
  }

  /** " (02:30 does not exist …)" when the start or end falls in the hour the clocks skip. */
  private skippedHint(epochDay: number, s: number, end: TimeValue | undefined): string {
    const at = [s, ...(end && end.epochDay === undefined ? [end.seconds] : [])].find((t) => this.clock.isSkipped(epochDay, t));
    if (at === undefined) return '';
    return ` (${formatClock(at)} does not exist on ${isoDateOf(epochDay)} in ${this.mapping.timeZone}: the clocks skip that hour, so it is read with the offset before the change)`;
  }

  /** Why the row is skipped (blank, or a skipRowsWhere rule), or undefined. */
  skipReason(cells: readonly Cell[]): string | undefined {
    if (this.isBlankRow(cells)) return 'blank row';
    for (const r of this.skipRules) if (r.test(cells[r.col.index])) return `skipRowsWhere: ${r.describe}`;
    return undefined;
  }

  /** Map one row to a TimeEntry, a skip, or the problems that keep it out (all of them, not just the first). */
  map(cells: readonly Cell[], meta: RowMeta): MapResult {
    const skip = this.skipReason(cells);
    if (skip !== undefined) return { kind: 'skip', reason: skip };
    const date1904 = meta.date1904 === true;
    const problems: Problem[] = [];
    const c = this.cols;

    const worker = this.text('worker', cells);
    if (worker === undefined) problem(problems, cells, c.worker, 'is blank: every row needs a worker');
    const client = this.text('client', cells);
    if (client === undefined) problem(problems, cells, c.client, 'is blank: every row needs a client');

    const dateP = this.readDate(cells, date1904);
    const startP = this.readTime('start', cells, date1904);
    const endP = this.readTime('end', cells, date1904);
    const hoursP = this.readHours(cells, date1904);
    const breakP = this.readBreak(cells, date1904);
    if (dateP && !dateP.ok) problem(problems, cells, c.date, dateP.reason);
    if (startP && !startP.ok) problem(problems, cells, c.start, startP.reason);
    if (endP && !endP.ok) problem(problems, cells, c.end, endP.reason);
    if (hoursP && !hoursP.ok) problem(problems, cells, c.hours, hoursP.reason);
    if (breakP && !breakP.ok) problem(problems, cells, c.break, breakP.reason);

    let epochDay: number | undefined = dateP?.ok ? dateP.value : undefined;
    if (epochDay === undefined && c.date.index < 0 && startP?.ok) epochDay = startP.value.epochDay;
    if (epochDay === undefined && !(dateP && !dateP.ok)) {
      problem(
        problems,
        cells,
        c.date.index >= 0 ? c.date : c.start,
        c.date.index >= 0 ? 'is blank: every row needs a date' : 'has no date: map a date column',
        'date',
      );
    }

    const breakSeconds = breakP?.ok ? breakP.value : 0;
    const hoursSeconds = hoursP?.ok ? hoursP.value : undefined;
    const net = this.mapping.hoursAre === 'net';
    let durationSeconds = 0;
    let start: string | undefined;
    let end: string | undefined;

    if (startP?.ok && startP.value.seconds >= 86_400) problem(problems, cells, c.start, 'a shift cannot start at 24:00');
    else if (
      epochDay !== undefined &&
      startP?.ok &&
      endP?.ok &&
      !(endP.value.epochDay !== undefined && c.date.index < 0) &&
      endP.value.seconds === startP.value.seconds &&
      this.mapping.equalStartEnd === 'quarantine'
    ) {
      // 08:00–08:00 is a zero-length or mistyped shift, not silently 24 hours.
      problem(
        problems,
        cells,
        c.end,
        `equals the start (${c.start.header} ${formatClock(startP.value.seconds)}, ${c.end.header} ${formatClock(endP.value.seconds)} on row ${meta.row}): ` +
          'a zero-length or mistyped shift (set equalStartEnd: 24h to read it as a 24-hour shift)',
      );
    } else if (epochDay !== undefined && startP?.ok && (endP?.ok || (endP === undefined && hoursSeconds !== undefined))) {
      const s = startP.value.seconds;
      const startMs = this.clock.instantMs(epochDay, s);
      let endMs: number;
      if (endP?.ok) {
        endMs = this.endInstant(epochDay, s, startMs, endP.value, c.date.index < 0);
      } else {
        endMs = startMs + (hoursSeconds! + (net ? breakSeconds : 0)) * 1000;
      }
      durationSeconds = Math.round((endMs - startMs) / 1000);
      if (durationSeconds <= 0) {
        problem(
          problems,
          cells,
          c.end,
          `ends before or when the shift starts${this.skippedHint(epochDay, s, endP?.ok ? endP.value : undefined)}`,
        );
      } else if (endMs > this.clock.instantMs(epochDay, s + 86_400)) {
        // Longer than a day on the wall clock (the same time the next day is 23 or 25 hours
        // away on the nights of the DST changes).
        problem(problems, cells, c.end, 'makes the shift longer than 24 hours');
      } else {
        start = isoInstantOf(startMs);
        end = isoInstantOf(endMs);
        if (endP?.ok && hoursSeconds !== undefined) {
          const expected = net ? durationSeconds - breakSeconds : durationSeconds;
          if (Math.abs(hoursSeconds - expected) > 60) {
            problem(
              problems,
              cells,
              c.hours,
              `${formatClock(hoursSeconds)} disagrees with start–end ${formatClock(durationSeconds)}` +
                (net && breakSeconds ? ` minus the ${formatClock(breakSeconds)} break = ${formatClock(expected)}` : '') +
                ` (hours are read as ${net ? 'net of' : 'including'} the break; see hoursAre)`,
            );
          }
        }
      }
    } else if (hoursSeconds !== undefined) {
      durationSeconds = hoursSeconds + (net ? breakSeconds : 0);
      if (durationSeconds > 86_400) problem(problems, cells, c.hours, 'is more than 24 hours for one row');
    } else if (epochDay === undefined && startP?.ok && endP?.ok) {
      // Start and end are fine; the missing or bad date is already reported.
    } else if (!(hoursP && !hoursP.ok) && !(startP && !startP.ok) && !(endP && !endP.ok)) {
      if (startP?.ok && c.end.index >= 0) problem(problems, cells, c.end, 'is blank: a row with a start needs an end or hours');
      else if (c.hours.index >= 0)
        problem(
          problems,
          cells,
          c.hours,
          c.start.index >= 0 ? 'is blank, and so is the start: no hours to bill' : 'is blank: every row needs hours',
        );
      else problem(problems, cells, c.start, 'is blank: every row needs a start and an end');
    }
    if (problems.length === 0 && breakSeconds > durationSeconds) problem(problems, cells, c.break, 'is longer than the shift');

    let approved: boolean | null = this.mapping.constants.approved ?? null;
    if (c.approved.index >= 0) {
      const v = cells[c.approved.index];
      if (isBlank(v)) approved = this.mapping.constants.approved ?? false;
      else {
        const b = this.readBool(cells, c.approved.index);
        if (b.ok) approved = b.value;
        else problem(problems, cells, c.approved, b.reason);
      }
    }
    let billable = this.mapping.constants.billable ?? true;
    if (c.billable.index >= 0) {
      const v = cells[c.billable.index];
      if (isBlank(v)) billable = this.mapping.constants.billable ?? false;
      else {
        const b = this.readBool(cells, c.billable.index);
        if (b.ok) billable = b.value;
        else problem(problems, cells, c.billable, b.reason);
      }
    }

    let sourceRate: string | undefined;
    if (c.sourceRate.index >= 0 && !isBlank(cells[c.sourceRate.index])) {
      const r = this.readDecimal(cells, c.sourceRate.index);
      if (r.ok && !r.value.startsWith('-')) sourceRate = r.value;
      else problem(problems, cells, c.sourceRate, r.ok ? 'a rate cannot be negative' : r.reason);
    }
    let costRate: string | undefined;
    if (c.costRate.index >= 0 && !isBlank(cells[c.costRate.index])) {
      const r = this.readDecimal(cells, c.costRate.index);
      if (r.ok && !r.value.startsWith('-')) costRate = r.value;
      else problem(problems, cells, c.costRate, r.ok ? 'a rate cannot be negative' : r.reason);
    }
    const extras: EntryExtra[] = [];
    for (const x of this.extras) {
      const v = cells[x.index];
      if (isBlank(v)) continue;
      const q = this.readDecimal(cells, x.index);
      if (!q.ok) problem(problems, cells, x, q.reason);
      else if (q.value.startsWith('-')) problem(problems, cells, x, 'a quantity cannot be negative');
      else if (!/^0+(\.0+)?$/.test(q.value)) {
        extras.push({ kind: x.kind, quantity: q.value, unitPrice: x.unitPrice, description: x.description });
      }
    }

    let tags = this.constantTags;
    if (c.tags.index >= 0 && !isBlank(cells[c.tags.index])) {
      tags = cellText(cells[c.tags.index])
        .split(/[,;|]/)
        .map((t) => t.trim())
        .filter((t) => t.length > 0);
      for (const t of this.constantTags) if (!tags.includes(t)) tags.push(t);
    } else if (tags.length) tags = [...tags];

    const project = this.text('project', cells);
    const task = this.text('task', cells);
    const role = this.text('role', cells);
    const notes = this.text('notes', cells);
    const workerId = this.text('workerId', cells);
    let externalId = meta.key;
    if (externalId === undefined) {
      if (!this.deriveFields) {
        const k = this.idCell(cells);
        if (k.ok) externalId = k.value;
        else problem(problems, cells, c.externalId, k.reason);
      } else if (
        !(dateP && !dateP.ok) &&
        !(startP && !startP.ok) &&
        !(endP && !endP.ok) &&
        !(hoursP && !hoursP.ok) &&
        !(breakP && !breakP.ok)
      ) {
        // A derived id fails only when one of its fields does, which is reported above.
        // One scratch object per mapper instead of two literals per row.
        const kv = this.kv;
        const texts = kv.texts!;
        texts.worker = worker;
        texts.client = client;
        texts.project = project;
        texts.task = task;
        texts.role = role;
        texts.notes = notes;
        texts.workerId = workerId;
        kv.date = epochDay;
        kv.start = startP?.value;
        kv.end = endP?.value;
        kv.hours = hoursP?.value;
        kv.break = breakP?.value;
        externalId = this.deriveKey(cells, kv);
      }
    }
    if (meta.duplicateOf !== undefined) {
      problems.push({
        field: 'externalId',
        column: c.externalId.index >= 0 ? c.externalId.header : undefined,
        value: c.externalId.index >= 0 ? cells[c.externalId.index] : externalId,
        reason: duplicateReason(meta.row, meta.duplicateOf, meta.duplicateExact === true, this.deriveFields),
      });
      return { kind: 'invalid', problems };
    }

    if (problems.length > 0 || worker === undefined || client === undefined || epochDay === undefined || externalId === undefined) {
      return externalId === undefined ? { kind: 'invalid', problems } : { kind: 'invalid', problems, externalId };
    }

    const entry: TimeEntry = {
      sourceId: meta.sourceId,
      externalId,
      worker: { id: workerId, name: worker },
      client,
      clientId: undefined,
      project,
      task,
      role,
      tags,
      date: isoDateOf(epochDay),
      start,
      end,
      durationSeconds,
      breakSeconds,
      timeZone: this.mapping.timeZone,
      billable,
      approved,
      billedAtSource: false,
      notes,
      sourceRate,
      sourceCurrency: this.mapping.constants.sourceCurrency,
      costRate,
      extras,
      provenance: { file: meta.file, sheet: meta.sheet, row: meta.row, apiId: undefined, url: undefined, fetchedAt: meta.fetchedAt },
    };
    return { kind: 'entry', entry };
  }
}
