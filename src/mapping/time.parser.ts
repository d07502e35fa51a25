import type { Cell, Parsed } from './cells';
import { fail, ok } from './cells';
import { isPlaceholderDay, serialDay, serialSeconds, type DateFormat } from './date.parser';

/**
 * Times of day as seconds since local midnight. Hand-written scanner (see date.parser.ts for
 * why): reads `7:30`, `07:30:00`, `15.30`, `3:00pm`, `3 PM`, `11:15 a.m.`; `24:00` is the end
 * of the day (86400).
 */

export type TimeFormat = 'auto' | '24h' | '12h';

function digitsAt(text: string, i: number, max: number): [value: number, len: number] {
  let v = 0;
  let len = 0;
  while (len < max && i + len < text.length) {
    const c = text.charCodeAt(i + len);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    len++;
  }
  return [v, len];
}

export function parseTimeText(input: string, format: TimeFormat = 'auto'): Parsed<number> {
  const text = input.trim();
  const expected = `not a valid time of day (expected ${format === '12h' ? 'h:mm am/pm' : format === '24h' ? 'HH:mm' : 'HH:mm or h:mm am/pm'})`;
  const n = text.length;
  let [hour, len] = digitsAt(text, 0, 2);
  if (len === 0) return fail(expected);
  let i = len;
  let minute = 0;
  let second = 0;
  let hasMinutes = false;
  const sepCode = text.charCodeAt(i);
  if (sepCode === 58 /* : */ || sepCode === 46 /* . */) {
    const [mm, ml] = digitsAt(text, i + 1, 2);
    if (ml !== 2) return fail(expected);
    minute = mm;
    hasMinutes = true;
    i += 3;
    if (sepCode === 58 && text.charCodeAt(i) === 58) {
      const [ss, sl] = digitsAt(text, i + 1, 2);
      if (sl !== 2) return fail(expected);
      second = ss;
      i += 3;
      // Fractions of a second (07:30:00.000 from some exports) are dropped.
      if (text.charCodeAt(i) === 46) {
        i++;
        while (i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
      }
    }
  }
  while (i < n && text.charCodeAt(i) === 32) i++;
  let meridiem: 'am' | 'pm' | undefined;
  if (i < n) {
    const rest = text.slice(i).toLowerCase().replace(/\./g, '');
    if (rest === 'am' || rest === 'a') meridiem = 'am';
    else if (rest === 'pm' || rest === 'p') meridiem = 'pm';
    else return fail(expected);
  }
  // From here on the text has the form of a time; a value no clock shows (25:00, 12:60,
  // 13:00 pm) is "no such time", not "expected HH:mm", which it already is.
  if (meridiem) {
    if (format === '24h') return fail(expected);
    if (hour < 1 || hour > 12) return fail(`no such time: ${text} (12-hour times go from 1 to 12)`);
  } else if (format === '12h' || !hasMinutes) return fail(expected);
  if (minute > 59) return fail(`no such time: ${text} (minutes go from 00 to 59)`);
  if (second > 59) return fail(`no such time: ${text} (seconds go from 00 to 59)`);
  if (meridiem) {
    if (hour === 12) hour = 0;
    if (meridiem === 'pm') hour += 12;
  } else {
    if (hour === 24 && minute === 0 && second === 0) return ok(86_400);
    if (hour > 23) return fail(`no such time: ${text} (hours go from 00 to 23; 24:00 is the end of the day)`);
  }
  return ok(hour * 3600 + minute * 60 + second);
}

/** A time cell's value: seconds of the day, and the date when the cell carries one. */
export interface TimeValue {
  seconds: number;
  epochDay?: number;
}

const MS_PER_DAY = 86_400_000;

/**
 * A time cell: text, a day fraction (0.3125 = 07:30), a full serial date-time (46000.3125), or
 * a Date from exceljs. With `dateFormat`, text may also be "<date> <time>".
 */
export function parseTimeCell(cell: Cell, format: TimeFormat, date1904: boolean, dateFormat?: DateFormat): Parsed<TimeValue> {
  if (typeof cell === 'string') {
    const t = parseTimeText(cell, format);
    if (t.ok || !dateFormat) return t.ok ? ok({ seconds: t.value }) : t;
    const trimmed = cell.trim();
    const cut = trimmed.search(/[ T]/);
    if (cut < 0) return t;
    const d = dateFormat.parse(trimmed.slice(0, cut));
    const tt = parseTimeText(trimmed.slice(cut + 1), format);
    if (!d.ok || !tt.ok) {
      // A date-time of the right form with an impossible part says which part (31-11-2026 08:00).
      if (!d.ok && tt.ok && d.reason.startsWith('no such')) return d;
      if (d.ok && !tt.ok && tt.reason.startsWith('no such')) return tt;
      return t;
    }
    return ok({ seconds: tt.value, epochDay: d.value });
  }
  if (typeof cell === 'number') {
    if (!Number.isFinite(cell) || cell < 0) return fail('not a valid time of day');
    if (cell < 1) return ok({ seconds: serialSeconds(cell) });
    const day = serialDay(cell, date1904);
    if (!day.ok) return day;
    return ok({ seconds: serialSeconds(cell), epochDay: day.value });
  }
  if (cell instanceof Date) {
    const ms = cell.getTime();
    if (Number.isNaN(ms)) return fail('not a valid time of day');
    const day = Math.floor(ms / MS_PER_DAY);
    const seconds = Math.round((ms - day * MS_PER_DAY) / 1000);
    return ok(isPlaceholderDay(day, date1904) ? { seconds } : { seconds, epochDay: day });
  }
  return fail('not a valid time of day');
}

/** H:MM of seconds (tests and messages). */
export function formatClock(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}`;
}
