import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiCallError, ApiClient } from '../../src/destinations/api-client';
import { isConnectorError } from '../../src/connectors/errors';
import { listen, sendJson } from '../fakes/fake-http';

/** The OAuth destinations' HTTP layer against a scripted local server. */
describe('ApiClient (OAuth destinations)', () => {
  let server: { url: string; close: () => Promise<void> };
  const script: ((auth: string) => { status: number; headers?: Record<string, string> })[] = [];
  let calls = 0;
  beforeAll(async () => {
    server = await listen((req, res) => {
      calls++;
      const step = script.shift();
      const r = step ? step(req.headers.authorization ?? '') : { status: 200 };
      sendJson(res, r.status, { ok: r.status < 300 }, r.headers ?? {});
    });
  });
  afterAll(() => server.close());

  let n = 0;
  const client = (tokens: { accessToken(): Promise<string>; refresh(stale: string): Promise<string> }) =>
    new ApiClient({
      connector: 'test',
      label: 'Test',
      baseUrl: server.url,
      tokens,
      budgetKey: `k${++n}`,
      requestsPerWindow: 1000,
      windowMs: 60_000,
      concurrent: 2,
      maxAttempts: 3,
      timeoutMs: 2000,
      backoffBaseMs: 10,
    });

  it('Given a refused access token When called Then it refreshes and retries with the new token; a token refused after two refreshes is an auth error', async () => {
    let refreshes = 0;
    const tokens = { accessToken: async () => 'old', refresh: async () => `new-${++refreshes}` };
    script.push(
      (auth) => ({ status: auth === 'Bearer old' ? 401 : 500 }),
      (auth) => ({ status: auth === 'Bearer new-1' ? 200 : 500 }),
    );
    await expect(client(tokens).request({ url: '/x', retrySafe: true, label: 'read' })).resolves.toMatchObject({ status: 200 });
    expect(refreshes).toBe(1);
    // The first refresh may hand back another process's token that is refused as well: one more round, then give up.
    script.push(
      () => ({ status: 401 }),
      () => ({ status: 401 }),
      () => ({ status: 401 }),
    );
    const err = await client(tokens)
      .request({ url: '/x', retrySafe: true, label: 'read' })
      .catch((e: unknown) => e);
    expect(isConnectorError(err) && err.category).toBe('auth');
    expect(refreshes).toBe(3);
  });

  it('Given a 503 When the call is not retry-safe Then it is not sent again and leaves as an uncertain ApiCallError; retry-safe, it is retried', async () => {
    const tokens = { accessToken: async () => 't', refresh: async () => 't' };
    script.push(() => ({ status: 503 }));
    const before = calls;
    const err = await client(tokens)
      .request({ method: 'POST', url: '/x', data: {}, retrySafe: false, label: 'create' })
      .catch((e: unknown) => e);
    expect(err instanceof ApiCallError && err.uncertain).toBe(true);
    expect(calls - before).toBe(1);
    script.push(
      () => ({ status: 503 }),
      () => ({ status: 200 }),
    );
    await expect(client(tokens).request({ method: 'POST', url: '/x', data: {}, retrySafe: true, label: 'create' })).resolves.toMatchObject({
      status: 200,
    });
  });

  it('Given 429s past maxAttempts When called Then it fails as rate_limited; a 400 is a definite ApiCallError at once', async () => {
    const tokens = { accessToken: async () => 't', refresh: async () => 't' };
    script.push(
      () => ({ status: 429, headers: { 'Retry-After': '0' } }),
      () => ({ status: 429, headers: { 'Retry-After': '0' } }),
      () => ({ status: 429, headers: { 'Retry-After': '0' } }),
    );
    const err = await client(tokens)
      .request({ url: '/x', retrySafe: false, label: 'read' })
      .catch((e: unknown) => e);
    expect(isConnectorError(err) && err.category).toBe('rate_limited');
    script.push(() => ({ status: 400 }));
    const bad = await client(tokens)
      .request({ method: 'POST', url: '/x', data: {}, retrySafe: true, label: 'create' })
      .catch((e: unknown) => e);
    expect(bad instanceof ApiCallError && !bad.uncertain && bad.status).toBe(400);
  });
});
