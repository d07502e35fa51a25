/** Column mapping and value parsing shared by every spreadsheet-like source (CSV, XLSX, Google Sheets). */
export * from './cells';
export * from './mapping.schema';
export {
  compileDateFormat,
  parseDateCell,
  serialDay,
  serialOf,
  serialSeconds,
  isoDateOf,
  epochDayOf,
  DATE1904_OFFSET,
  type DateFormat,
} from './date.parser';
export { parseTimeText, parseTimeCell, formatClock, type TimeFormat, type TimeValue } from './time.parser';
export { parseDurationText, parseDurationCell, parseBreakCell, type DurationNumbers, type BreakUnit } from './duration.parser';
export { parseDecimalText, parseDecimalCell, compileBooleanParser, type DecimalSeparator, type BooleanParser } from './number.parser';
export { ZoneClock } from './zone-clock';
export { SheetMapper, HeaderError, resolveHeader, mappedHeaders, type RowMeta } from './sheet-mapper';
export { SheetRecordBuilder, mapperFor, mapRow, mapSheetRecord, type SheetRow } from './sheet-records';
