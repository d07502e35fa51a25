import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { dec, roundHalfUp } from '../../src/domain/money';
import type { RatedLine } from '../../src/domain/rated-line';
import { splitInterval } from '../../src/rates/rate.engine';
import { ZoneDays } from '../../src/rates/zone-days';
import { DUTCH, OVERTIME } from './cards';
import { client, entry, inputs, ratesFromYaml } from './helpers';

const ZONES = ['Europe/Amsterdam', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Sao_Paulo'];
const T0 = Date.parse('2025-01-01T00:00:00Z');
const YEAR = 2 * 365 * 86_400_000;
const MINUTE = 60_000;

/** A shift starting anywhere in 2025–2026 (minute precision), 0–30 hours long, with a break. */
const shiftArb = fc.record({
  startMin: fc.integer({ min: 0, max: YEAR / MINUTE }),
  lengthMin: fc.integer({ min: 0, max: 30 * 60 }),
  breakMin: fc.integer({ min: 0, max: 60 }),
  worker: fc.constantFrom('Anna', 'Bob', 'Chen'),
  dateOnly: fc.boolean(),
});

function toEntry(s: { startMin: number; lengthMin: number; breakMin: number; worker: string; dateOnly: boolean }, i: number) {
  const start = T0 + s.startMin * MINUTE;
  const end = start + s.lengthMin * MINUTE;
  const date = new Date(start).toISOString().slice(0, 10);
  return entry({
    externalId: `p${i}`,
    worker: { name: s.worker },
    date,
    ...(s.dateOnly ? {} : { start: new Date(start).toISOString(), end: new Date(end).toISOString() }),
    durationSeconds: s.lengthMin * 60,
    breakSeconds: Math.min(s.breakMin, s.lengthMin) * 60,
  });
}

function linesOf(outcome: ReturnType<ReturnType<typeof ratesFromYaml>['rates']['price']>[number]): RatedLine[] {
  if (!outcome.ok) throw new Error(outcome.reason);
  return outcome.lines;
}

describe('rate engine properties', () => {
  it('Given any interval in any zone, When split at midnights and band edges, Then the pieces tile it exactly', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.integer({ min: 0, max: YEAR }),
        fc.integer({ min: 0, max: 3 * 86_400_000 }),
        (zone, off, len) => {
          const zd = new ZoneDays(zone, [360, 1080, 1320]);
          const a = T0 + off;
          const pieces = splitInterval(zd, a, a + len);
          let t = a;
          for (const p of pieces) {
            expect(p.s).toBe(t);
            expect(p.e).toBeGreaterThan(p.s);
            expect(p.s).toBeGreaterThanOrEqual(p.day.startMs);
            expect(p.e).toBeLessThanOrEqual(p.day.endMs);
            t = p.e;
          }
          expect(t).toBe(a + len);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('Given any shift on the Dutch card, When priced, Then the quantities add up to the worked hours and no time is created or lost', () => {
    const { rates } = ratesFromYaml(DUTCH);
    fc.assert(
      fc.property(shiftArb, (s) => {
        const e = toEntry(s, 0);
        const lines = linesOf(rates.price(inputs([e]))[0]!);
        const netMin = s.lengthMin - Math.min(s.breakMin, s.lengthMin);
        const q = lines.reduce((acc, l) => acc.plus(l.quantity), dec(0));
        expect(q.toFixed(2)).toBe(roundHalfUp(dec(netMin).div(60), 2).toFixed(2));
        // Worked time of the pieces (their spans) adds up to the net time exactly.
        if (!s.dateOnly) {
          const spanMs = lines.reduce((acc, l) => acc + (Date.parse(l.end!) - Date.parse(l.start!)), 0);
          expect(spanMs).toBe(netMin * MINUTE);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('Given many shifts, When lines are grouped by unit price, Then the piece amounts sum to quantity × unit price of the group', () => {
    const { rates } = ratesFromYaml(DUTCH);
    fc.assert(
      fc.property(fc.array(shiftArb, { minLength: 1, maxLength: 20 }), (shifts) => {
        const lines = rates.price(inputs(shifts.map(toEntry))).flatMap(linesOf);
        const groups = new Map<string, RatedLine[]>();
        for (const l of lines) groups.set(l.unitPrice, [...(groups.get(l.unitPrice) ?? []), l]);
        for (const [price, group] of groups) {
          const amounts = group.reduce((acc, l) => acc.plus(l.amount), dec(0));
          const qty = group.reduce((acc, l) => acc.plus(l.quantity), dec(0));
          expect(amounts.eq(qty.times(price))).toBe(true);
          expect(roundHalfUp(amounts, 2).eq(roundHalfUp(qty.times(price), 2))).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('Given a batch of shifts with overtime and surcharges, When priced in any order, Then every entry gets the same lines', () => {
    const card = OVERTIME().replace(
      '      base:',
      "      holidays: { country: NL }\n      surcharges:\n        - { id: night, percent: 40, time: { from: '22:00', to: '06:00' } }\n        - { id: holiday, percent: 100, holiday: true }\n      base:",
    );
    const { rates, issues } = ratesFromYaml(card);
    expect(issues).toEqual([]);
    const compact = fc.record({
      startMin: fc.integer({ min: 0, max: 14 * 24 * 60 }),
      lengthMin: fc.integer({ min: 0, max: 16 * 60 }),
      breakMin: fc.integer({ min: 0, max: 45 }),
      worker: fc.constantFrom('Anna', 'Bob'),
      dateOnly: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(compact, { minLength: 1, maxLength: 25 }), fc.integer(), (shifts, seed) => {
        const entries = shifts.map(toEntry);
        const shuffled = [...entries].sort((x, y) => ((hash(x.externalId) ^ seed) >>> 0) - ((hash(y.externalId) ^ seed) >>> 0));
        const a = rates.price(inputs(entries));
        const b = rates.price(inputs(shuffled));
        const byId = new Map(b.map((o) => [o.externalId, o]));
        for (const o of a) expect(byId.get(o.externalId)).toEqual(o);
        // And twice the same input gives the same output.
        expect(rates.price(inputs(entries))).toEqual(a);
      }),
      { numRuns: 150 },
    );
  });

  it('Given a card without surcharges, When any shift is priced, Then the amount is base rate × rounded hours', () => {
    fc.assert(
      fc.property(
        shiftArb,
        fc.constantFrom(1, 5, 6, 10, 15, 30),
        fc.constantFrom('up', 'down', 'nearest'),
        fc.integer({ min: 1, max: 25_000 }),
        (s, inc, dir, cents) => {
          const rate = dec(cents).div(100).toFixed(2);
          const { rates } = ratesFromYaml(`
rates:
  rulesets:
    plain:
      rounding: { time: { incrementMinutes: ${inc}, direction: ${dir} } }
      base: [{ id: base, hourly: '${rate}' }]
`);
          const lines = linesOf(rates.price(inputs([toEntry(s, 0)]))[0]!);
          const net = s.lengthMin - Math.min(s.breakMin, s.lengthMin);
          const rounded =
            dir === 'up'
              ? Math.ceil(net / inc) * inc
              : dir === 'down'
                ? Math.floor(net / inc) * inc
                : Math.floor((net + inc / 2) / inc) * inc;
          const hours = roundHalfUp(dec(rounded).div(60), 2);
          const total = lines.reduce((acc, l) => acc.plus(l.amount), dec(0));
          expect(total.eq(hours.times(rate))).toBe(true);
          for (const l of lines) expect(l.unitPrice).toBe(rate);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('Given the batch key, When entries of one worker fall in one week, Then they share it and other workers do not', () => {
    const { rates } = ratesFromYaml(OVERTIME());
    const c = client('acme');
    const mk = (date: string, name: string) => inputs([entry({ date, worker: { name } })], c)[0]!;
    expect(rates.batchKey(mk('2026-03-02', 'Anna'))).toBe(rates.batchKey(mk('2026-03-08', 'anna')));
    expect(rates.batchKey(mk('2026-03-02', 'Anna'))).not.toBe(rates.batchKey(mk('2026-03-09', 'Anna')));
    expect(rates.batchKey(mk('2026-03-02', 'Anna'))).not.toBe(rates.batchKey(mk('2026-03-02', 'Bob')));
  });
});

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h;
}
