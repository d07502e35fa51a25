import { describe, expect, it } from '@jest/globals';
import type { TimeEntry } from '../../src/domain/time-entry';
import type { RatedLine } from '../../src/domain/rated-line';
import { dec } from '../../src/domain/money';
import { CARE, CLEANING, DUTCH, DUTCH_BREAKS, ONCALL, OVERTIME, RETAIL, SECURITY, STAFFING } from './cards';
import { entry, inputs, ratesFromYaml, shift } from './helpers';

/*
 * Worked cases: each expected line was computed by hand from the rate card
 * (quantity × unit price, amounts shown rounded to cents). Dates: 2026-03-02 is a Monday.
 */

type Line = [quantity: string, unitPrice: string, amount: string];
interface Case {
  name: string;
  card: string;
  entries: () => TimeEntry[];
  lines?: Line[];
  /** Extra checks on the lines (labels, dates, kinds, traces). */
  check?: (lines: RatedLine[]) => void;
  excluded?: RegExp;
  fails?: { reason: RegExp; field?: string };
}

const cases: Case[] = [
  // ---- Dutch card: base 40.00 (42.00 from 2026-07-01), highest surcharge only -----------------
  {
    name: 'Dutch: Monday day shift 09–17 is plain base time',
    card: DUTCH,
    entries: () => [shift('2026-03-02 09:00', '2026-03-02 17:00')],
    lines: [['8.00', '40.00', '320.00']],
  },
  {
    name: 'Dutch: Monday 16:00–02:00 is split at 18:00, 22:00 and midnight',
    card: DUTCH,
    entries: () => [shift('2026-03-02 16:00', '2026-03-03 02:00')],
    lines: [
      ['2.00', '40.00', '80.00'],
      ['4.00', '48.00', '192.00'],
      ['2.00', '56.00', '112.00'],
      ['2.00', '60.00', '120.00'],
    ],
    check: (l) => {
      expect(l.map((x) => x.label)).toEqual(['', ' (evening +20%)', ' (night +40%)', ' (early +50%)']);
      expect(l.map((x) => x.date)).toEqual(['2026-03-02', '2026-03-02', '2026-03-02', '2026-03-03']);
    },
  },
  {
    name: 'Dutch: Monday 05:00–09:00 has one early hour',
    card: DUTCH,
    entries: () => [shift('2026-03-02 05:00', '2026-03-02 09:00')],
    lines: [
      ['1.00', '60.00', '60.00'],
      ['3.00', '40.00', '120.00'],
    ],
  },
  {
    name: 'Dutch: Saturday 10–14 is weekend +70%',
    card: DUTCH,
    entries: () => [shift('2026-03-07 10:00', '2026-03-07 14:00')],
    lines: [['4.00', '68.00', '272.00']],
  },
  {
    name: 'Dutch: Sunday 20:00 to Monday 02:00 is weekend then early',
    card: DUTCH,
    entries: () => [shift('2026-03-08 20:00', '2026-03-09 02:00')],
    lines: [
      ['4.00', '68.00', '272.00'],
      ['2.00', '60.00', '120.00'],
    ],
  },
  {
    name: 'Dutch: Friday 22:00 to Saturday 06:00 is night then weekend',
    card: DUTCH,
    entries: () => [shift('2026-03-06 22:00', '2026-03-07 06:00')],
    lines: [
      ['2.00', '56.00', '112.00'],
      ['6.00', '68.00', '408.00'],
    ],
  },
  {
    name: "Dutch: King's Day (Monday holiday) 09–17 is holiday +100%",
    card: DUTCH,
    entries: () => [shift('2026-04-27 09:00', '2026-04-27 17:00')],
    lines: [['8.00', '80.00', '640.00']],
    check: (l) => expect(l[0]!.trace.find((t) => t.rule === 'holiday')!.detail).toMatch(/Koningsdag/),
  },
  {
    name: "Dutch: King's Day evening takes only the highest of evening and holiday",
    card: DUTCH,
    entries: () => [shift('2026-04-27 18:00', '2026-04-27 22:00')],
    lines: [['4.00', '80.00', '320.00']],
    check: (l) => {
      const evening = l[0]!.trace.find((t) => t.rule === 'evening')!;
      expect(evening.applied).toBe(false);
      expect(evening.detail).toMatch(/stacking "max"/);
    },
  },
  {
    name: "Dutch: New Year's Eve 20:00 into New Year's Day 04:00 (holiday beats early)",
    card: DUTCH,
    entries: () => [shift('2026-12-31 20:00', '2027-01-01 04:00')],
    lines: [
      ['2.00', '50.40', '100.80'],
      ['2.00', '58.80', '117.60'],
      ['4.00', '84.00', '336.00'],
    ],
    check: (l) => expect(l[2]!.rule).toBe('std-july+holiday'),
  },
  {
    name: 'Dutch: the night clocks go back, Saturday 22:00 to Sunday 06:00 is 9 hours',
    card: DUTCH,
    entries: () => [shift('2026-10-24 22:00', '2026-10-25 06:00')],
    lines: [
      ['2.00', '71.40', '142.80'],
      ['7.00', '71.40', '499.80'],
    ],
  },
  {
    name: 'Dutch: the night clocks go forward, Saturday 22:00 to Sunday 06:00 is 7 hours',
    card: DUTCH,
    entries: () => [shift('2026-03-28 22:00', '2026-03-29 06:00')],
    lines: [
      ['2.00', '68.00', '136.00'],
      ['5.00', '68.00', '340.00'],
    ],
  },
  {
    name: 'Dutch: a rate change at midnight inside a night shift splits it',
    card: DUTCH,
    entries: () => [shift('2026-06-30 22:00', '2026-07-01 02:00')],
    lines: [
      ['2.00', '56.00', '112.00'],
      ['2.00', '63.00', '126.00'],
    ],
    check: (l) => expect(l.map((x) => x.rule)).toEqual(['std+night', 'std-july+early']),
  },
  {
    name: 'Dutch: a date-only Saturday entry still gets the weekend surcharge',
    card: DUTCH,
    entries: () => [entry({ date: '2026-03-07', durationSeconds: 6 * 3600 })],
    lines: [['6.00', '68.00', '408.00']],
  },
  {
    name: 'Dutch: a date-only weekday entry cannot get time bands',
    card: DUTCH,
    entries: () => [entry({ date: '2026-03-02', durationSeconds: 8 * 3600 })],
    lines: [['8.00', '40.00', '320.00']],
    check: (l) => expect(l[0]!.trace.find((t) => t.rule === 'night')!.detail).toMatch(/no start\/end time/),
  },
  {
    name: 'Dutch: a recorded 1 h break is taken from the middle of 14:00–23:00',
    card: DUTCH,
    entries: () => [shift('2026-03-02 14:00', '2026-03-02 23:00', { breakSeconds: 3600 })],
    lines: [
      ['4.00', '40.00', '160.00'],
      ['3.00', '48.00', '144.00'],
      ['1.00', '56.00', '56.00'],
    ],
  },
  {
    name: 'Dutch with statutory breaks: 6 h without a break loses 30 minutes',
    card: DUTCH_BREAKS,
    entries: () => [shift('2026-03-02 08:00', '2026-03-02 14:00')],
    lines: [
      ['2.75', '40.00', '110.00'],
      ['2.75', '40.00', '110.00'],
    ],
    check: (l) => expect(l[0]!.trace[0]!.detail).toMatch(/statutory break of 30 min/),
  },
  {
    name: 'Dutch with statutory breaks: 11 h loses 45 minutes and quantities still add up to 10.25',
    card: DUTCH_BREAKS,
    entries: () => [shift('2026-03-02 06:00', '2026-03-02 17:00')],
    lines: [
      ['5.13', '40.00', '205.20'],
      ['5.12', '40.00', '204.80'],
    ],
  },
  {
    name: 'Dutch with statutory breaks: 5 h is too short for a break',
    card: DUTCH_BREAKS,
    entries: () => [shift('2026-03-02 09:00', '2026-03-02 14:00')],
    lines: [['5.00', '40.00', '200.00']],
  },

  // ---- Retail: base 25.00, 15-min nearest rounding, highest only -------------------------------
  {
    name: 'Retail: Tuesday 12–20 has two evening hours',
    card: RETAIL,
    entries: () => [shift('2026-03-03 12:00', '2026-03-03 20:00')],
    lines: [
      ['6.00', '25.00', '150.00'],
      ['2.00', '31.25', '62.50'],
    ],
  },
  {
    name: 'Retail: Saturday evening takes the Saturday rate, not both',
    card: RETAIL,
    entries: () => [shift('2026-03-07 14:00', '2026-03-07 21:00')],
    lines: [
      ['4.00', '37.50', '150.00'],
      ['3.00', '37.50', '112.50'],
    ],
  },
  {
    name: 'Retail: Sunday 17–19 is +100% before and after 18:00',
    card: RETAIL,
    entries: () => [shift('2026-03-08 17:00', '2026-03-08 19:00')],
    lines: [
      ['1.00', '50.00', '50.00'],
      ['1.00', '50.00', '50.00'],
    ],
  },
  {
    name: 'Retail: 17:50–21:04 rounds 3:14 to 3:15 and the quantities add up to 3.25',
    card: RETAIL,
    entries: () => [shift('2026-03-03 17:50', '2026-03-03 21:04')],
    lines: [
      ['0.17', '25.00', '4.25'],
      ['3.08', '31.25', '96.25'],
    ],
  },
  {
    name: 'Retail: Easter Monday is a holiday',
    card: RETAIL,
    entries: () => [shift('2026-04-06 10:00', '2026-04-06 16:00')],
    lines: [['6.00', '50.00', '300.00']],
  },
  {
    name: 'Retail: Good Friday is added to the calendar by the agreement',
    card: RETAIL,
    entries: () => [shift('2026-04-03 10:00', '2026-04-03 14:00')],
    lines: [['4.00', '50.00', '200.00']],
  },
  {
    name: 'Retail: Whit Monday is removed from the calendar by the agreement',
    card: RETAIL,
    entries: () => [shift('2026-05-25 10:00', '2026-05-25 14:00')],
    lines: [['4.00', '25.00', '100.00']],
  },
  {
    name: "Retail: King's Day evening is holiday only",
    card: RETAIL,
    entries: () => [shift('2026-04-27 18:00', '2026-04-27 20:00')],
    lines: [['2.00', '50.00', '100.00']],
  },

  // ---- Security: base 30.00, surcharges add up ---------------------------------------------------
  {
    name: 'Security: Saturday 20:00 to Sunday 02:00 adds night and weekend',
    card: SECURITY,
    entries: () => [shift('2026-03-07 20:00', '2026-03-08 02:00')],
    lines: [
      ['2.00', '36.00', '72.00'],
      ['2.00', '45.00', '90.00'],
      ['2.00', '45.00', '90.00'],
    ],
    check: (l) => expect(l[1]!.label).toBe(' (night +30%, weekend +20%)'),
  },
  {
    name: 'Security: Wednesday 21–23 crosses into the night band',
    card: SECURITY,
    entries: () => [shift('2026-03-04 21:00', '2026-03-04 23:00')],
    lines: [
      ['1.00', '30.00', '30.00'],
      ['1.00', '39.00', '39.00'],
    ],
  },
  {
    name: 'Security: a stand-by tag adds 5.00 per hour',
    card: SECURITY,
    entries: () => [shift('2026-03-04 10:00', '2026-03-04 12:00', { tags: ['standby'] })],
    lines: [['2.00', '35.00', '70.00']],
  },
  {
    name: 'Security: stand-by at night adds the percent and the amount',
    card: SECURITY,
    entries: () => [shift('2026-03-04 22:00', '2026-03-04 23:00', { tags: ['standby'] })],
    lines: [['1.00', '44.00', '44.00']],
  },

  // ---- Care: base 20.00, night +50% in whole 15-minute blocks ------------------------------------
  {
    name: 'Care: 20 minutes of night count as one 15-minute block',
    card: CARE,
    entries: () => [shift('2026-03-04 21:00', '2026-03-04 22:20')],
    lines: [
      ['1.00', '20.00', '20.00'],
      ['0.25', '30.00', '7.50'],
      ['0.08', '20.00', '1.60'],
    ],
    check: (l) => expect(l[2]!.trace.find((t) => t.rule === 'night')!.detail).toMatch(/whole 15-min block/),
  },
  {
    name: 'Care: a whole night hour is all surcharged',
    card: CARE,
    entries: () => [shift('2026-03-04 21:00', '2026-03-04 23:00')],
    lines: [
      ['1.00', '20.00', '20.00'],
      ['1.00', '30.00', '30.00'],
    ],
  },
  {
    name: 'Care: 10 night minutes are less than a block',
    card: CARE,
    entries: () => [shift('2026-03-04 05:50', '2026-03-04 07:00')],
    lines: [
      ['0.17', '20.00', '3.40'],
      ['1.00', '20.00', '20.00'],
    ],
  },

  // ---- Cleaning: base 20.00, +10% if the shift starts before 07:00 or ends after 20:00 -----------
  {
    name: 'Cleaning: a shift starting 06:30 gets +10% on all of it',
    card: CLEANING,
    entries: () => [shift('2026-03-04 06:30', '2026-03-04 15:00')],
    lines: [['8.50', '22.00', '187.00']],
  },
  {
    name: 'Cleaning: a shift starting at 07:00 does not',
    card: CLEANING,
    entries: () => [shift('2026-03-04 07:00', '2026-03-04 15:00')],
    lines: [['8.00', '20.00', '160.00']],
    check: (l) =>
      expect(l[0]!.trace.find((t) => t.rule === 'irregular')!.detail).toMatch(/neither starts before 07:00 or ends after 20:00/),
  },
  {
    name: 'Cleaning: a shift ending 20:30 gets +10%',
    card: CLEANING,
    entries: () => [shift('2026-03-04 12:00', '2026-03-04 20:30')],
    lines: [['8.50', '22.00', '187.00']],
  },
  {
    name: 'Cleaning: a shift ending exactly at 20:00 does not',
    card: CLEANING,
    entries: () => [shift('2026-03-04 12:00', '2026-03-04 20:00')],
    lines: [['8.00', '20.00', '160.00']],
  },
  {
    name: 'Cleaning: a shift ending after midnight ends after 20:00',
    card: CLEANING,
    entries: () => [shift('2026-03-04 16:00', '2026-03-05 01:00')],
    lines: [
      ['8.00', '22.00', '176.00'],
      ['1.00', '22.00', '22.00'],
    ],
  },

  // ---- On-call: base 35.00, 3-hour minimum per call, rounded up to 15 min ------------------------
  {
    name: 'On-call: a 70-minute call rounds up to 1.25 h and is topped up to 3 h',
    card: ONCALL,
    entries: () => [shift('2026-03-04 10:00', '2026-03-04 11:10')],
    lines: [
      ['1.25', '35.00', '43.75'],
      ['1.75', '35.00', '61.25'],
    ],
    check: (l) => {
      expect(l[1]!.label).toBe(' (minimum 3 h per shift)');
      expect(l[1]!.rule).toBe('oncall+minimum');
    },
  },
  {
    name: 'On-call: two calls on one day each get the 3-hour minimum',
    card: ONCALL,
    entries: () => [shift('2026-03-04 10:00', '2026-03-04 11:00'), shift('2026-03-04 14:00', '2026-03-04 14:30')],
    lines: [
      ['1.00', '35.00', '35.00'],
      ['2.00', '35.00', '70.00'],
      ['0.50', '35.00', '17.50'],
      ['2.50', '35.00', '87.50'],
    ],
  },
  {
    name: 'On-call: a 4-hour call is above the minimum',
    card: ONCALL,
    entries: () => [shift('2026-03-04 10:00', '2026-03-04 14:00')],
    lines: [['4.00', '35.00', '140.00']],
  },

  // ---- Overtime: base 30.00, >10 h/day +25%, >40 h/week +50%, highest only ------------------------
  {
    name: 'Overtime: a 12-hour day has 2 daily overtime hours',
    card: OVERTIME(),
    entries: () => [shift('2026-03-04 07:00', '2026-03-04 19:00')],
    lines: [
      ['10.00', '30.00', '300.00'],
      ['2.00', '37.50', '75.00'],
    ],
  },
  {
    name: 'Overtime: two shifts on one day count together in chronological order',
    card: OVERTIME(),
    entries: () => [shift('2026-03-04 14:00', '2026-03-04 20:00'), shift('2026-03-04 07:00', '2026-03-04 13:00')],
    lines: [
      ['4.00', '30.00', '120.00'],
      ['2.00', '37.50', '75.00'],
      ['6.00', '30.00', '180.00'],
    ],
  },
  {
    name: 'Overtime: Friday after four 10-hour days is all weekly overtime',
    card: OVERTIME(),
    entries: () => [
      ...['02', '03', '04', '05'].map((d) => shift(`2026-03-${d} 07:00`, `2026-03-${d} 17:00`)),
      shift('2026-03-06 07:00', '2026-03-06 15:00'),
    ],
    lines: [
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
      ['8.00', '45.00', '360.00'],
    ],
  },
  {
    name: 'Overtime: input order does not change which hours are overtime',
    card: OVERTIME(),
    entries: () =>
      [
        ...['02', '03', '04', '05'].map((d) => shift(`2026-03-${d} 07:00`, `2026-03-${d} 17:00`)),
        shift('2026-03-06 07:00', '2026-03-06 15:00'),
      ].reverse(),
    lines: [
      ['8.00', '45.00', '360.00'],
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
    ],
  },
  {
    name: 'Overtime: a 12-hour Friday beyond 40 h takes weekly overtime, the highest, for all of it',
    card: OVERTIME(),
    entries: () => [
      ...['02', '03', '04', '05'].map((d) => shift(`2026-03-${d} 07:00`, `2026-03-${d} 17:00`)),
      shift('2026-03-06 07:00', '2026-03-06 19:00'),
    ],
    lines: [
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
      ['10.00', '45.00', '450.00'],
      ['2.00', '45.00', '90.00'],
    ],
  },
  {
    name: 'Overtime: with weeks starting on Sunday, the Sunday shift counts towards Thursday',
    card: OVERTIME('sunday'),
    entries: () => ['01', '02', '03', '04', '05'].map((d) => shift(`2026-03-${d} 07:00`, `2026-03-${d} 17:00`)),
    lines: [
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
      ['10.00', '45.00', '450.00'],
    ],
  },
  {
    name: 'Overtime: with weeks starting on Monday, the same Sunday shift belongs to the week before',
    card: OVERTIME('monday'),
    entries: () => ['01', '02', '03', '04', '05'].map((d) => shift(`2026-03-${d} 07:00`, `2026-03-${d} 17:00`)),
    lines: [
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
      ['10.00', '30.00', '300.00'],
    ],
  },

  // ---- Staffing: markup 1.8, fixed event rate, 4-dp unit prices, extras, non-billable ------------
  {
    name: 'Staffing: bill rate is the entry cost rate 20.00 × 1.8',
    card: STAFFING,
    entries: () => [shift('2026-03-04 09:00', '2026-03-04 17:00', { costRate: '20.00' })],
    lines: [['8.00', '36.0000', '288.00']],
  },
  {
    name: 'Staffing: without a cost rate the configured cleaner pay rate 15.00 × 1.8 applies',
    card: STAFFING,
    entries: () => [shift('2026-03-04 09:00', '2026-03-04 13:00', { role: 'Cleaner' })],
    lines: [['4.00', '27.0000', '108.00']],
  },
  {
    name: 'Staffing: without any pay rate the entry cannot be priced',
    card: STAFFING,
    entries: () => [shift('2026-03-04 09:00', '2026-03-04 13:00', { role: 'Driver' })],
    fails: { reason: /needs a pay rate/, field: 'costRate' },
  },
  {
    name: 'Staffing: an event shift has a fixed price whatever its length',
    card: STAFFING,
    entries: () => [shift('2026-03-07 18:00', '2026-03-08 02:00', { project: 'Event' })],
    lines: [['1.00', '250.0000', '250.00']],
    check: (l) => expect(l[0]!.kind).toBe('fee'),
  },
  {
    name: 'Staffing: a 4-decimal unit price keeps the exact amount for the invoice line to round',
    card: STAFFING,
    entries: () => [shift('2026-03-04 09:00', '2026-03-04 10:30', { project: 'Precise' })],
    lines: [['1.50', '33.3333', '50.00']],
    check: (l) => expect(l[0]!.amount).toBe('49.999950'),
  },
  {
    name: 'Staffing: kilometres are an expense line with their own tax type',
    card: STAFFING,
    entries: () => [shift('2026-03-04 09:00', '2026-03-04 10:00', { role: 'cleaner', extras: [{ kind: 'km', quantity: '42' }] })],
    lines: [
      ['1.00', '27.0000', '27.00'],
      ['42', '0.23', '9.66'],
    ],
    check: (l) => {
      expect(l[1]!.kind).toBe('expense');
      expect(l[1]!.taxType).toBe('EXEMPT');
      expect(l[1]!.label).toBe('Travel');
    },
  },
  {
    name: 'Staffing: a shift fee priced by the source is a fee line',
    card: STAFFING,
    entries: () => [
      shift('2026-03-04 09:00', '2026-03-04 10:00', {
        role: 'cleaner',
        extras: [{ kind: 'shift-fee', quantity: '1', unitPrice: '12.50' }],
      }),
    ],
    lines: [
      ['1.00', '27.0000', '27.00'],
      ['1', '12.50', '12.50'],
    ],
    check: (l) => expect(l[1]!.kind).toBe('fee'),
  },
  {
    name: 'Staffing: an extra with no price anywhere quarantines the entry',
    card: STAFFING,
    entries: () => [shift('2026-03-04 09:00', '2026-03-04 10:00', { role: 'cleaner', extras: [{ kind: 'parking', quantity: '1' }] })],
    fails: { reason: /extra "parking" has no unit price/, field: 'extras[0].unitPrice' },
  },
  {
    name: 'Staffing: an entry flagged non-billable is kept but not billed',
    card: STAFFING,
    entries: () => [shift('2026-03-04 09:00', '2026-03-04 10:00', { billable: false })],
    excluded: /non-billable/,
  },
  {
    name: 'Staffing: an internal project is non-billable by pattern',
    card: STAFFING,
    entries: () => [shift('2026-03-04 09:00', '2026-03-04 10:00', { project: 'Internal training' })],
    excluded: /"internal": internal work/,
  },
  {
    name: 'Staffing: an entry already invoiced at the source is not billed again',
    card: STAFFING,
    entries: () => [shift('2026-03-04 09:00', '2026-03-04 10:00', { billedAtSource: true })],
    excluded: /already invoiced/,
  },
];

describe('worked cases from realistic rate cards', () => {
  it('Given the table, When counted, Then it has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  for (const c of cases) {
    it(`Given ${c.name}, When priced, Then the hand-computed lines come out`, () => {
      const { rates, issues } = ratesFromYaml(c.card);
      expect(issues).toEqual([]);
      const outcomes = rates.price(inputs(c.entries()));
      if (c.fails) {
        const o = outcomes[0]!;
        expect(o.ok).toBe(false);
        if (!o.ok) {
          expect(o.reason).toMatch(c.fails.reason);
          if (c.fails.field) expect(o.field).toBe(c.fails.field);
        }
        return;
      }
      if (c.excluded) {
        const o = outcomes[0]!;
        expect(o.ok && o.lines.length === 0 && o.excluded).toMatch(c.excluded);
        return;
      }
      const lines = outcomes.flatMap((o) => {
        if (!o.ok) throw new Error(o.reason);
        return o.lines;
      });
      expect(lines.map((l) => [l.quantity, l.unitPrice, dec(l.amount).toFixed(2)])).toEqual(c.lines);
      for (const l of lines) expect(dec(l.amount).eq(dec(l.quantity).times(l.unitPrice))).toBe(true);
      c.check?.(lines);
    });
  }

  it('Given the on-call card, When an invoice totals 140.00, Then a minimum line tops it up to 500.00', () => {
    const { rates } = ratesFromYaml(ONCALL);
    const o = rates.price(inputs([shift('2026-03-04 10:00', '2026-03-04 14:00')]))[0]!;
    if (!o.ok) throw new Error(o.reason);
    const adj = rates.invoiceAdjustments('acme', { start: '2026-03-01', end: '2026-03-31' }, o.lines);
    expect(adj.map((l) => [l.kind, l.quantity, l.unitPrice, l.amount])).toEqual([['minimum', '1', '360.00', '360.00']]);
    expect(
      rates.invoiceAdjustments('acme', { start: '2026-03-01', end: '2026-03-31' }, [...o.lines, ...o.lines, ...o.lines, ...o.lines]),
    ).toEqual([]);
  });
});
