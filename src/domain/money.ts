import Decimal from 'decimal.js';

/**
 * Exact decimal arithmetic for every amount and quantity in Hourbridge.
 * Binary floats are wrong for money ((1.005).toFixed(2) === "1.00"), so every amount is a
 * decimal.js value in memory and a decimal string at every boundary (ledger, JSON, config).
 */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
export type Money = Decimal;

/** A decimal written as a string, e.g. "42.50". The only way amounts cross module boundaries. */
export type DecimalString = string;

const DECIMAL_RE = /^-?\d+(\.\d+)?$/;

export function isDecimalString(value: string): boolean {
  return DECIMAL_RE.test(value);
}

export function dec(value: Decimal.Value): Decimal {
  return new Money(value);
}

/** Half-up rounding to `dp` decimals (the rule Xero and EN 16931 line amounts follow). */
export function roundHalfUp(value: Decimal.Value, dp: number): Decimal {
  return new Money(value).toDecimalPlaces(dp, Decimal.ROUND_HALF_UP);
}

/** Line amount: quantity × unit price, rounded half-up to cents. */
export function lineAmount(quantity: Decimal.Value, unitPrice: Decimal.Value): Decimal {
  return roundHalfUp(new Money(quantity).times(unitPrice), 2);
}

export function sum(values: Iterable<Decimal.Value>): Decimal {
  let total = new Money(0);
  for (const v of values) total = total.plus(v);
  return total;
}

/** Fixed-point text with exactly `dp` decimals, for display and for the ledger. */
export function fixed(value: Decimal.Value, dp = 2): string {
  return new Money(value).toFixed(dp, Decimal.ROUND_HALF_UP);
}
