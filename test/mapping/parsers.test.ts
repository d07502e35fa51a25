import { describe, expect, it } from '@jest/globals';
import { expectWithMessage } from '../support/runner';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  compileBooleanParser,
  compileDateFormat,
  epochDayOf,
  isoDateOf,
  parseBreakCell,
  parseDateCell,
  parseDecimalText,
  parseDurationCell,
  parseDurationText,
  parseTimeCell,
  parseTimeText,
  serialDay,
  serialOf,
  serialSeconds,
  ZoneClock,
} from '../../src/mapping/index';

const value = <T>(p: { ok: true; value: T } | { ok: false; reason: string }): T => {
  if (!p.ok) throw new Error(`expected a value, got: ${p.reason}`);
  return p.value;
};
const iso = (p: Parameters<typeof value<number>>[0]) => isoDateOf(value(p));

describe('dates', () => {
  it('Given dd-MM-yyyy, when a Dutch date is read, then it is that calendar day', () => {
    const f = compileDateFormat('dd-MM-yyyy');
    expect(iso(f.parse('03-02-2026'))).toBe('2026-02-03');
    expect(iso(f.parse('3-2-2026'))).toBe('2026-02-03');
    expect(iso(f.parse(' 29-02-2024 '))).toBe('2024-02-29');
    expect(iso(f.parse('03-02-2026 00:00:00'))).toBe('2026-02-03');
  });

  it('Given dd-MM-yyyy, when the shape is wrong, then the reason names the format', () => {
    const f = compileDateFormat('dd-MM-yyyy');
    for (const bad of ['2026-02-03', '03/02/2026', '3-2-26', 'morgen', '', '03-02-2026 07:30']) {
      expect(f.parse(bad)).toEqual({ ok: false, reason: 'not a valid date (expected dd-MM-yyyy)' });
    }
  });

  it('Given dd-MM-yyyy, when a date has that form but no calendar has it, then the reason says "no such date" and why, naming the value', () => {
    const f = compileDateFormat('dd-MM-yyyy');
    expect(f.parse('31-11-2026')).toEqual({
      ok: false,
      reason: 'no such date: 31-11-2026 (read as dd-MM-yyyy: November 2026 has 30 days)',
    });
    expect(f.parse('29-02-2025')).toEqual({
      ok: false,
      reason: 'no such date: 29-02-2025 (read as dd-MM-yyyy: February 2025 has 28 days)',
    });
    expect(f.parse(' 03-13-2026')).toEqual({ ok: false, reason: 'no such date: 03-13-2026 (read as dd-MM-yyyy: there is no month 13)' });
    expect(f.parse('00-12-2026')).toEqual({ ok: false, reason: 'no such date: 00-12-2026 (read as dd-MM-yyyy: there is no day 0)' });
    expect(iso(f.parse('29-02-2024'))).toBe('2024-02-29');
  });

  it('Given d/M/yyyy and yyyy-MM-dd and dd.MM.yy, when dates are read, then day and month are in the right place', () => {
    expect(iso(compileDateFormat('d/M/yyyy').parse('1/12/2025'))).toBe('2025-12-01');
    expect(iso(compileDateFormat('M/d/yyyy').parse('1/12/2025'))).toBe('2025-01-12');
    expect(iso(compileDateFormat('yyyy-MM-dd').parse('2025-12-01'))).toBe('2025-12-01');
    expect(iso(compileDateFormat('yyyy-MM-dd').parse('2025-12-01T00:00:00.000Z'))).toBe('2025-12-01');
    expect(iso(compileDateFormat('dd.MM.yy').parse('01.12.25'))).toBe('2025-12-01');
  });

  it('Given Excel 1900 serials, when read, then the known dates come out and the fictitious 1900-02-29 is refused', () => {
    expect(iso(serialDay(1))).toBe('1900-01-01');
    expect(iso(serialDay(59))).toBe('1900-02-28');
    expect(serialDay(60)).toMatchObject({ ok: false, reason: expect.stringContaining('1900-02-29') });
    expect(iso(serialDay(61))).toBe('1900-03-01');
    expect(iso(serialDay(25569))).toBe('1970-01-01');
    expect(iso(serialDay(46056))).toBe('2026-02-03');
    expect(iso(serialDay(46056.75))).toBe('2026-02-03');
    expect(serialDay(0).ok).toBe(false);
  });

  it('Given the 1904 date system, when serials are read, then they are 1462 days after the 1900 ones', () => {
    expect(iso(serialDay(0, true))).toBe('1904-01-01');
    expect(iso(serialDay(46056 - 1462, true))).toBe('2026-02-03');
    expect(serialDay(-1, true).ok).toBe(false);
  });

  it('Given any date from 1900-03-01 on, when it becomes a serial and back, then it is the same day (both systems)', () => {
    fc.assert(
      fc.property(fc.integer({ min: epochDayOf(1904, 1, 1), max: epochDayOf(2200, 12, 31) }), fc.boolean(), (day, d1904) => {
        expect(value(serialDay(serialOf(day, d1904), d1904))).toBe(day);
      }),
    );
  });

  it('Given any date, when written in a format and read back, then it is the same day', () => {
    const formats = ['dd-MM-yyyy', 'd/M/yyyy', 'yyyy-MM-dd', 'M/d/yyyy', 'dd.MM.yyyy'];
    fc.assert(
      fc.property(fc.integer({ min: epochDayOf(1950, 1, 1), max: epochDayOf(2150, 1, 1) }), fc.constantFrom(...formats), (day, fmt) => {
        const f = compileDateFormat(fmt);
        expect(value(f.parse(f.format_(day)))).toBe(day);
      }),
    );
  });

  it('Given exceljs cells, when a Date or a number arrives in a date column, then both read as the sheet shows them', () => {
    const f = compileDateFormat('dd-MM-yyyy');
    expect(iso(parseDateCell(new Date(Date.UTC(2026, 1, 3)), f, false))).toBe('2026-02-03');
    expect(iso(parseDateCell(46056, f, false))).toBe('2026-02-03');
    expect(iso(parseDateCell(46056 - 1462, f, true))).toBe('2026-02-03');
    expect(parseDateCell(new Date(Date.UTC(1899, 11, 30, 7, 30)), f, false)).toMatchObject({ ok: false });
  });
});

describe('times', () => {
  it('Given the ways people write a time, when read, then each is the right second of the day', () => {
    const cases: Array<[string, number]> = [
      ['7:30', 27000],
      ['07:30', 27000],
      ['07:30:15', 27015],
      ['15.30', 55800],
      ['3:00pm', 54000],
      ['3:00 PM', 54000],
      ['3pm', 54000],
      ['12:15am', 900],
      ['12:00pm', 43200],
      ['11:15 a.m.', 40500],
      ['0:00', 0],
      ['24:00', 86400],
      ['07:30:00.000', 27000],
    ];
    for (const [text, seconds] of cases) expectWithMessage(value(parseTimeText(text)), text).toBe(seconds);
  });

  it('Given impossible times, when read, then each is refused', () => {
    for (const bad of ['25:00', '7:60', '13:00pm', '0pm', '7', '7.5', 'noon', '', '24:01', '7:3']) {
      expectWithMessage(parseTimeText(bad).ok, bad).toBe(false);
    }
  });

  it('Given a time of the right form that no clock shows, when read, then the reason says "no such time" naming the value; a wrong form still names the format', () => {
    expect(parseTimeText('25:00')).toEqual({
      ok: false,
      reason: 'no such time: 25:00 (hours go from 00 to 23; 24:00 is the end of the day)',
    });
    expect(parseTimeText('24:01', '24h')).toEqual({
      ok: false,
      reason: 'no such time: 24:01 (hours go from 00 to 23; 24:00 is the end of the day)',
    });
    expect(parseTimeText('7:60')).toEqual({ ok: false, reason: 'no such time: 7:60 (minutes go from 00 to 59)' });
    expect(parseTimeText('07:30:61')).toEqual({ ok: false, reason: 'no such time: 07:30:61 (seconds go from 00 to 59)' });
    expect(parseTimeText('13:00pm')).toEqual({ ok: false, reason: 'no such time: 13:00pm (12-hour times go from 1 to 12)' });
    for (const bad of ['7', 'noon', '7:3', ''])
      expectWithMessage(parseTimeText(bad), bad).toEqual({ ok: false, reason: 'not a valid time of day (expected HH:mm or h:mm am/pm)' });
    expect(parseTimeText('15:00', '12h')).toEqual({ ok: false, reason: 'not a valid time of day (expected h:mm am/pm)' });
    const f = compileDateFormat('dd-MM-yyyy');
    expect(parseTimeCell('31-11-2026 08:00', 'auto', false, f)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^no such date: 31-11-2026/),
    });
    expect(parseTimeCell('30-11-2026 25:00', 'auto', false, f)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^no such time: 25:00/),
    });
  });

  it('Given a strict 24h or 12h format, when the other style arrives, then it is refused', () => {
    expect(parseTimeText('3:00pm', '24h').ok).toBe(false);
    expect(parseTimeText('15:00', '12h').ok).toBe(false);
    expect(value(parseTimeText('3:00pm', '12h'))).toBe(54000);
  });

  it('Given serial cells, when a fraction or a full date-time arrives, then time and date are split', () => {
    expect(value(parseTimeCell(0.3125, 'auto', false))).toEqual({ seconds: 27000 });
    expect(value(parseTimeCell(46056.75, 'auto', false))).toEqual({ seconds: 64800, epochDay: epochDayOf(2026, 2, 3) });
    expect(value(parseTimeCell(new Date(Date.UTC(1899, 11, 30, 7, 30)), 'auto', false))).toEqual({ seconds: 27000 });
    expect(value(parseTimeCell(new Date(Date.UTC(1904, 0, 1, 7, 30)), 'auto', true))).toEqual({ seconds: 27000 });
    expect(value(parseTimeCell('03-02-2026 22:00', 'auto', false, compileDateFormat('dd-MM-yyyy')))).toEqual({
      seconds: 79200,
      epochDay: epochDayOf(2026, 2, 3),
    });
  });

  it('Given any minute of the day, when it is a serial fraction and back, then it is the same minute', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1439 }), (minute) => {
        expect(serialSeconds(minute / 1440)).toBe(minute * 60);
      }),
    );
  });
});

describe('durations and breaks', () => {
  it('Given hours as 7:30, 7,5 and 7.5, when read, then all are 7.5 hours', () => {
    for (const text of ['7:30', '7,5', '7.5', '07:30:00', '7,50']) expectWithMessage(value(parseDurationText(text)), text).toBe(27000);
    expect(value(parseDurationText('8'))).toBe(28800);
    expect(value(parseDurationText(',25'))).toBe(900);
    expect(value(parseDurationText('0:05'))).toBe(300);
  });

  it('Given bad durations, when read, then each is refused with a reason', () => {
    expect(parseDurationText('-1')).toEqual({ ok: false, reason: 'a duration cannot be negative' });
    for (const bad of ['7:75', 'acht', '7,5,5', '1.234,5', '']) expectWithMessage(parseDurationText(bad).ok, bad).toBe(false);
  });

  it('Given numeric hours cells, when the sheet serves hours or day fractions, then each reads right', () => {
    expect(value(parseDurationCell(7.5, 'hours', false))).toBe(27000);
    expect(value(parseDurationCell(0.3125, 'days', false))).toBe(27000);
    expect(value(parseDurationCell(new Date(Date.UTC(1899, 11, 31, 1, 0)), 'hours', false))).toBe(25 * 3600);
    expect(value(parseDurationCell(new Date(Date.UTC(1904, 0, 1, 7, 30)), 'hours', true))).toBe(27000);
    expect(parseDurationCell(new Date(Date.UTC(2026, 1, 3)), 'hours', false).ok).toBe(false);
  });

  it('Given any whole-minute duration, when written as H:MM, decimal comma or decimal point and read back, then the minutes are the same', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 24 * 60 }), fc.constantFrom('hmm', 'comma', 'point'), (minutes, style) => {
        const hours = Math.floor(minutes / 60);
        const mm = minutes % 60;
        const dec = (minutes / 60).toFixed(6);
        const text = style === 'hmm' ? `${hours}:${String(mm).padStart(2, '0')}` : style === 'comma' ? dec.replace('.', ',') : dec;
        expect(Math.round(value(parseDurationText(text)) / 60)).toBe(minutes);
      }),
    );
  });

  it('Given breaks as 30, 0:30 and 0,5, when read with the auto rule, then a whole number is minutes and a decimal is hours', () => {
    expect(value(parseBreakCell('30', 'auto', 'hours', false))).toBe(1800);
    expect(value(parseBreakCell('0:30', 'auto', 'hours', false))).toBe(1800);
    expect(value(parseBreakCell('0,5', 'auto', 'hours', false))).toBe(1800);
    expect(value(parseBreakCell('0.5', 'auto', 'hours', false))).toBe(1800);
    expect(value(parseBreakCell('1', 'auto', 'hours', false))).toBe(60);
    expect(value(parseBreakCell('1', 'hours', 'hours', false))).toBe(3600);
    expect(value(parseBreakCell('0,5', 'minutes', 'hours', false))).toBe(30);
    expect(value(parseBreakCell(30, 'auto', 'hours', false))).toBe(1800);
    expect(value(parseBreakCell(0.5, 'auto', 'hours', false))).toBe(1800);
    expect(value(parseBreakCell(1 / 48, 'auto', 'days', false))).toBe(1800);
    expect(parseBreakCell('-30', 'auto', 'hours', false)).toEqual({ ok: false, reason: 'a break cannot be negative' });
    expect(parseBreakCell('half', 'auto', 'hours', false).ok).toBe(false);
  });
});

describe('decimals and booleans', () => {
  it('Given decimal-comma text, when read, then the decimal string is exact', () => {
    expect(value(parseDecimalText('7,5', ','))).toBe('7.5');
    expect(value(parseDecimalText('1.234,50', ','))).toBe('1234.50');
    expect(value(parseDecimalText('€ 85,00', ','))).toBe('85.00');
    expect(value(parseDecimalText('12.5', ','))).toBe('12.5');
    expect(value(parseDecimalText('1.234.567', ','))).toBe('1234567');
    expect(value(parseDecimalText('-0,25', ','))).toBe('-0.25');
  });

  it('Given decimal-point text, when read, then grouping commas are dropped', () => {
    expect(value(parseDecimalText('1,234.50', '.'))).toBe('1234.50');
    expect(value(parseDecimalText('0.23', '.'))).toBe('0.23');
    expect(value(parseDecimalText('85', '.'))).toBe('85');
    expect(value(parseDecimalText('7,5', '.'))).toBe('7.5');
  });

  it('Given a separator that could be thousands or decimals, when read, then it is refused rather than guessed', () => {
    expect(parseDecimalText('1.250', ',')).toMatchObject({ ok: false, reason: expect.stringContaining('ambiguous') });
    expect(parseDecimalText('1,250', '.')).toMatchObject({ ok: false, reason: expect.stringContaining('ambiguous') });
    expect(parseDecimalText('1,2,3', ',').ok).toBe(false);
    expect(parseDecimalText('abc', '.').ok).toBe(false);
  });

  it('Given any cent amount, when written with a decimal comma and read back, then it is the same amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (cents) => {
        const text = `${Math.floor(cents / 100)},${String(cents % 100).padStart(2, '0')}`;
        expect(value(parseDecimalText(text, ','))).toBe(`${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`);
      }),
    );
  });

  it('Given the default yes/no words, when cells are read, then ja/nee, x, 1/0 and booleans all work', () => {
    const b = compileBooleanParser(['ja', 'yes', 'x', '1', 'true'], ['nee', 'no', '0', 'false']);
    expect(value(b('Ja'))).toBe(true);
    expect(value(b(' X '))).toBe(true);
    expect(value(b('nee'))).toBe(false);
    expect(value(b(1))).toBe(true);
    expect(value(b(0))).toBe(false);
    expect(value(b(false))).toBe(false);
    expect(b('misschien')).toMatchObject({ ok: false, reason: expect.stringContaining('ja') });
  });
});

describe('zone clock', () => {
  const zone = 'Europe/Amsterdam';
  const clock = new ZoneClock(zone);
  /**
   * Reference: luxon's instant, moved to the first occurrence where luxon takes the second (a
   * wall-clock time repeated by Amsterdam's one-hour autumn change shows an hour earlier too).
   * Gaps: luxon already reads a skipped time with the offset before the change.
   */
  const viaLuxon = (day: number, seconds: number) => {
    const d = DateTime.fromMillis(day * 86_400_000, { zone: 'utc' });
    const wall = {
      year: d.year,
      month: d.month,
      day: d.day,
      hour: Math.floor(seconds / 3600),
      minute: Math.floor((seconds % 3600) / 60),
      second: seconds % 60,
    };
    const ms = DateTime.fromObject(wall, { zone }).toMillis();
    const earlier = DateTime.fromMillis(ms - 3_600_000, { zone });
    const same =
      earlier.year === wall.year &&
      earlier.month === wall.month &&
      earlier.day === wall.day &&
      earlier.hour === wall.hour &&
      earlier.minute === wall.minute;
    return same ? ms - 3_600_000 : ms;
  };
  const at = (ms: number) => new Date(ms).toISOString();
  const spring = epochDayOf(2026, 3, 29);
  const autumn = epochDayOf(2026, 10, 25);
  const h = (hours: number) => hours * 3600;

  it('Given the nights of the DST changes, when wall-clock times become instants, then the offsets are right', () => {
    // 2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET.
    expect(new Date(clock.instantMs(spring, 3600)).toISOString()).toBe('2026-03-29T00:00:00.000Z');
    expect(new Date(clock.instantMs(spring, 4 * 3600)).toISOString()).toBe('2026-03-29T02:00:00.000Z');
    expect(new Date(clock.instantMs(autumn, 4 * 3600)).toISOString()).toBe('2026-10-25T03:00:00.000Z');
    // A night shift 22:00 → 06:00 over the autumn change lasts nine hours.
    const night = epochDayOf(2026, 10, 24);
    expect((clock.instantMs(night, 30 * 3600) - clock.instantMs(night, 22 * 3600)) / 3_600_000).toBe(9);
  });

  it('Given any wall-clock minute in 2020-2030, when converted by the cached clock, then it equals luxon (first occurrence of a repeated time)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: epochDayOf(2020, 1, 1), max: epochDayOf(2030, 12, 31) }),
        fc.integer({ min: 0, max: 2 * 1440 - 1 }),
        (day, minute) => {
          expect(clock.instantMs(day, minute * 60)).toBe(viaLuxon(day + Math.floor(minute / 1440), (minute % 1440) * 60));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('Given a start in the repeated hour of the autumn change, when converted, then it is the first (summer-time) occurrence', () => {
    // 2026-10-25: 03:00 CEST → 02:00 CET, so 02:00–02:59 happens twice.
    expect(at(clock.instantMs(autumn, h(2.5)))).toBe('2026-10-25T00:30:00.000Z');
    expect(at(clock.instantMs(autumn, h(2)))).toBe('2026-10-25T00:00:00.000Z');
    expect(at(clock.instantMs(autumn, h(3)))).toBe('2026-10-25T02:00:00.000Z');
    expect(clock.isSkipped(autumn, h(2.5))).toBe(false);
  });

  it('Given an end in the repeated hour, when the first instant after the start is asked for, then it is the second occurrence only when the first is not after the start', () => {
    const start = clock.instantMs(autumn, h(2.75)); // 02:45 CEST = 00:45 UTC
    expect(at(clock.instantAfterMs(start, autumn, h(2.25)))).toBe('2026-10-25T01:15:00.000Z'); // 02:15 CET
    expect(at(clock.instantAfterMs(clock.instantMs(autumn, h(1)), autumn, h(2.5)))).toBe('2026-10-25T00:30:00.000Z'); // 02:30 CEST
    expect(clock.instantAfterMs(clock.instantMs(autumn, h(3)), autumn, h(2.5))).toBeNaN();
    // An ordinary day: the one instant, when it is after.
    const day = epochDayOf(2026, 6, 1);
    expect(at(clock.instantAfterMs(clock.instantMs(day, h(8)), day, h(16)))).toBe('2026-06-01T14:00:00.000Z');
    expect(clock.instantAfterMs(clock.instantMs(day, h(8)), day, h(7))).toBeNaN();
  });

  it('Given a time in the hour the clocks skip in spring, when converted, then it is read with the offset before the change (02:30 is 03:30 summer time)', () => {
    // 2026-03-29: 02:00 CET → 03:00 CEST, so 02:00–02:59 never happens.
    expect(at(clock.instantMs(spring, h(2.5)))).toBe('2026-03-29T01:30:00.000Z');
    expect(clock.instantMs(spring, h(2.5))).toBe(clock.instantMs(spring, h(3.5)));
    expect(clock.isSkipped(spring, h(2.5))).toBe(true);
    expect(clock.isSkipped(spring, h(3))).toBe(false);
    expect(clock.isSkipped(spring, h(1.75))).toBe(false);
  });

  it('Given the DST transition days, when every quarter hour is converted, then the cached clock equals luxon (first occurrence of a repeated time)', () => {
    for (const day of [epochDayOf(2026, 3, 29), epochDayOf(2026, 10, 25)]) {
      for (let s = 0; s < 86_400; s += 900) expect(clock.instantMs(day, s)).toBe(viaLuxon(day, s));
    }
  });
});
