import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { buildInvoiceDraft, renderDescription } from '../../src/stages/invoice-builder';
import { periodOf } from '../../src/stages/periods';
import type { RatedLine } from '../../src/domain/rated-line';
import { dec, sum } from '../../src/domain/money';
import { client } from '../support/entries';

function line(over: Partial<RatedLine> & { externalId: string }): RatedLine {
  const quantity = over.quantity ?? '1';
  const unitPrice = over.unitPrice ?? '65.00';
  return {
    sourceId: 'sheet',
    piece: 0,
    kind: 'time',
    clientId: 'acme',
    currency: 'EUR',
    date: '2026-03-02',
    hoursRaw: quantity,
    quantity,
    unitPrice,
    amount: dec(quantity).times(unitPrice).toString(),
    rule: 'default',
    label: '',
    worker: 'Anna',
    project: 'Website',
    trace: [],
    ...over,
  };
}

const period = periodOf('2026-03-02', { unit: 'month' });

const arbLine = fc
  .record({
    id: fc.integer({ min: 1, max: 40 }),
    worker: fc.constantFrom('Anna', 'Bram', 'Chris'),
    project: fc.constantFrom('Website', 'Support'),
    day: fc.integer({ min: 1, max: 28 }),
    quarterHours: fc.integer({ min: 1, max: 48 }),
    price: fc.constantFrom('65.00', '42.50', '33.33', '70.1234', '0.01'),
  })
  .map((r) =>
    line({
      externalId: `e${r.id}`,
      worker: r.worker,
      project: r.project,
      date: `2026-03-${String(r.day).padStart(2, '0')}`,
      quantity: dec(r.quarterHours).div(4).toString(),
      unitPrice: r.price,
    }),
  );

const groupings = fc.constantFrom<ReturnType<typeof client>['lines']['groupBy']>(
  'entry',
  ['worker'],
  ['worker', 'project'],
  ['date'],
  ['project', 'rule'],
);

describe('invoice builder', () => {
  it('Given any lines and grouping When assembled Then hours in equal hours out and the total is the exact sum of cent-rounded line amounts', () => {
    fc.assert(
      fc.property(fc.array(arbLine, { minLength: 1, maxLength: 60 }), groupings, (lines, groupBy) => {
        const c = client({ lines: { groupBy, description: '{{project}} — {{worker}}' } });
        const items = lines.map((l, i) => ({
          entryKey: `sheet:${l.externalId}-${i}`,
          lines: [{ ...l, externalId: `${l.externalId}-${i}` }],
        }));
        const draft = buildInvoiceDraft({ client: c, period, destinationId: 'files', sequence: 1, items });
        expect(dec(draft.hours).eq(sum(lines.map((l) => l.quantity)))).toBe(true);
        expect(dec(draft.total).eq(sum(draft.lines.map((l) => l.amount)))).toBe(true);
        for (const l of draft.lines) {
          expect(dec(l.amount).eq(dec(l.quantity).times(l.unitPrice).toDecimalPlaces(2, 4))).toBe(true);
          expect(l.amount).toMatch(/^-?\d+\.\d{2}$/);
        }
        // Every entry is billed by the invoice exactly once per unit price it has.
        const billed = draft.lines.flatMap((l) => l.entryIds);
        expect(new Set(billed).size).toBe(items.length);
      }),
      { numRuns: 300 },
    );
  });

  it('Given the same lines in any order When assembled Then the draft is identical (deterministic key, lines and hash)', () => {
    fc.assert(
      fc.property(fc.array(arbLine, { minLength: 1, maxLength: 30 }), groupings, fc.integer(), (lines, groupBy, seed) => {
        const c = client({ lines: { groupBy, description: '{{worker}}' } });
        const items = lines.map((l, i) => ({ entryKey: `sheet:k${i}`, lines: [l] }));
        const shuffled = [...items].sort((a, b) => ((a.entryKey.length * 31 + seed) % 7) - ((b.entryKey.length * 17 + seed) % 5));
        const a = buildInvoiceDraft({ client: c, period, destinationId: 'files', sequence: 1, items });
        const b = buildInvoiceDraft({ client: c, period, destinationId: 'files', sequence: 1, items: [...shuffled].reverse() });
        expect(b).toEqual(a);
      }),
      { numRuns: 200 },
    );
  });

  it('Given two pieces at different unit prices When grouped by worker Then they stay on separate lines', () => {
    const c = client({ lines: { groupBy: ['worker'], description: '{{worker}}{{label}}' } });
    const draft = buildInvoiceDraft({
      client: c,
      period,
      destinationId: 'files',
      sequence: 1,
      items: [
        {
          entryKey: 'sheet:a',
          lines: [
            line({ externalId: 'a', quantity: '6', unitPrice: '65.00' }),
            line({ externalId: 'a', piece: 1, quantity: '2', unitPrice: '91.00', label: ' (night +40%)' }),
          ],
        },
      ],
    });
    expect(draft.lines.map((l) => [l.description, l.quantity, l.unitPrice, l.amount])).toEqual([
      ['Anna', '6', '65.00', '390.00'],
      ['Anna (night +40%)', '2', '91.00', '182.00'],
    ]);
    expect(draft.total).toBe('572.00');
  });

  it('Given the classic float trap When a line is 7.58 h at 42.50 Then the amount is 322.15 exactly', () => {
    const draft = buildInvoiceDraft({
      client: client(),
      period,
      destinationId: 'files',
      sequence: 1,
      items: [{ entryKey: 'sheet:a', lines: [line({ externalId: 'a', quantity: '7.58', unitPrice: '42.50' })] }],
    });
    expect(draft.lines[0]!.amount).toBe('322.15');
    expect(draft.total).toBe('322.15');
  });

  it('Given a half-cent line amount When rounded Then it rounds half up', () => {
    // 0.25 h × 33.33 = 8.3325 → 8.33; 0.5 h × 33.33 = 16.665 → 16.67
    const draft = buildInvoiceDraft({
      client: client({ lines: { groupBy: 'entry', description: '{{worker}}' } }),
      period,
      destinationId: 'files',
      sequence: 1,
      items: [
        { entryKey: 'sheet:a', lines: [line({ externalId: 'a', quantity: '0.25', unitPrice: '33.33' })] },
        { entryKey: 'sheet:b', lines: [line({ externalId: 'b', quantity: '0.5', unitPrice: '33.33', date: '2026-03-03' })] },
      ],
    });
    expect(draft.lines.map((l) => l.amount)).toEqual(['8.33', '16.67']);
    expect(draft.total).toBe('25.00');
  });

  it('Given a template with values that differ within a line When rendered Then those values are left out cleanly', () => {
    const lines = [line({ externalId: 'a', worker: 'Anna' }), line({ externalId: 'b', worker: 'Bram' })];
    expect(renderDescription('{{project}} — {{worker}}', lines, [])).toBe('Website');
    expect(renderDescription('{{worker}} ({{date}})', [lines[0]!], [])).toBe('Anna (2026-03-02)');
  });
});

describe('invoice hours and template variables', () => {
  it('Given a 1 h shift topped up to a 3 h call-out minimum and an invoice minimum When assembled Then hours are the worked 1 h, billedHours 3 h, and each line keeps its quantity', () => {
    const draft = buildInvoiceDraft({
      client: client({ lines: { groupBy: ['worker'], description: '{{worker}}{{label}}' } }),
      period,
      destinationId: 'files',
      sequence: 1,
      items: [
        {
          entryKey: 'sheet:a',
          lines: [
            line({ externalId: 'a', quantity: '1', unitPrice: '65.00' }),
            line({
              externalId: 'a',
              piece: 1,
              kind: 'minimum',
              hoursRaw: '0',
              quantity: '2',
              unitPrice: '65.00',
              rule: 'default+minimum',
              label: ' (minimum 3 h per shift)',
            }),
          ],
        },
      ],
      rates: {
        invoiceAdjustments: () => [
          line({
            externalId: 'minimum:acme',
            sourceId: 'hourbridge',
            kind: 'minimum',
            hoursRaw: '0',
            quantity: '1',
            unitPrice: '55.00',
            rule: 'minimum:invoice',
            label: 'Minimum invoice amount',
            worker: '',
          }),
        ],
      } as unknown as Parameters<typeof buildInvoiceDraft>[0]['rates'],
    });
    expect(draft.lines.map((l) => [l.kind, l.quantity, l.amount])).toEqual([
      ['time', '1', '65.00'],
      ['minimum', '2', '130.00'],
      ['minimum', '1', '55.00'],
    ]);
    expect(draft.hours).toBe('1');
    expect(draft.billedHours).toBe('3');
    expect(draft.total).toBe('250.00');
  });

  it('Given a shift from 22:00 to 06:00 Amsterdam time on one line When its description is rendered Then {{date}} is the local start date and {{start}}/{{end}} are local times', () => {
    // 21:00Z–05:00Z in winter is 22:00–06:00 in Amsterdam; the pieces are billed on two dates.
    const pieces = [
      line({ externalId: 'n', date: '2026-03-05', start: '2026-03-05T21:00:00.000Z', end: '2026-03-05T23:00:00.000Z', quantity: '2' }),
      line({
        externalId: 'n',
        piece: 1,
        date: '2026-03-06',
        start: '2026-03-05T23:00:00.000Z',
        end: '2026-03-06T05:00:00.000Z',
        quantity: '6',
      }),
    ];
    expect(renderDescription('{{date}} {{start}}–{{end}} {{worker}}', pieces, [], 'Europe/Amsterdam')).toBe('2026-03-05 22:00–06:00 Anna');
    const draft = buildInvoiceDraft({
      client: client({ lines: { groupBy: 'entry', description: '{{date}} {{start}}–{{end}}' } }),
      period,
      destinationId: 'files',
      sequence: 1,
      items: [{ entryKey: 'sheet:n', lines: pieces }],
    });
    expect(draft.lines.map((l) => l.description)).toEqual(['2026-03-05 22:00–06:00']);
    // Grouped by date, each line shows the date it is billed on and its own part of the shift.
    const byDate = buildInvoiceDraft({
      client: client({ lines: { groupBy: ['date'], description: '{{date}} {{start}}–{{end}}' } }),
      period,
      destinationId: 'files',
      sequence: 1,
      items: [{ entryKey: 'sheet:n', lines: pieces }],
    });
    expect(byDate.lines.map((l) => l.description)).toEqual(['2026-03-05 22:00–00:00', '2026-03-06 00:00–06:00']);
  });
});

describe('billing periods', () => {
  it('Given week periods starting Monday When a Sunday is billed Then it belongs to the week that started six days earlier', () => {
    expect(periodOf('2026-03-08', { unit: 'week', weekStart: 'monday' })).toEqual({
      start: '2026-03-02',
      end: '2026-03-08',
      label: '2026-W10',
    });
    expect(periodOf('2026-03-08', { unit: 'week', weekStart: 'sunday' })).toEqual({
      start: '2026-03-08',
      end: '2026-03-14',
      label: 'wk2026-03-08',
    });
  });

  it('Given any date When its period is computed Then the date lies inside it', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
        fc.constantFrom('day', 'week', 'month', 'two-weeks'),
        (d, unit) => {
          const date = d.toISOString().slice(0, 10);
          const cfg =
            unit === 'week'
              ? { unit: 'week' as const, weekStart: 'wednesday' as const }
              : unit === 'two-weeks'
                ? { unit: 'two-weeks' as const, weekStart: 'monday' as const, anchor: '2026-01-05' }
                : { unit: unit as 'day' | 'month' };
          const p = periodOf(date, cfg);
          expect(p.start <= date && date <= p.end).toBe(true);
        },
      ),
    );
  });
});
