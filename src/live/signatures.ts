import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signature checks of inbound tracker webhooks. Both compare in constant time: a timing
 * difference must never tell a caller how much of a signature or token was right.
 */

/** `sha256=<hex>` = HMAC-SHA256(secret, raw body) — Toggl's X-Webhook-Signature-256. */
export function hmacSha256HexMatches(rawBody: Buffer, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const hex = header.startsWith('sha256=') ? header.slice('sha256='.length) : header;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

/**
 * A token sent as is (Clockify-Signature) equals one of the expected ones. Both sides are
 * hashed first so the comparison has a fixed length, and every candidate is compared (no early
 * exit), so neither the token's length nor which candidate matched shows in the timing.
 */
export function tokenMatchesAny(received: string | undefined, expected: readonly string[]): boolean {
  if (!received) return false;
  const got = createHash('sha256').update(received).digest();
  let ok = false;
  for (const e of expected) {
    if (timingSafeEqual(got, createHash('sha256').update(e).digest())) ok = true;
  }
  return ok;
}

/** One header's value, whatever Node made of it. */
export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
