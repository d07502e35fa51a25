import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { describeIf } from '../support/runner';
import { xeroDestination } from '../../connectors/xero';
import { isConnectorError } from '../../src/connectors/errors';
import { startFakeXero, type FakeXero } from '../fakes/xero-server';
import { redisAvailable, redisUrl } from '../support/services';
import { draft, fakeTenant, writeCtx, xeroConfig } from './helpers';

const redisUp = await redisAvailable();

describe('Xero rate limits', () => {
  let fake: FakeXero;
  beforeAll(async () => {
    // The destination loads the Xero SDK on first use; load it now, or that first use could
    // outlast the fake's one-second window before the first call is even made.
    await import('../../connectors/xero/destination');
    fake = await startFakeXero({ tenants: [fakeTenant(31)], limits: { windowMs: 1000, callsPerWindow: 1000 }, latencyMs: 20 });
    fake.addContact('Acme Ltd');
  });
  afterAll(() => fake.stop());

  it('Given Xero answers 429 minute with Retry-After, when writing, then the call is retried only after Retry-After and the invoice is created once', async () => {
    const config = xeroConfig(fake);
    fake.exhaustMinuteLimit();
    const d = draft(1);
    const [o] = await xeroDestination.write(config, [d], writeCtx());
    expect(o!.status).toBe('written');
    expect(fake.stats.rejected429.minute).toBeGreaterThanOrEqual(1);
    const rejected = fake.requests.find((r) => r.status === 429)!;
    const retryAfterMs = Number(rejected.responseHeaders!['Retry-After']) * 1000;
    const accepted = fake.apiRequests('PUT', /\/Invoices$/).find((r) => r.status === 200)!;
    expect(accepted.at - rejected.at).toBeGreaterThanOrEqual(retryAfterMs - 5);
    expect(fake.countByNumber(`HB-${d.key}`)).toBe(1);
  });

  it('Given the daily limit is used up, when writing, then the write is parked with a rate_limited error carrying retryAfterMs, after one call', async () => {
    const config = xeroConfig(fake);
    fake.exhaustDayLimit();
    const before = fake.apiRequests().length;
    const err = await xeroDestination.write(config, [draft(2)], writeCtx()).catch((e: unknown) => e);
    expect(isConnectorError(err)).toBe(true);
    if (!isConnectorError(err)) return;
    expect(err.category).toBe('rate_limited');
    expect(err.details.retryAfterMs).toBeGreaterThan(60_000);
    expect(err.message).toMatch(/daily call limit/);
    expect(fake.apiRequests().length - before).toBe(1);
    // Parked means parked: the next write in this process does not even call Xero.
    const again = await xeroDestination.write(config, [draft(3)], writeCtx()).catch((e: unknown) => e);
    expect(isConnectorError(again) && again.category).toBe('rate_limited');
    expect(fake.apiRequests().length - before).toBe(1);
  });
});

describe('Xero concurrency budget', () => {
  it('Given 60 batches and a limit of 5 concurrent calls, when written, then Xero never sees more than 5 at once and no 429', async () => {
    const fake = await startFakeXero({ tenants: [fakeTenant(32)], latencyMs: 15, limits: { callsPerWindow: 10_000 } });
    fake.addContact('Acme Ltd');
    try {
      const config = xeroConfig(fake, {
        batchSize: 5,
        rateLimits: { concurrent: 5, callsPerWindow: 10_000, windowMs: 60_000, callsPerDay: 100_000 },
      });
      const drafts = Array.from({ length: 300 }, (_, i) => draft(100 + i));
      const outcomes = await xeroDestination.write(config, drafts, writeCtx());
      expect(outcomes.every((o) => o.status === 'written')).toBe(true);
      expect(fake.stats.maxConcurrent).toBeLessThanOrEqual(5);
      expect(fake.stats.maxConcurrent).toBeGreaterThan(1);
      expect(fake.stats.rejected429).toEqual({ concurrent: 0, minute: 0, day: 0 });
    } finally {
      await fake.stop();
    }
  });

  describeIf(redisUp)('shared through Redis', () => {
    it('Given two writers sharing one organisation through Redis, when both push at once, then the organisation never sees more than its concurrent limit and no 429', async () => {
      const fake = await startFakeXero({
        tenants: [fakeTenant(Date.now() % 1e9)],
        latencyMs: 15,
        limits: { concurrent: 2, callsPerWindow: 10_000 },
      });
      fake.addContact('Acme Ltd');
      try {
        const limits = { concurrent: 2, callsPerWindow: 10_000, windowMs: 60_000, callsPerDay: 100_000 };
        const a = xeroConfig(fake, { batchSize: 5, rateLimits: limits });
        const b = xeroConfig(fake, { batchSize: 5, rateLimits: limits });
        const ctx = writeCtx(new Map(), { redisUrl });
        const [oa, ob] = await Promise.all([
          xeroDestination.write(
            a,
            Array.from({ length: 60 }, (_, i) => draft(500 + i)),
            ctx,
          ),
          xeroDestination.write(
            b,
            Array.from({ length: 60 }, (_, i) => draft(600 + i)),
            ctx,
          ),
        ]);
        expect([...oa, ...ob].every((o) => o.status === 'written')).toBe(true);
        expect(fake.stats.maxConcurrent).toBe(2);
        expect(fake.stats.rejected429.concurrent).toBe(0);
      } finally {
        await fake.stop();
      }
    });
  });
});

describe('Xero 429 without X-Rate-Limit-Problem', () => {
  let fake: FakeXero;
  beforeAll(async () => {
    await import('../../connectors/xero/destination');
    fake = await startFakeXero({ tenants: [fakeTenant(33)] });
    fake.addContact('Acme Ltd');
  });
  afterAll(() => fake.stop());
  // A 429 may come without X-Rate-Limit-Problem (developer.xero.com/documentation/guides/oauth2/limits/:
  // the header names the limit hit "where available"); Retry-After still says how long to wait.
  const bare429 = (retryAfter?: string) => () => ({
    status: 429,
    body: { Title: 'Too Many Requests' },
    headers: retryAfter ? { 'Retry-After': retryAfter } : ({} as Record<string, string>),
  });

  it('Given a 429 with Retry-After 1 and no problem header, when writing, then the retry waits the Retry-After and the invoice is created once', async () => {
    const config = xeroConfig(fake);
    fake.answer(bare429('1'), { method: 'PUT', path: /\/Invoices$/ });
    const d = draft(1);
    const [o] = await xeroDestination.write(config, [d], writeCtx());
    expect(o!.status).toBe('written');
    const puts = fake.apiRequests('PUT', /\/Invoices$/);
    expect(puts.map((r) => r.status)).toEqual([429, 200]);
    expect(puts[1]!.at - puts[0]!.at).toBeGreaterThanOrEqual(1000 - 5);
    expect(fake.countByNumber(`HB-${d.key}`)).toBe(1);
  });

  it('Given Xero answers every attempt with a bare 429, when writing, then the call is given up after maxAttempts with a rate_limited error, not retried without end', async () => {
    const config = xeroConfig(fake, { maxAttempts: 3 });
    fake.answer(bare429(), { method: 'PUT', path: /\/Invoices$/, times: 100 });
    const before = fake.apiRequests('PUT', /\/Invoices$/).length;
    try {
      const err = await xeroDestination.write(config, [draft(2)], writeCtx()).catch((e: unknown) => e);
      expect(isConnectorError(err) && err.category).toBe('rate_limited');
      expect(fake.apiRequests('PUT', /\/Invoices$/).length - before).toBe(3);
    } finally {
      fake.clearFaults();
    }
  });
});
