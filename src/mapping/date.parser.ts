import type { Cell, Parsed } from './cells';
import { fail, ok } from './cells';
import { remember } from '../util/remember';

/**
 * Local calendar dates as "epoch days" (days since 1970-01-01): plain integers, so the hot path
 * does arithmetic (next day, serial offsets) without allocating Date or luxon objects.
 *
 * Hand-written rather than luxon's `DateTime.fromFormat`: that costs microseconds per call and
 * the ingest path reads a million rows; the formats a timesheet uses are three numbers and a
 * separator, which a small scanner reads exactly.
 */

const MS_PER_DAY = 86_400_000;

/** Serial of 1970-01-01 in Excel's 1900 date system (and in Google Sheets). */
const SERIAL_1970 = 25_569;
/** The 1904 date system counts from 1904-01-01 = serial 0, which is serial 1462 in the 1900 system. */
export const DATE1904_OFFSET = 1_462;

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil; no allocation). */
export function epochDayOf(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return MONTH_DAYS[month - 1]!;
}

const isoCache = new Map<number, string>();

/** yyyy-MM-dd of an epoch day (cached: a sheet has a few thousand distinct dates at most). */
export function isoDateOf(epochDay: number): string {
  return isoCache.get(epochDay) ?? remember(isoCache, epochDay, new Date(epochDay * MS_PER_DAY).toISOString().slice(0, 10), 50_000);
}

const instantCache = new Map<number, string>();

/**
 * `new Date(ms).toISOString()`, cached for whole minutes: the ingest path writes two instants
 * per row, and shifts start and end on quarter hours. A cached string is shared by every entry
 * that has it, and `toISOString` builds it flat (~40 bytes) where a concatenation would keep a
 * tree of ~7 string objects alive. Keyed by minute (a small integer, which a Map hashes much
 * faster than a millisecond timestamp); 100,000 minutes hold a couple of years of quarter hours.
 */
export function isoInstantOf(ms: number): string {
  if (ms % 60_000 !== 0) return new Date(ms).toISOString();
  const minute = ms / 60_000;
  return instantCache.get(minute) ?? remember(instantCache, minute, new Date(ms).toISOString(), 100_000);
}

export function ymdOf(epochDay: number): { year: number; month: number; day: number } {
  const d = new Date(epochDay * MS_PER_DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/**
 * The day part of a spreadsheet serial number as an epoch day.
 * 1900 system (Excel default, also Google Sheets from 1900-03-01 on): serial 1 = 1900-01-01,
 * and serial 60 is the fictitious 1900-02-29 Excel keeps for Lotus 1-2-3 compatibility, so
 * serials 1–59 are one day off from a plain count from 1899-12-30.
 * 1904 system (old Mac workbooks): serial 0 = 1904-01-01.
 */
export function serialDay(serial: number, date1904 = false): Parsed<number> {
  if (!Number.isFinite(serial)) return fail('not a date serial number');
  const whole = Math.floor(serial);
  if (date1904) {
    if (whole < 0) return fail(`serial ${serial} is before 1904-01-01 (1904 date system)`);
    return ok(whole + DATE1904_OFFSET - SERIAL_1970);
  }
  if (whole < 1) return fail(`serial ${serial} is not a date (day 0 is 1900-01-00)`);
  if (whole === 60) return fail('serial 60 is 1900-02-29, a date that does not exist (Excel 1900 leap-year bug)');
  return ok(whole < 60 ? whole - SERIAL_1970 + 1 : whole - SERIAL_1970);
}

/** The serial number of an epoch day (inverse of `serialDay` for whole serials). */
export function serialOf(epochDay: number, date1904 = false): number {
  if (date1904) return epochDay + SERIAL_1970 - DATE1904_OFFSET;
  const s = epochDay + SERIAL_1970;
  return s <= 60 ? s - 1 : s;
}

/** Seconds since midnight of a serial's fraction, rounded to the second (may be 86400). */
export function serialSeconds(serial: number): number {
  return Math.round((serial - Math.floor(serial)) * 86_400);
}

type Part = 'd' | 'M' | 'y';

export interface DateFormat {
  readonly format: string;
  /** Parse a date written as text; the reason names the expected format. */
  parse(text: string): Parsed<number>;
  /** Write an epoch day in this format (tests and messages). */
  format_(epochDay: number): string;
}

const TRAILING_MIDNIGHT = /^[ T]0?0:00(:00(\.0+)?)?Z?$/;

/** Compile a format such as `dd-MM-yyyy`, `d/M/yyyy` or `yyyy-MM-dd` into a parser. */
export function compileDateFormat(format: string): DateFormat {
  const m = /^([dMy]+)([-/. ])([dMy]+)\2([dMy]+)$/.exec(format);
  if (!m) throw new Error(`unsupported date format "${format}"`);
  const tokens = [m[1]!, m[3]!, m[4]!];
  const order = tokens.map((t) => t[0] as Part);
  if (new Set(order).size !== 3) throw new Error(`date format "${format}" needs a day, a month and a year`);
  const sep = m[2]!.charCodeAt(0);
  const yi = order.indexOf('y');
  const mi = order.indexOf('M');
  const di = order.indexOf('d');
  const yearDigits = tokens[yi]!.length;
  const expected = `not a valid date (expected ${format})`;
  const nums = [0, 0, 0];
  const lens = [0, 0, 0];

  const parse = (text: string): Parsed<number> => {
    const n = text.length;
    let i = 0;
    while (i < n && text.charCodeAt(i) === 32) i++;
    for (let p = 0; p < 3; p++) {
      const start = i;
      let v = 0;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c < 48 || c > 57) break;
        v = v * 10 + (c - 48);
        i++;
      }
      const len = i - start;
      if (len === 0 || len > 4) return fail(expected);
      nums[p] = v;
      lens[p] = len;
      if (p < 2) {
        if (text.charCodeAt(i) !== sep) return fail(expected);
        i++;
      }
    }
    if (i < n) {
      const rest = text.slice(i).trimEnd();
      if (rest.length > 0 && !TRAILING_MIDNIGHT.test(rest)) return fail(expected);
    }
    if (lens[yi] !== yearDigits || lens[mi]! > 2 || lens[di]! > 2) return fail(expected);
    const year = yearDigits === 2 ? 2000 + nums[yi]! : nums[yi]!;
    const month = nums[mi]!;
    const day = nums[di]!;
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month))
      return fail(noSuchDate(text.trim(), format, year, month, day));
    return ok(epochDayOf(year, month, day));
  };

  const format_ = (epochDay: number): string => {
    const { year, month, day } = ymdOf(epochDay);
    const val: Record<Part, string> = {
      y: yearDigits === 2 ? String(year % 100).padStart(2, '0') : String(year).padStart(4, '0'),
      M: String(month).padStart(tokens[mi]!.length, '0'),
      d: String(day).padStart(tokens[di]!.length, '0'),
    };
    return order.map((p) => val[p]).join(String.fromCharCode(sep));
  };

  return { format, parse, format_ };
}

const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * The reason for a date written in the right format that no calendar has (31-11-2026,
 * 29-02-2025, 03-13-2026): saying "expected dd-MM-yyyy" of a value that has that form sends a
 * person looking for the wrong mistake.
 */
function noSuchDate(text: string, format: string, year: number, month: number, day: number): string {
  const why =
    month < 1 || month > 12
      ? `there is no month ${month}`
      : day < 1
        ? 'there is no day 0'
        : `${MONTH_NAMES[month - 1]} ${year} has ${daysInMonth(year, month)} days`;
  return `no such date: ${text} (read as ${format}: ${why})`;
}

/** exceljs gives time-only cells as Dates on the serial epoch: these carry no calendar date. */
export function isPlaceholderDay(epochDay: number, date1904: boolean): boolean {
  return epochDay === -25_569 || epochDay === -25_568 || (date1904 && epochDay === DATE1904_OFFSET - SERIAL_1970);
}

/**
 * A date cell: text in the sheet's format, a serial number, or a Date from exceljs (whose UTC
 * fields are the wall-clock value the sheet shows).
 */
export function parseDateCell(cell: Cell, format: DateFormat, date1904: boolean): Parsed<number> {
  if (typeof cell === 'string') return format.parse(cell);
  if (typeof cell === 'number') return serialDay(cell, date1904);
  if (cell instanceof Date) {
    const ms = cell.getTime();
    if (Number.isNaN(ms)) return fail('not a valid date');
    const day = Math.floor(ms / MS_PER_DAY);
    if (isPlaceholderDay(day, date1904)) return fail('holds a time of day, not a date');
    return ok(day);
  }
  return fail(`not a valid date (expected ${format.format})`);
}
