import { dec } from '../domain/money';

/*
 * Exact fixed-point arithmetic on integers for the pricing hot path. A quantity with q decimals
 * and a unit price with p decimals are integers scaled by 10^q and 10^p; their product is the
 * exact amount scaled by 10^(q+p). All values stay far below 2^53 for realistic invoices
 * (checked, with a decimal.js fallback), so this is as exact as decimal.js and much cheaper
 * than allocating a Decimal per piece.
 */

export const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000];

/** Half-up division of non-negative integers. */
export function divHalfUp(num: number, den: number): number {
  return Math.floor((2 * num + den) / (2 * den));
}

/** Decimal text → integer scaled by 10^dp, rounded half-up (text must be a plain decimal). */
export function toScaled(text: string, dp: number): number {
  return Number(dec(text).times(POW10[dp]!).toDecimalPlaces(0).toFixed(0));
}

/** Integer scaled by 10^dp → fixed-point text with exactly dp decimals. */
export function formatScaled(n: number, dp: number): string {
  const neg = n < 0;
  let s = String(Math.abs(n));
  if (dp === 0) return (neg ? '-' : '') + s;
  if (s.length <= dp) s = '0'.repeat(dp - s.length + 1) + s;
  return (neg ? '-' : '') + s.slice(0, s.length - dp) + '.' + s.slice(s.length - dp);
}

/** Exact product of two scaled integers as text with qDp + pDp decimals. */
export function scaledProduct(q: number, qDp: number, p: number, pDp: number): string {
  const prod = q * p;
  if (Number.isSafeInteger(prod)) return formatScaled(prod, qDp + pDp);
  return dec(formatScaled(q, qDp)).times(formatScaled(p, pDp)).toFixed(qDp + pDp);
}
