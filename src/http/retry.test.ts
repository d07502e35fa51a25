import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { backoffMs, decideRetry, defaultRetryPolicy, parseRetryAfter } from './retry';

const now = new Date('2024-05-01T12:00:00Z');
const base = { attempt: 1, now, connector: 'harvest', random: () => 0.5 } as const;

describe('parseRetryAfter', () => {
  it('Given delta-seconds, when parsed, then it returns milliseconds', () => {
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(['2'], now)).toBe(2000);
  });
  it('Given an HTTP date, when parsed, then it returns the time until that date', () => {
    expect(parseRetryAfter('Wed, 01 May 2024 12:00:30 GMT', now)).toBe(30_000);
  });
  it('Given a date in the past, when parsed, then it returns zero', () => {
    expect(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', now)).toBe(0);
  });
  it('Given garbage or nothing, when parsed, then it returns undefined', () => {
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
  });
});

describe('decideRetry', () => {
  it('Given a 429 with Retry-After seconds, when decided, then it waits that long plus padding', () => {
    const d = decideRetry({ ...base, status: 429, headers: { 'retry-after': '3' } });
    expect(d).toEqual({ action: 'retry', category: 'rate_limited', waitMs: 3000 + defaultRetryPolicy.retryAfterPaddingMs });
  });

  it('Given a 429 with an HTTP-date Retry-After, when decided, then it waits until that date', () => {
    const d = decideRetry({
      ...base,
      status: 429,
      headers: { 'retry-after': 'Wed, 01 May 2024 12:00:10 GMT' },
      policy: { retryAfterPaddingMs: 0 },
    });
    expect(d).toEqual({ action: 'retry', category: 'rate_limited', waitMs: 10_000 });
  });

  it('Given a 402 quota response with a reset header, when decided, then it waits per that header', () => {
    const d = decideRetry({
      ...base,
      status: 402,
      headers: { 'x-toggl-quota-resets-in': '12' },
      policy: { resetHeaders: ['X-Toggl-Quota-Resets-In'], retryAfterPaddingMs: 0 },
    });
    expect(d).toEqual({ action: 'retry', category: 'rate_limited', waitMs: 12_000 });
  });

  it('Given a Retry-After longer than the run will wait, when decided, then it fails rate_limited with retryAfterMs', () => {
    const d = decideRetry({ ...base, status: 429, headers: { 'retry-after': '3600' } });
    expect(d).toMatchObject({ action: 'fail', category: 'rate_limited', retryAfterMs: 3_600_000 });
  });

  it('Given a 503 without Retry-After, when decided, then it backs off with full jitter', () => {
    expect(decideRetry({ ...base, status: 503, attempt: 3 })).toEqual({ action: 'retry', category: 'transient', waitMs: 1000 });
    expect(decideRetry({ ...base, status: 503, attempt: 3, random: () => 0 })).toMatchObject({ waitMs: 0 });
  });

  it('Given a network error, when decided, then it retries as transient', () => {
    const d = decideRetry({ ...base, error: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    expect(d).toMatchObject({ action: 'retry', category: 'transient' });
  });

  it('Given the last attempt failed with a 500, when decided, then it fails transient naming the connector', () => {
    const d = decideRetry({ ...base, status: 500, attempt: 5, what: 'GET /v2/time_entries' });
    expect(d).toMatchObject({ action: 'fail', category: 'transient' });
    expect(d.action === 'fail' && d.message).toMatch(/^harvest: GET \/v2\/time_entries failed with HTTP 500 after 5 attempts/);
  });

  it('Given a 401, when decided, then it fails auth with what to check', () => {
    const d = decideRetry({ ...base, status: 401, authHint: 'the HARVEST token and the account id' });
    expect(d).toMatchObject({ action: 'fail', category: 'auth' });
    expect(d.action === 'fail' && d.message).toContain('harvest: the API rejected the credentials (HTTP 401)');
    expect(d.action === 'fail' && d.message).toContain('Check the HARVEST token and the account id.');
  });

  it('Given a 403, when decided, then it fails auth (permissions)', () => {
    expect(decideRetry({ ...base, status: 403 })).toMatchObject({ action: 'fail', category: 'auth' });
  });

  it('Given a 400 or 404, when decided, then it fails permanent', () => {
    expect(decideRetry({ ...base, status: 400 })).toMatchObject({ action: 'fail', category: 'permanent' });
    expect(decideRetry({ ...base, status: 404 })).toMatchObject({ action: 'fail', category: 'permanent' });
  });

  it('Given an invalid URL error, when decided, then it fails config', () => {
    const d = decideRetry({ ...base, error: Object.assign(new TypeError('Invalid URL'), { code: 'ERR_INVALID_URL' }) });
    expect(d).toMatchObject({ action: 'fail', category: 'config' });
  });

  it('Given any attempt and random source, when backing off, then the wait stays within [0, cap]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const w = backoffMs(attempt, defaultRetryPolicy, () => r);
        const cap = Math.min(defaultRetryPolicy.maxDelayMs, defaultRetryPolicy.baseDelayMs * 2 ** (attempt - 1));
        return Number.isInteger(w) && w >= 0 && w <= cap;
      }),
    );
  });

  it('Given any status, when decided, then only 402/408/429/5xx and network errors are retried', () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), (status) => {
        const d = decideRetry({ ...base, status });
        const retryable = status === 402 || status === 408 || status === 429 || status >= 500;
        return (d.action === 'retry') === retryable;
      }),
    );
  });
});
