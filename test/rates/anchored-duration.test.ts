import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { dec } from '../../src/domain/money';
import { formatExplain } from '../../src/rates';
import { entry, inputs, localToIso, ratesFromYaml, ZONE } from './helpers';

/**
 * The billed quantity is the entry's duration, anchored at its start: an `end` that disagrees
 * (a source's display times, or an entry stored before mappers recomputed `end`) never changes
 * what is billed, and time bands split the anchored interval start → start + duration.
 */
const CARD = `
rates:
  rulesets:
    card:
      base:
        - { id: std, hourly: 100.00 }
      surcharges:
        - { id: evening, percent: 50, time: { from: '17:00', to: '22:00' } }
      rounding: { quantityDecimals: 2 }
`;

describe('a duration that disagrees with the interval', () => {
  it('Given hours 2.11 with 15:00–17:00 times and an evening band from 17:00, When priced, Then 2.11 h are billed: 2.00 h plain and 0.11 h in the band', () => {
    const { rates } = ratesFromYaml(CARD);
    // Harvest's documented example: hours 2.11, started 3:00pm, ended 5:00pm (display values).
    const e = entry({
      date: '2026-03-02',
      start: localToIso('2026-03-02 15:00'),
      end: localToIso('2026-03-02 17:00'),
      durationSeconds: 7596,
    });
    const o = rates.price(inputs([e]))[0]!;
    if (!o.ok) throw new Error(o.reason);
    expect(o.lines.map((l) => [l.quantity, l.unitPrice, l.rule])).toEqual([
      ['2.00', '100.00', 'std'],
      ['0.11', '150.00', 'std+evening'],
    ]);
    expect(o.lines[1]!.end).toBe(new Date(Date.parse(e.start!) + 7596_000).toISOString());
    const total = o.lines.reduce((s, l) => s.plus(l.amount), dec(0));
    expect(total.toFixed(2)).toBe('216.50');
  });

  it('Given the same start and duration, When the stored end differs (or is absent), Then the pieces and amounts are identical', () => {
    const { rates } = ratesFromYaml(CARD);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 23 * 60 }),
        fc.integer({ min: 1, max: 14 * 3600 }),
        fc.integer({ min: -6 * 3600, max: 6 * 3600 }),
        (startMin, seconds, drift) => {
          const start = new Date(Date.parse(localToIso('2026-03-02 00:00')) + startMin * 60_000).toISOString();
          const anchored = new Date(Date.parse(start) + seconds * 1000).toISOString();
          const skewed = new Date(Math.max(Date.parse(start), Date.parse(anchored) + drift * 1000)).toISOString();
          const price = (end: string | undefined) => {
            const o = rates.price(inputs([entry({ externalId: 'x', start, end, durationSeconds: seconds })]))[0]!;
            if (!o.ok) throw new Error(o.reason);
            return o.lines.map((l) => [l.start, l.end, l.quantity, l.unitPrice, l.amount]);
          };
          const reference = price(anchored);
          expect(price(skewed)).toEqual(reference);
          expect(price(undefined)).toEqual(reference);
          // The quantities add up to the duration (to the billed precision).
          const hours = reference.reduce((s, l) => s.plus(l[2]!), dec(0));
          expect(
            hours
              .minus(dec(seconds).div(3600))
              .abs()
              .lte(0.01 * reference.length),
          ).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('Given an entry whose source times disagree with its duration, When explained, Then the billed interval and the source values are both shown', () => {
    const { rates } = ratesFromYaml(CARD);
    const start = localToIso('2026-03-02 15:00');
    const e = entry({
      date: '2026-03-02',
      start,
      end: new Date(Date.parse(start) + 7596_000).toISOString(),
      durationSeconds: 7596,
      provenance: {
        fetchedAt: '2026-03-31T00:00:00Z',
        sourceTimes: {
          duration: { field: 'hours', value: '2.11' },
          start: { field: 'started_time', value: '3:00pm' },
          end: { field: 'ended_time', value: '5:00pm' },
        },
      },
    });
    const o = rates.price(inputs([e]))[0]!;
    if (!o.ok) throw new Error(o.reason);
    const text = formatExplain(e, o.lines, undefined, ZONE);
    expect(text).toContain('worked 2026-03-02 15:00 – 2026-03-02 17:06 (Europe/Amsterdam): 2:07 h gross');
    expect(text).toContain('source says hours 2.11 (billed); started_time 3:00pm, ended_time 5:00pm');
  });
});
