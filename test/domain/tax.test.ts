import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { dec, sum } from '../../src/domain/money';
import {
  ClientVat,
  currencyDecimals,
  perLineTax,
  taxComparison,
  taxSummary,
  vatForLine,
  type LineVat,
  type TaxedLine,
} from '../../src/domain/tax';

/** Integer reference: tax in minor units of taxable cents × rate hundredths, half away from zero. */
function referenceTaxMinor(taxableCents: bigint, rateHundredths: bigint, decimals: number): bigint {
  // taxable (1e-2) × rate% (1e-2) / 100 → 1e-6 units; to 1e-decimals.
  const product = taxableCents * rateHundredths;
  const unit = 10n ** BigInt(6 - decimals);
  const sign = product < 0n ? -1n : 1n;
  return sign * ((product * sign + unit / 2n) / unit);
}

const vatArb: fc.Arbitrary<LineVat> = fc.oneof(
  fc.constantFrom('21', '9', '19', '7', '25.5', '5.5', '0.01').map((rate) => ({ category: 'S' as const, rate })),
  fc.constant({ category: 'Z' as const, rate: '0' }),
  fc.constant({ category: 'E' as const, rate: '0', exemptionReasonCode: 'VATEX-EU-132' }),
  fc.constant({ category: 'AE' as const, rate: '0', exemptionReasonCode: 'VATEX-EU-AE' }),
  fc.constant({ category: 'K' as const, rate: '0', exemptionReasonCode: 'VATEX-EU-IC' }),
  fc.constant({ category: 'G' as const, rate: '0', exemptionReasonCode: 'VATEX-EU-G' }),
);
const lineArb: fc.Arbitrary<TaxedLine> = fc.record({
  amount: fc.bigInt({ min: -5_000_000n, max: 50_000_000n }).map((c) => dec(c.toString()).div(100).toFixed(2)),
  vat: vatArb,
});

describe('EN 16931 tax model', () => {
  it('Given any lines, categories, rates and a 0- or 2-decimal currency When summarised Then the breakdown and totals keep BR-CO-10/13/14/15/16 and BR-CO-17 per row exactly', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { minLength: 1, maxLength: 40 }), fc.constantFrom('EUR', 'JPY', 'GBP', 'ISK'), (lines, currency) => {
        const s = taxSummary(lines, currency);
        const decimals = currencyDecimals(currency);
        expect(s.decimals).toBe(decimals);
        // Every line is in exactly one row, whose taxable amount is its lines' exact sum.
        for (const row of s.breakdown) {
          const mine = lines.filter(
            (l) =>
              l.vat.category === row.category &&
              dec(l.vat.rate).eq(row.rate) &&
              (l.vat.exemptionReasonCode ?? '') === (row.exemptionReasonCode ?? ''),
          );
          expect(dec(row.taxableAmount).eq(sum(mine.map((l) => l.amount)))).toBe(true);
          const ref = referenceTaxMinor(
            BigInt(dec(row.taxableAmount).times(100).toFixed(0)),
            BigInt(dec(row.rate).times(100).toFixed(0)),
            decimals,
          );
          expect(
            dec(row.taxAmount)
              .times(10 ** decimals)
              .toFixed(0),
          ).toBe(ref.toString());
          if (row.category !== 'S') expect(dec(row.taxAmount).isZero()).toBe(true);
        }
        expect(new Set(s.breakdown.map((r) => `${r.category}/${r.rate}/${r.exemptionReasonCode ?? ''}`)).size).toBe(s.breakdown.length);
        expect(dec(s.net).eq(sum(lines.map((l) => l.amount)))).toBe(true);
        expect(dec(s.net).eq(sum(s.breakdown.map((r) => r.taxableAmount)))).toBe(true);
        expect(dec(s.vat).eq(sum(s.breakdown.map((r) => r.taxAmount)))).toBe(true);
        expect(dec(s.gross).eq(dec(s.net).plus(s.vat))).toBe(true);
        expect(s.payable).toBe(s.gross);
      }),
      { numRuns: 500 },
    );
  });

  it('Given lines whose tax rounds differently per line When compared Then per-line tax (Xero) and per-row tax (EN 16931) can differ and both are shown', () => {
    // 3 × 0.05 at 21 %: per line 0.01 each (0.0105 → 0.01) = 0.03; per row 0.15 × 21 % = 0.0315 → 0.03.
    // 3 × 0.07 at 21 %: per line 0.01 each (0.0147) = 0.03; per row 0.21 × 21 % = 0.0441 → 0.04.
    const lines = ['0.07', '0.07', '0.07'].map((amount) => ({ amount, vat: { category: 'S' as const, rate: '21' } }));
    expect(taxSummary(lines, 'EUR').vat).toBe('0.04');
    expect(perLineTax(lines, 'EUR')).toBe('0.03');
  });

  it('Given a JPY invoice When summarised Then tax is rounded to whole yen', () => {
    const s = taxSummary([{ amount: '1234.50', vat: { category: 'S', rate: '10' } }], 'JPY');
    expect(s.breakdown[0]).toMatchObject({ taxableAmount: '1234.50', taxAmount: '123' });
    expect(s.gross).toBe('1357.50');
  });

  it('Given a client VAT config with line rules When a line is resolved Then the first matching rule wins, else the client default, with default exemption codes', () => {
    const vat = ClientVat.parse({
      category: 'AE',
      lines: [
        { match: { kind: 'expense' }, category: 'S', rate: 21 },
        { match: { taxType: 'EXEMPT' }, category: 'E', exemptionReason: 'Medical services' },
      ],
    });
    expect(vatForLine(vat, { kind: 'time' })).toEqual({ category: 'AE', rate: '0', exemptionReasonCode: 'VATEX-EU-AE' });
    expect(vatForLine(vat, { kind: 'expense', taxType: 'EXEMPT' })).toEqual({ category: 'S', rate: '21' });
    expect(vatForLine(vat, { kind: 'fee', taxType: 'EXEMPT' })).toEqual({ category: 'E', rate: '0', exemptionReason: 'Medical services' });
  });

  it('Given VAT configs that EN 16931 rejects When parsed Then each names what is wrong', () => {
    const problems = (v: unknown) => {
      const r = ClientVat.safeParse(v);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(problems({ category: 'S' })).toEqual(['rate: category S needs a rate above 0']);
    expect(problems({ category: 'Z', rate: 9 })).toEqual(['rate: category Z has rate 0 (leave it out), got 9']);
    expect(problems({ category: 'E' })[0]).toMatch(/category E needs exemptionReasonCode/);
    expect(problems({ category: 'S', rate: 21, exemptionReason: 'x' })[0]).toMatch(/takes no exemption reason/);
    expect(problems({ category: 'S', rate: '21.123' })[0]).toMatch(/expected a VAT rate/);
  });

  it('Given a package tax that rounds per line When compared with EN 16931 Then both figures are shown and why they differ; equal figures or no VAT model say nothing', () => {
    const doc = {
      currency: 'EUR',
      lines: ['0.07', '0.07', '0.07'].map((amount) => ({ amount, vat: { category: 'S' as const, rate: '21' } })),
    };
    expect(taxComparison(doc, '0.03')).toBe(
      "tax at the destination 0.03 differs from EN 16931's 0.04 (gross 0.24 vs 0.25): the package rounds tax per line, EN 16931 once per VAT category and rate",
    );
    expect(taxComparison(doc, '0.04')).toBeUndefined();
    expect(taxComparison(doc, '0.02')).toMatch(/the package's tax rates are not the client's vat \(per-line rounding would give 0.03\)/);
    expect(taxComparison({ currency: 'EUR', lines: [{ amount: '10.00' }] }, '2.10')).toBeUndefined();
  });
});
