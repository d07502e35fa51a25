import '../../test/fakes/node20-polyfills';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type http from 'node:http';
import nock from 'nock';
import pino from 'pino';
import type { ConnectorContext, SourcePage } from '../../src/connectors/contract';
import { sendJson } from '../../test/fakes/fake-http';
import { startRestApiFake, type RestApiFake } from '../../test/fakes/rest-api-server';
import { RestConfigSchema, type RestConfig, type RestConfigInput } from './config.schema';
import { clearOAuthTokens } from './oauth';
import { restSource } from './index';

interface Rec {
  id: number;
  day: string;
  who: string;
  secs: number;
}

const SECRET = 'fake-secret-0000';
const CLIENT_ID = 'test-client-id';
const ctx = (): ConnectorContext => ({ log: pino({ level: 'silent' }), now: new Date(), configDir: process.cwd() });
const today = () => new Date().toISOString().slice(0, 10);
const records = (): Rec[] => Array.from({ length: 4 }, (_, i) => ({ id: i + 1, day: today(), who: `W${i}`, secs: 600 }));

let fake: RestApiFake<Rec> | undefined;
/** Access tokens the fake token endpoint issued and still accepts. */
let issued: string[] = [];
let tokenRequests: Array<{ authorization?: string; body: string }> = [];
let tokenLife = 3600;
let authorised: (req: http.IncomingMessage, url: URL) => boolean = () => true;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
beforeEach(() => {
  clearOAuthTokens();
  issued = [];
  tokenRequests = [];
  tokenLife = 3600;
});
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(paging: 'page' | 'linkHeader' = 'page') {
  fake = await startRestApiFake<Rec>({
    path: '/api/entries',
    records: records(),
    paging:
      paging === 'page'
        ? { type: 'page', pageParam: 'page', sizeParam: 'size', firstPage: 1 }
        : { type: 'linkHeader', pageParam: 'page', sizeParam: 'size' },
    dateOf: (r) => r.day,
    authorised: (req, url) => authorised(req, url),
    body: (page) => page,
    async extra(req, url, body, res) {
      if (url.pathname !== '/oauth/token') return false;
      // RFC 6749 §4.4.2 / §5.1: form-encoded grant, JSON answer with access_token, token_type, expires_in.
      tokenRequests.push({ authorization: req.headers.authorization, body: String(body) });
      const form = new URLSearchParams(String(body));
      const basicOk = req.headers.authorization === `Basic ${Buffer.from(`${CLIENT_ID}:${SECRET}`).toString('base64')}`;
      const bodyOk = form.get('client_id') === CLIENT_ID && form.get('client_secret') === SECRET;
      if (form.get('grant_type') !== 'client_credentials' || !(basicOk || bodyOk)) {
        sendJson(res, 401, { error: 'invalid_client' });
        return true;
      }
      const token = `access-${issued.length + 1}-${Date.now()}`;
      issued.push(token);
      sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: tokenLife });
      return true;
    },
  });
  return fake;
}

function config(auth: RestConfigInput['auth'], over: Partial<RestConfigInput> = {}): RestConfig {
  return RestConfigSchema.parse({
    id: 'auth-test',
    kind: 'rest',
    baseUrl: `${fake!.baseUrl}/api`,
    auth,
    request: { path: '/entries' },
    pagination: { type: 'page', sizeParam: 'size', size: 2 },
    fields: { externalId: '/id', date: '/day', duration: '/secs', worker: '/who', client: { value: 'Acme BV' } },
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    rateLimit: { requests: 1000, perSeconds: 1 },
    ...over,
  } satisfies RestConfigInput);
}

async function readAll(c: RestConfig): Promise<SourcePage[]> {
  const pages: SourcePage[] = [];
  for await (const p of restSource.read(c, { cursors: {} }, ctx())) pages.push(p);
  return pages;
}
const count = (pages: SourcePage[]) => pages.reduce((n, p) => n + p.records.length, 0);

describe('rest source: authentication', () => {
  it('Given bearer auth, then every request carries Authorization: Bearer <secret>; a wrong token is an auth failure that never shows it', async () => {
    authorised = (req) => req.headers.authorization === `Bearer ${SECRET}`;
    await start();
    expect(count(await readAll(config({ type: 'bearer', secret: SECRET })))).toBe(4);
    const bad = await restSource.check(config({ type: 'bearer', secret: 'wrong-token-1234' }), ctx());
    expect(bad).toMatchObject({ ok: false, category: 'auth' });
    expect(bad.message).toMatch(/auth\.secret/);
    expect(bad.message).not.toContain('wrong-token-1234');
  });

  it('Given basic auth, then the user name and password go as HTTP Basic', async () => {
    authorised = (req) => req.headers.authorization === `Basic ${Buffer.from(`ada:${SECRET}`).toString('base64')}`;
    await start();
    expect(count(await readAll(config({ type: 'basic', username: 'ada', secret: SECRET })))).toBe(4);
  });

  it('Given an API key in a header with a prefix, then it is sent as "<prefix> <key>"', async () => {
    authorised = (req) => req.headers.authorization === `Token ${SECRET}`;
    await start();
    expect(count(await readAll(config({ type: 'apiKey', in: 'header', name: 'Authorization', prefix: 'Token', secret: SECRET })))).toBe(4);
  });

  it('Given an API key in the query and next links that echo it, then every request carries it and no cursor or error keeps it', async () => {
    authorised = (_req, url) => url.searchParams.get('api_key') === SECRET;
    await start('linkHeader');
    const c = config(
      { type: 'apiKey', in: 'query', name: 'api_key', secret: SECRET },
      { pagination: { type: 'linkHeader', sizeParam: 'size', size: 2 } },
    );
    const pages = await readAll(c);
    expect(count(pages)).toBe(4);
    expect(pages.length).toBe(2);
    expect(JSON.stringify(pages.map((p) => p.cursor))).not.toContain(SECRET);
    fake!.fail({ status: 400, times: 1 });
    const err = await readAll(c).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/HTTP 400/);
    expect(err?.message).not.toContain(SECRET);
  });
});

describe('rest source: OAuth 2.0 client credentials', () => {
  const oauth = (over: Partial<Extract<RestConfigInput['auth'], { type: 'oauth2' }>> = {}): RestConfigInput['auth'] => ({
    type: 'oauth2',
    tokenUrl: `${fake!.baseUrl}/oauth/token`,
    clientId: CLIENT_ID,
    secret: SECRET,
    scope: 'time:read',
    ...over,
  });
  beforeEach(() => {
    authorised = (req) => issued.includes(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
  });

  it('Given client credentials, when read twice, then one token is fetched (Basic client auth, scope sent) and reused', async () => {
    await start();
    const c = config(oauth());
    expect(count(await readAll(c))).toBe(4);
    expect(count(await readAll(c))).toBe(4);
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]!.authorization).toMatch(/^Basic /);
    expect(new URLSearchParams(tokenRequests[0]!.body).get('scope')).toBe('time:read');
  });

  it('Given clientAuth: body, then the client id and secret go in the form', async () => {
    await start();
    expect(count(await readAll(config(oauth({ clientAuth: 'body' }))))).toBe(4);
    expect(tokenRequests[0]!.authorization).toBeUndefined();
    expect(new URLSearchParams(tokenRequests[0]!.body).get('client_id')).toBe(CLIENT_ID);
  });

  it('Given a token that expires, when read after its expiry, then a new token is fetched', async () => {
    tokenLife = 1;
    await start();
    const c = config(oauth());
    await readAll(c);
    await new Promise((r) => setTimeout(r, 1100));
    await readAll(c);
    expect(tokenRequests).toHaveLength(2);
  });

  it('Given a cached token the API revokes, when the API answers 401, then a new token is fetched and the request retried once', async () => {
    await start();
    const c = config(oauth());
    await readAll(c);
    issued.splice(0); // revoked at the server
    expect(count(await readAll(c))).toBe(4);
    expect(tokenRequests).toHaveLength(2);
  });

  it('Given a client secret the token endpoint refuses, when checked, then it is an auth failure naming the OAuth settings, without the secret', async () => {
    await start();
    const r = await restSource.check(config(oauth({ secret: 'wrong-secret-99' })), ctx());
    expect(r).toMatchObject({ ok: false, category: 'auth' });
    expect(r.message).toMatch(/auth\.clientId/);
    expect(r.message).not.toContain('wrong-secret-99');
  });
});

describe('rest source: rate limits', () => {
  beforeEach(() => {
    authorised = () => true;
  });

  it('Given a 429 whose wait is in a reset header the config names (no Retry-After), when read, then the wait is honoured', async () => {
    await start();
    const c = config(
      { type: 'bearer', secret: SECRET },
      { rateLimit: { requests: 1000, perSeconds: 1, resetHeaders: ['X-RateLimit-Reset'] } },
    );
    fake!.fail({ status: 429, headers: { 'X-RateLimit-Reset': '1' }, times: 1, after: 1 });
    const t0 = Date.now();
    expect(count(await readAll(c))).toBe(4);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  });

  it('Given an answer saying no requests remain, when read, then the next request waits for the reset it names', async () => {
    fake = await startRestApiFake<Rec>({
      path: '/api/entries',
      records: records(),
      paging: { type: 'page', pageParam: 'page', sizeParam: 'size', firstPage: 1 },
      dateOf: (r) => r.day,
      authorised: () => true,
      body: (page) => page,
      headers: () => ({ 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': '1' }),
    });
    const c = config(
      { type: 'bearer', secret: SECRET },
      {
        rateLimit: {
          requests: 1000,
          perSeconds: 1,
          resetHeaders: [],
          remainingHeader: 'X-RateLimit-Remaining',
          resetHeader: 'X-RateLimit-Reset',
        },
      },
    );
    const t0 = Date.now();
    const pages = await readAll(c);
    expect(count(pages)).toBe(4);
    // Three pages (the third is empty): the second and third requests each waited for the reset.
    expect(pages).toHaveLength(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
  });
});
