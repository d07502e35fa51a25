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
  return `${neg ? '-' : ''}${s.slice(0, s.length - dp)}.${s.slice(s.length - dp)}`;
}

/** Exact product of two scaled integers as text with qDp + pDp decimals. */
export function scaledProduct(q: number, qDp: number, p: number, pDp: number): string {
  const prod = q * p;
  if (Number.isSafeInteger(prod)) return formatScaled(prod, qDp + pDp);
  return dec(formatScaled(q, qDp))
    .times(formatScaled(p, pDp))
    .toFixed(qDp + pDp);
}

const DIGIT0 = 48;

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - DIGIT0;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * `Date.parse` for the canonical text `Date#toISOString` writes
 * (`YYYY-MM-DDTHH:MM:SS.sssZ`), by arithmetic; any other text (offsets, no milliseconds, an
 * out-of-range field) goes to `Date.parse` itself, so the result is always the same.
 * Date.parse costs ~0.7 µs per call on Node 20, twice per priced entry.
 */
export function parseIsoUtc(text: string): number {
  if (text.length !== 24 || text.charCodeAt(23) !== 90 /* Z */ || text.charCodeAt(10) !== 84 /* T */) return Date.parse(text);
  if (text[4] !== '-' || text[7] !== '-' || text[13] !== ':' || text[16] !== ':' || text[19] !== '.') return Date.parse(text);
  const y = digits(text, 0, 4);
  const m = digits(text, 5, 2);
  const d = digits(text, 8, 2);
  const h = digits(text, 11, 2);
  const mi = digits(text, 14, 2);
  const s = digits(text, 17, 2);
  const ms = digits(text, 20, 3);
  if (y < 1000 || m < 1 || m > 12 || d < 1 || d > 28 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 || ms < 0) {
    // Days 29–31 are valid in some months only: let Date.parse decide (rare enough).
    if (!(y >= 1000 && m >= 1 && m <= 12 && d >= 29 && d <= 31 && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && s >= 0 && s <= 59 && ms >= 0))
      return Date.parse(text);
    if (d > daysInMonth(y, m)) return Date.parse(text);
  }
  // Days from civil (H. Hinnant's algorithm).
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  const days = era * 146_097 + doe - 719_468;
  return days * 86_400_000 + h * 3_600_000 + mi * 60_000 + s * 1000 + ms;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}
