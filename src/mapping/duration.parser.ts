import type { Cell, Parsed } from './cells';
import { fail, ok } from './cells';
import { DATE1904_OFFSET } from './date.parser';

/**
 * Durations as whole seconds. Text: `7:30`, `7:30:00`, `7,5` or `7.5` hours (either separator:
 * nobody writes a thousands separator in an hours column). Numeric cells: hours, or a day
 * fraction when the sheet serves durations as serials (Google Sheets: 7:30 → 0.3125). Dates
 * (exceljs reads `[h]:mm` cells as a Date after the serial epoch): the span since that epoch.
 */

export type DurationNumbers = 'hours' | 'days';
export type BreakUnit = 'auto' | 'minutes' | 'hours';

const MS_PER_DAY = 86_400_000;
const EPOCH_1900_MS = Date.UTC(1899, 11, 30);
const EPOCH_1904_MS = EPOCH_1900_MS + DATE1904_OFFSET * MS_PER_DAY;

export function parseDurationText(input: string): Parsed<number> {
  const text = input.trim();
  const expected = `not a duration (expected H:MM, or hours such as 7,5 or 7.5)`;
  if (text.length === 0) return fail(expected);
  if (text.startsWith('-')) return fail('a duration cannot be negative');
  const colon = text.indexOf(':');
  if (colon >= 0) {
    const m = /^(\d+):([0-5]\d)(?::([0-5]\d))?$/.exec(text);
    if (!m) return fail(expected);
    return ok(Number(m[1]) * 3600 + Number(m[2]) * 60 + (m[3] ? Number(m[3]) : 0));
  }
  if (!/^(\d+([.,]\d*)?|[.,]\d+)$/.test(text)) return fail(expected);
  return ok(Math.round(Number(text.replace(',', '.')) * 3600));
}

function spanOfDate(cell: Date, date1904: boolean): Parsed<number> {
  const ms = cell.getTime();
  if (Number.isNaN(ms)) return fail('not a duration');
  const span = ms - (date1904 ? EPOCH_1904_MS : EPOCH_1900_MS);
  // A duration cell that is really a calendar date (years after the epoch) is a mapping mistake.
  if (span < 0 || span > 31 * MS_PER_DAY) return fail('holds a date, not a duration');
  return ok(Math.round(span / 1000));
}

function fromNumber(n: number, numbers: DurationNumbers): Parsed<number> {
  if (!Number.isFinite(n)) return fail('not a duration');
  if (n < 0) return fail('a duration cannot be negative');
  return ok(Math.round(n * (numbers === 'days' ? 86_400 : 3600)));
}

export function parseDurationCell(cell: Cell, numbers: DurationNumbers, date1904: boolean): Parsed<number> {
  if (typeof cell === 'string') return parseDurationText(cell);
  if (typeof cell === 'number') return fromNumber(cell, numbers);
  if (cell instanceof Date) return spanOfDate(cell, date1904);
  return fail('not a duration');
}

/**
 * Breaks. The rule for a bare number (unit `auto`): a whole number is minutes (`30`), a number
 * with a decimal part is hours (`0,5`, `0.75`); `0:30` is hours and minutes. A break of whole
 * hours is therefore written `1:00` or `1,0`. `minutes`/`hours` force the unit of bare numbers.
 */
export function parseBreakCell(cell: Cell, unit: BreakUnit, numbers: DurationNumbers, date1904: boolean): Parsed<number> {
  if (typeof cell === 'string') {
    const text = cell.trim();
    if (text.includes(':')) return parseDurationText(text);
    if (!/^(\d+([.,]\d*)?|[.,]\d+)$/.test(text)) {
      return fail(
        text.startsWith('-') ? 'a break cannot be negative' : 'not a break (expected minutes such as 30, hours such as 0,5, or H:MM)',
      );
    }
    const value = Number(text.replace(',', '.'));
    const whole = /^\d+$/.test(text);
    const asMinutes = unit === 'minutes' || (unit === 'auto' && whole);
    return ok(Math.round(value * (asMinutes ? 60 : 3600)));
  }
  if (typeof cell === 'number') {
    if (!Number.isFinite(cell) || cell < 0) return fail('a break cannot be negative');
    if (unit === 'minutes' || (unit === 'auto' && Number.isInteger(cell))) return ok(Math.round(cell * 60));
    if (unit === 'hours') return ok(Math.round(cell * 3600));
    return fromNumber(cell, numbers);
  }
  if (cell instanceof Date) return spanOfDate(cell, date1904);
  return fail('not a break');
}
