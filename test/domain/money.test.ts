import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { dec, fixed, lineAmount, roundHalfUp, sum } from '../../src/domain/money';

/** Reference implementation in integer arithmetic: amounts in 1/10000 of a cent, half-up. */
function referenceLineAmountCents(quantityHundredths: bigint, priceTenThousandths: bigint): bigint {
  const product = quantityHundredths * priceTenThousandths; // in 1e-6 units of currency
  const sign = product < 0n ? -1n : 1n;
  const abs = product * sign;
  return sign * ((abs + 5000n) / 10000n); // to cents (1e-2), half away from zero
}

describe('money', () => {
  it('Given the classic float traps When computed exactly Then the results are the decimal ones', () => {
    expect(fixed(roundHalfUp('1.005', 2))).toBe('1.01');
    expect(dec('8.325').times(100).toString()).toBe('832.5');
    expect(fixed(lineAmount('7.58', '42.50'))).toBe('322.15');
    expect(fixed(sum(['0.1', '0.2']))).toBe('0.30');
  });

  it('Given any quantity (2 dp) and unit price (4 dp) When the line amount is computed Then it equals the integer-arithmetic reference, half-up to cents', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -1_000_000n, max: 1_000_000n }), fc.bigInt({ min: 0n, max: 100_000_000n }), (q, p) => {
        const quantity = dec(q.toString()).div(100);
        const price = dec(p.toString()).div(10_000);
        const cents = referenceLineAmountCents(q, p);
        expect(lineAmount(quantity, price).times(100).toString()).toBe(cents.toString());
      }),
      { numRuns: 2000 },
    );
  });

  it('Given any list of amounts When summed in any order Then the total is the same', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: -10_000_000n, max: 10_000_000n }), { maxLength: 50 }), (cents) => {
        const amounts = cents.map((c) => dec(c.toString()).div(100));
        const forward = sum(amounts);
        const backward = sum([...amounts].reverse());
        expect(forward.eq(backward)).toBe(true);
        expect(forward.times(100).toString()).toBe(cents.reduce((a, b) => a + b, 0n).toString());
      }),
    );
  });
});
