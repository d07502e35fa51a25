import '../../test/fakes/node20-polyfills';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { itIf } from '../../test/support/runner';
import nock from 'nock';
import pino from 'pino';
import { Writable } from 'node:stream';
import { createHttpClient } from './client';
import { ConnectorError } from '../connectors/errors';
import { closeRateLimiters } from './rate-limit';
import { redisAvailable, redisUrl } from '../../test/support/services';

const BASE = 'https://api.fake-vendor.test/v1';
const TOKEN = 'FAKE-TOKEN-DO-NOT-USE-0001';

function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

const noSleep = async () => undefined;

const redisUp = await redisAvailable();

describe('createHttpClient', () => {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    nock.enableNetConnect();
    await closeRateLimiters();
  });

  it('Given a 503 then a 200, when requested, then it retries once and returns the data', async () => {
    nock(BASE).get('/items').reply(503).get('/items').reply(200, { ok: true });
    const waits: number[] = [];
    const http = createHttpClient({ connector: 'fake', baseUrl: BASE, authHint: 'the token', sleep: async (ms) => void waits.push(ms) });
    const res = await http.request<{ ok: boolean }>({ url: '/items' });
    expect(res.data).toEqual({ ok: true });
    expect(http.stats).toMatchObject({ calls: 2, retries: 1 });
    expect(waits).toHaveLength(1);
  });

  it('Given a 401 whose body echoes the token, when requested, then a ConnectorError auth is thrown without the token', async () => {
    nock(BASE)
      .get('/me')
      .reply(401, { error: `bad token ${TOKEN}` });
    const { log, lines } = capturingLogger();
    const http = createHttpClient({
      connector: 'fake',
      baseUrl: BASE,
      headers: { Authorization: `Bearer ${TOKEN}` },
      secrets: [TOKEN],
      authHint: 'the FAKE_TOKEN',
      log,
      sleep: noSleep,
    });
    const err = await http.request({ url: '/me' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).category).toBe('auth');
    expect((err as ConnectorError).message).toContain('fake:');
    expect(JSON.stringify(err)).not.toContain(TOKEN);
    expect(String((err as Error).message)).not.toContain(TOKEN);
    expect(lines.join('')).not.toContain(TOKEN);
    expect(lines.length).toBeGreaterThan(0);
  });

  it('Given a pagination link to another host, when followed, then it refuses without sending credentials', async () => {
    const http = createHttpClient({ connector: 'fake', baseUrl: BASE, authHint: 'x', sleep: noSleep });
    await expect(http.request({ url: 'https://evil.test/v1/items?page=2' })).rejects.toMatchObject({ category: 'permanent' });
  });

  it('Given a malformed baseUrl, when the client is made, then it fails config', () => {
    expect(() => createHttpClient({ connector: 'fake', baseUrl: 'not a url', authHint: 'x' })).toThrow(
      expect.objectContaining({ category: 'config' }) as unknown as Error,
    );
  });

  it('Given a budget of 2 requests per window, when 3 are sent at once, then the third is held until the window resets', async () => {
    nock(BASE).get('/n').times(3).reply(200, {});
    const http = createHttpClient({
      connector: 'fake',
      baseUrl: BASE,
      authHint: 'x',
      rateLimit: { key: `fake:budget-test`, points: 2, windowMs: 1500, marginMs: 0 },
    });
    const done: number[] = [];
    const all = [0, 1, 2].map((i) => http.request({ url: '/n' }).then(() => void done.push(i)));
    await Promise.all(all.slice(0, 2));
    await new Promise((r) => setImmediate(r));
    expect(done).toHaveLength(2);
    expect(http.stats.calls).toBe(2);
    await all[2];
    expect(http.stats.calls).toBe(3);
  });

  itIf(redisUp)('Given a Redis URL, when two clients share an account key, then they share one budget', async () => {
    nock(BASE).get('/r').times(4).reply(200, {});
    const key = `fake:redis-${Date.now()}`;
    const mk = () =>
      createHttpClient({
        connector: 'fake',
        baseUrl: BASE,
        authHint: 'x',
        redisUrl,
        rateLimit: { key, points: 3, windowMs: 1000, marginMs: 0 },
      });
    const a = mk();
    const b = mk();
    await Promise.all([a.request({ url: '/r' }), a.request({ url: '/r' }), b.request({ url: '/r' })]);
    let fourthDone = false;
    const fourth = b.request({ url: '/r' }).then(() => (fourthDone = true));
    await new Promise((r) => setTimeout(r, 20));
    // b has used only one of its own requests, but the shared budget of 3 is spent.
    expect(fourthDone).toBe(false);
    await fourth;
    expect(a.stats.calls + b.stats.calls).toBe(4);
  });
});
