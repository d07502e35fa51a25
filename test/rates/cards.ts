/** Realistic rate cards used by the worked cases, the property tests and the benchmark. */

/** Dutch-style card: Mon–Fri 00–06 +50 %, 18–22 +20 %, 22–24 +40 %, Sat/Sun +70 %, holiday +100 %, highest only. */
export const DUTCH = `
rates:
  rulesets:
    dutch:
      stacking: max
      holidays: { country: NL }
      base:
        - { id: std, hourly: 40.00, until: 2026-06-30 }
        - { id: std-july, hourly: 42.00, from: 2026-07-01 }
      surcharges:
        - { id: early, label: early, percent: 50, days: [mon, tue, wed, thu, fri], time: { from: '00:00', to: '06:00' } }
        - { id: evening, label: evening, percent: 20, days: [mon, tue, wed, thu, fri], time: { from: '18:00', to: '22:00' } }
        - { id: night, label: night, percent: 40, days: [mon, tue, wed, thu, fri], time: { from: '22:00', to: '24:00' } }
        - { id: weekend, label: weekend, percent: 70, days: [sat, sun] }
        - { id: holiday, label: holiday, percent: 100, holiday: true }
`;

/** The Dutch card's base rate only (the benchmark baseline). */
export const DUTCH_BASE_ONLY = `
rates:
  rulesets:
    dutch:
      base:
        - { id: std, hourly: 40.00, until: 2026-06-30 }
        - { id: std-july, hourly: 42.00, from: 2026-07-01 }
`;

/** Retail: evenings +25 %, Saturday +50 %, Sunday and holidays +100 %, highest only, 15-min rounding. */
export const RETAIL = `
rates:
  rulesets:
    retail:
      stacking: max
      rounding: { time: { incrementMinutes: 15, direction: nearest } }
      holidays:
        country: NL
        add: [{ date: 2026-04-03, name: Goede Vrijdag }]
        remove: [2026-05-25]
      base: [{ id: shop, hourly: 25.00 }]
      surcharges:
        - { id: evening, percent: 25, time: { from: '18:00', to: '24:00' } }
        - { id: saturday, percent: 50, days: [sat] }
        - { id: sunday, percent: 100, days: [sun] }
        - { id: holiday, percent: 100, holiday: true }
`;

/** Security: night 22–06 +30 % and weekend +20 % add up; stand-by +5.00/h absolute. */
export const SECURITY = `
rates:
  rulesets:
    security:
      stacking: sum
      base: [{ id: guard, hourly: 30.00 }]
      surcharges:
        - { id: night, percent: 30, time: { from: '22:00', to: '06:00' } }
        - { id: weekend, percent: 20, days: [sat, sun] }
        - { id: standby, amount: 5.00, match: { tags: [standby] } }
`;

/** Care: night counted only in whole 15-minute blocks. */
export const CARE = `
rates:
  rulesets:
    care:
      base: [{ id: care, hourly: 20.00 }]
      surcharges:
        - { id: night, percent: 50, time: { from: '22:00', to: '06:00' }, blockMinutes: 15 }
`;

/** Cleaning: +10 % on the whole shift only if it starts before 07:00 or ends after 20:00. */
export const CLEANING = `
rates:
  rulesets:
    cleaning:
      base: [{ id: clean, hourly: 20.00 }]
      surcharges:
        - { id: irregular, percent: 10, onlyIf: { startsBefore: '07:00', endsAfter: '20:00' } }
`;

/** On-call: 3-hour minimum per call, rounded up to 15 minutes. */
export const ONCALL = `
rates:
  rulesets:
    oncall:
      rounding: { time: { incrementMinutes: 15, direction: up } }
      minimums: { shiftHours: 3, invoiceAmount: 500 }
      base: [{ id: oncall, hourly: 35.00 }]
`;

/** Overtime: more than 10 h/day +25 %, more than 40 h/week +50 %, highest only. */
export const OVERTIME = (weekStart = 'monday') => `
rates:
  rulesets:
    ot:
      stacking: max
      base: [{ id: ops, hourly: 30.00 }]
      overtime:
        weekStart: ${weekStart}
        rules:
          - { id: daily-ot, per: day, afterHours: 10, percent: 25 }
          - { id: weekly-ot, per: week, afterHours: 40, percent: 50 }
`;

/** Staffing: markup on pay rates, a fixed event rate, extras and non-billable patterns. */
export const STAFFING = `
rates:
  rulesets:
    staffing:
      base:
        - { id: markup, markup: 1.8 }
        - { id: event, match: { project: Event }, fixed: 250 }
        - { id: precise, match: { project: Precise }, hourly: 33.3333 }
      rounding: { unitPriceDecimals: 4 }
      payRates:
        - { match: { role: cleaner }, rate: 15.00 }
      extras:
        - { kind: km, line: expense, unitPrice: 0.23, label: Travel, taxType: EXEMPT }
        - { kind: shift-fee, line: fee }
      nonBillable:
        - { id: internal, project: 'Internal*', reason: internal work }
`;

/** The Dutch card plus the statutory breaks (NL: 30 min after 5.5 h, 45 min after 10 h). */
export const DUTCH_BREAKS = DUTCH.replace(
  '      stacking: max\n',
  '      stacking: max\n      breaks:\n        position: middle\n        statutory:\n          - { afterHours: 5.5, minutes: 30 }\n          - { afterHours: 10, minutes: 45 }\n',
);
