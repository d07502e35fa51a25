import '../../test/fakes/node20-polyfills';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import nock from 'nock';
import pino from 'pino';
import type { ConnectorContext, Cursor, SourcePage } from '../../src/connectors/contract';
import { startRestApiFake, type PagingStyle, type RestApiFake } from '../../test/fakes/rest-api-server';
import { RestConfigSchema, type RestConfig, type RestConfigInput } from './config.schema';
import { nextLink, resolveIncluded } from './paginate';
import { restSource } from './index';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/loader';
import { ConfigError } from '../../src/config/issues';

interface Rec {
  id: number;
  day: string;
  user: { name: string };
  client: string;
  seconds: number;
  updated: number;
}

const KEY = 'FAKE-REST-KEY-0000';
const ctx = (now = new Date()): ConnectorContext => ({ log: pino({ level: 'silent' }), now, configDir: process.cwd() });
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

function seed(n: number): Rec[] {
  return Array.from({ length: n }, (_, i) => ({
    id: 1000 + i,
    day: daysAgo(2 + i),
    user: { name: `Worker ${i}` },
    client: 'Acme BV',
    seconds: 3600 + i * 60,
    updated: Date.now() - 3 * 86_400_000,
  }));
}

let fake: RestApiFake<Rec> | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

async function start(paging: PagingStyle, records = seed(5), extra: Partial<Parameters<typeof startRestApiFake<Rec>>[0]> = {}) {
  fake = await startRestApiFake<Rec>({
    path: '/v1/entries',
    records,
    paging,
    dateOf: (r) => r.day,
    updatedOf: (r) => r.updated,
    window: { fromParam: 'from', toParam: 'to' },
    updatedSinceParam: 'updated_since',
    authorised: (req) => req.headers['x-api-key'] === KEY,
    body: (page, meta) => ({
      data: page,
      meta: { total_pages: meta.totalPages, total: meta.totalCount, next_cursor: meta.cursor ?? null },
      links: { next: meta.next ?? null },
    }),
    ...extra,
  });
  return fake;
}

function config(over: Partial<RestConfigInput> = {}): RestConfig {
  return RestConfigSchema.parse({
    id: 'rest-test',
    kind: 'rest',
    baseUrl: `${fake!.baseUrl}/v1`,
    auth: { type: 'apiKey', in: 'header', name: 'X-Api-Key', secret: KEY },
    request: { path: '/entries' },
    records: { path: '/data' },
    window: { fromParam: 'from', toParam: 'to' },
    fields: {
      externalId: '/id',
      date: '/day',
      duration: { path: '/seconds', unit: 'seconds' },
      worker: '/user/name',
      client: '/client',
    },
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    rateLimit: { requests: 1000, perSeconds: 1 },
    ...over,
  } satisfies RestConfigInput);
}

async function readAll(c: RestConfig, cursors: Record<string, Cursor | undefined> = {}): Promise<SourcePage[]> {
  const pages: SourcePage[] = [];
  for await (const p of restSource.read(c, { cursors }, ctx())) pages.push(p);
  return pages;
}
const ids = (pages: SourcePage[]) => pages.flatMap((p) => p.records.map((r) => r.ref.id));
const all = seed(5).map((r) => String(r.id));

describe('rest source: pagination', () => {
  const cases: Array<[string, PagingStyle, RestConfigInput['pagination']]> = [
    [
      'page number with a total in the body',
      { type: 'page', pageParam: 'page', sizeParam: 'per_page', firstPage: 1 },
      { type: 'page', sizeParam: 'per_page', size: 2, totalPagesPath: '/meta/total_pages' },
    ],
    [
      'page number from 0, stopping at a short page',
      { type: 'page', pageParam: 'p', sizeParam: 'n', firstPage: 0 },
      { type: 'page', pageParam: 'p', firstPage: 0, sizeParam: 'n', size: 2 },
    ],
    [
      'page number with X-Total-Pages',
      { type: 'page', pageParam: 'page', sizeParam: 'per_page', firstPage: 1, totalPagesAt: 'header' },
      { type: 'page', sizeParam: 'per_page', size: 2, totalPagesHeader: 'X-Total-Pages' },
    ],
    [
      'offset/limit with a total',
      { type: 'offset', offsetParam: 'offset', limitParam: 'limit' },
      { type: 'offset', limit: 2, totalPath: '/meta/total' },
    ],
    [
      'offset/limit, stopping at a short page',
      { type: 'offset', offsetParam: 'skip', limitParam: 'take' },
      { type: 'offset', offsetParam: 'skip', limitParam: 'take', limit: 2 },
    ],
    [
      'a cursor field',
      { type: 'cursor', cursorParam: 'cursor', sizeParam: 'limit' },
      { type: 'cursor', cursorParam: 'cursor', cursorPath: '/meta/next_cursor', sizeParam: 'limit', size: 2 },
    ],
    [
      'the Link header',
      { type: 'linkHeader', sizeParam: 'per_page', pageParam: 'page' },
      { type: 'linkHeader', sizeParam: 'per_page', size: 2 },
    ],
    [
      'a next-URL field',
      { type: 'nextUrl', sizeParam: 'size', pageParam: 'page' },
      { type: 'nextUrl', nextPath: '/links/next', sizeParam: 'size', size: 2 },
    ],
  ];
  it.each(cases)(
    'Given an API that pages by %s, when read, then every record arrives once over several pages',
    async (_name, style, pagination) => {
      await start(style);
      const pages = await readAll(config({ pagination }));
      expect(ids(pages).sort()).toEqual([...all].sort());
      expect(pages.length).toBe(3);
      expect(pages.at(-1)?.reconcile).toBeDefined();
      // Every page request carried the window.
      const from = fake!.stats.queries[0]!.get('from');
      expect(from).toBe(daysAgo(365));
      for (const q of fake!.stats.queries) expect(q.get('from')).toBe(from);
    },
  );

  it('Given any number of records and any page size, in every paging style, each record arrives exactly once (property)', async () => {
    const styles: Array<[PagingStyle, (size: number) => RestConfigInput['pagination']]> = [
      [{ type: 'page', pageParam: 'page', sizeParam: 'per_page', firstPage: 1 }, (size) => ({ type: 'page', sizeParam: 'per_page', size })],
      [{ type: 'offset', offsetParam: 'offset', limitParam: 'limit' }, (limit) => ({ type: 'offset', limit, totalPath: '/meta/total' })],
      [
        { type: 'cursor', cursorParam: 'c', sizeParam: 'n' },
        (size) => ({ type: 'cursor', cursorParam: 'c', cursorPath: '/meta/next_cursor', sizeParam: 'n', size }),
      ],
      [{ type: 'linkHeader', sizeParam: 'per_page', pageParam: 'page' }, (size) => ({ type: 'linkHeader', sizeParam: 'per_page', size })],
      [
        { type: 'nextUrl', sizeParam: 'size', pageParam: 'page' },
        (size) => ({ type: 'nextUrl', nextPath: '/links/next', sizeParam: 'size', size }),
      ],
    ];
    for (const [style, pagination] of styles) {
      const f = await start(style, []);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 11 }), fc.integer({ min: 1, max: 4 }), async (n, size) => {
          f.records = seed(n);
          const got = ids(await readAll(config({ pagination: pagination(size) })));
          expect([...got].sort()).toEqual(
            seed(n)
              .map((r) => String(r.id))
              .sort(),
          );
        }),
        { numRuns: 12 },
      );
      await f.close();
      fake = undefined;
    }
  });

  it('Given a listing that fails on its third page and is resumed from the last cursor, then no record is lost or repeated', async () => {
    await start({ type: 'cursor', cursorParam: 'cursor', sizeParam: 'limit' });
    const c = config({
      pagination: { type: 'cursor', cursorParam: 'cursor', cursorPath: '/meta/next_cursor', sizeParam: 'limit', size: 2 },
    });
    fake!.fail({ status: 503, times: 100, after: 2 });
    const partial: SourcePage[] = [];
    await expect(
      (async () => {
        for await (const p of restSource.read(c, { cursors: {} }, ctx())) partial.push(p);
      })(),
    ).rejects.toMatchObject({ category: 'transient' });
    expect(partial).toHaveLength(2);
    fake!.clearFaults();
    const rest = await readAll(c, { records: partial.at(-1)!.cursor! });
    const got = [...ids(partial), ...ids(rest)];
    expect(got.sort()).toEqual([...all].sort());
    // The resumed read did not see the listing's first pages: it must not claim a reconciliation.
    expect(rest.some((p) => p.reconcile)).toBe(false);
  });

  it('Given a next link on another origin, when read, then the credentials are not sent there and the read fails', async () => {
    await start({ type: 'none' }, seed(2), {
      body: (page) => ({ data: page, links: { next: 'https://elsewhere.example.com/steal' } }),
    });
    const pages: SourcePage[] = [];
    await expect(
      (async () => {
        for await (const p of restSource.read(config({ pagination: { type: 'nextUrl', nextPath: '/links/next' } }), { cursors: {} }, ctx()))
          pages.push(p);
      })(),
    ).rejects.toThrow(/refusing to follow a link/);
  });

  it('Given an API that ignores the page parameter, when read, then the read fails naming pagination instead of looping', async () => {
    await start({ type: 'none' });
    await expect(readAll(config({ pagination: { type: 'page', pageParam: 'pg', size: 5 } }))).rejects.toThrow(
      /repeats records already read.*check pagination/,
    );
  });

  it('Given records.path that is not a list, when read, then the error names records.path', async () => {
    await start({ type: 'none' });
    await expect(readAll(config({ records: { path: '/meta' } }))).rejects.toThrow(/records\.path "\/meta" is not a list/);
  });

  it('parses the Link header rel="next" among other relations (RFC 8288)', () => {
    expect(nextLink('<https://a.example/x?page=2>; rel="next", <https://a.example/x?page=9>; rel="last"')).toBe(
      'https://a.example/x?page=2',
    );
    expect(nextLink('<https://a.example/x?page=1>; rel="prev first", <https://a.example/x?page=3>; rel=next')).toBe(
      'https://a.example/x?page=3',
    );
    expect(nextLink('<https://a.example/x?page=9>; rel="last"')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });

  it('resolves JSON:API relationships to their included resources, three levels deep, without touching the included list', () => {
    const included = [
      { type: 'people', id: '1', attributes: { name: 'Ada' } },
      { type: 'services', id: '5', attributes: { name: 'Dev' }, relationships: { deal: { data: { type: 'deals', id: '9' } } } },
      { type: 'deals', id: '9', attributes: { name: 'Site' }, relationships: { company: { data: { type: 'companies', id: '3' } } } },
      { type: 'companies', id: '3', attributes: { name: 'Acme BV' } },
    ];
    const before = JSON.stringify(included);
    const rec = {
      id: '146',
      relationships: {
        person: { data: { type: 'people', id: '1' } },
        service: { data: { type: 'services', id: '5' } },
        task: { data: null },
      },
    };
    const out = resolveIncluded(rec, included) as { relationships: Record<string, { data: unknown }> };
    expect(out.relationships.person!.data).toMatchObject({ attributes: { name: 'Ada' } });
    expect(out.relationships.service!.data).toMatchObject({
      relationships: { deal: { data: { relationships: { company: { data: { attributes: { name: 'Acme BV' } } } } } } },
    });
    expect(out.relationships.task!.data).toBeNull();
    expect(JSON.stringify(included)).toBe(before);
  });
});

describe('rest source: windows, updated-since and deletions', () => {
  it('Given a synced source with an updated-since filter, when read again, then it asks for changes since the last run, re-lists the window, and hands each record over once', async () => {
    const records = seed(5);
    records.push({ ...seed(1)[0]!, id: 2000, day: daysAgo(200) });
    await start({ type: 'page', pageParam: 'page', sizeParam: 'per_page', firstPage: 1 }, records);
    const c = config({
      pagination: { type: 'page', sizeParam: 'per_page', size: 2 },
      incremental: { param: 'updated_since', format: 'datetime' },
    });
    const first = await readAll(c);
    expect(ids(first)).toContain('2000');
    // An old entry and a recent one are edited.
    fake!.records.find((r) => r.id === 2000)!.updated = Date.now();
    fake!.records.find((r) => r.id === 1001)!.updated = Date.now();
    fake!.records.find((r) => r.id === 1001)!.seconds = 9999;
    fake!.stats.queries.length = 0;
    const again = await readAll(c, { records: first.at(-1)!.cursor! });
    const got = ids(again);
    expect(new Set(got).size).toBe(got.length);
    expect(got).toContain('2000');
    expect(got).toContain('1001');
    expect(fake!.stats.queries.some((q) => q.get('updated_since'))).toBe(true);
    const windows = again.flatMap((p) => (p.reconcile ? [p.reconcile] : []));
    expect(windows).toHaveLength(1);
    expect(windows[0]!.from! <= daysAgo(33)).toBe(true);
    // The old entry is outside the window: only the updated-since listing can bring it.
    expect(windows[0]!.from! > daysAgo(200)).toBe(true);
  });

  it('Given a saved position of an updated-since listing and a config that no longer has the filter, when read, then the listing starts over', async () => {
    await start({ type: 'page', pageParam: 'page', sizeParam: 'per_page', firstPage: 1 });
    const stale = {
      v: 1,
      synced: true,
      updatedSince: new Date().toISOString(),
      pending: {
        phase: 'incremental',
        position: { page: 2 },
        ceiling: new Date().toISOString(),
        window: { from: daysAgo(30), to: daysAgo(-1) },
        midPhase: true,
      },
    };
    const pages = await readAll(config({ pagination: { type: 'page', sizeParam: 'per_page', size: 2 } }), { records: stale });
    expect(ids(pages).sort()).toEqual([...all].sort());
    expect(pages.at(-1)!.reconcile).toBeDefined();
  });

  it('Given an API without a date filter, when read, then every run lists everything and reconciles everything', async () => {
    await start({ type: 'page', pageParam: 'page', sizeParam: 'per_page', firstPage: 1 });
    const c = RestConfigSchema.parse({ ...config(), window: undefined, pagination: { type: 'page', sizeParam: 'per_page', size: 2 } });
    const pages = await readAll(c);
    expect(pages.at(-1)!.reconcile).toEqual({ from: null, to: null });
    expect(fake!.stats.queries.every((q) => !q.has('from'))).toBe(true);
  });

  it('Given window bounds the API reads as exclusive, when read, then the day before and the day after the window are sent', async () => {
    await start({ type: 'none' }, seed(2), { window: { fromParam: 'after', toParam: 'before', exclusive: true } });
    const now = new Date();
    const c = config({ window: { fromParam: 'after', toParam: 'before', fromExclusive: true, toExclusive: true }, startDate: daysAgo(10) });
    for await (const _ of restSource.read(c, { cursors: {} }, ctx(now))) void _;
    const q = fake!.stats.lastQuery!;
    expect(q.get('after')).toBe(daysAgo(11));
    expect(q.get('before')).toBe(new Date(now.getTime() + 2 * 86_400_000).toISOString().slice(0, 10));
  });
});

describe('rest source: config', () => {
  it('Given the Everhour example with a typo and a wrong unit, when loaded, then each error names file, line, column and YAML path', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
    const yaml = readFileSync(path.join(root, 'config', 'examples', 'rest-everhour.yaml'), 'utf8')
      .replace('unit: seconds }', 'unit: secs }')
      .replace('    window:\n', '    windw:\n');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hb-rest-config-'));
    try {
      const file = path.join(dir, 'everhour.yaml');
      writeFileSync(file, yaml);
      const lineOf = (text: string) => yaml.split('\n').findIndex((l) => l.includes(text)) + 1;
      let error: unknown;
      try {
        loadConfig(file, { ...process.env, EVERHOUR_API_KEY: 'x' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const issues = (error as ConfigError).issues.map((i) => ({ path: i.path.join('.'), line: i.line, file: i.file, message: i.message }));
      expect(issues).toContainEqual(
        expect.objectContaining({ path: 'sources.0.windw', line: lineOf('windw:'), file, message: expect.stringMatching(/unknown key/) }),
      );
      expect(issues).toContainEqual(
        expect.objectContaining({
          path: 'sources.0.fields.duration.unit',
          line: lineOf('unit: secs'),
          message: expect.stringMatching(/"seconds", "minutes"/),
        }),
      );
      expect((error as ConfigError).issues.every((i) => typeof i.column === 'number')).toBe(true);
      // A field is "a pointer or an object": the object's own problem is shown, not "expected string".
      expect(issues.map((i) => i.message)).not.toContainEqual(expect.stringMatching(/expected string/));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Given a config with an updated-since filter and no window, when parsed, then it names incremental and says why', () => {
    const r = RestConfigSchema.safeParse({
      id: 'x',
      kind: 'rest',
      baseUrl: 'https://api.example.com',
      auth: { type: 'bearer', secret: 't' },
      request: { path: '/e' },
      incremental: { param: 'since' },
      fields: { externalId: '/id', date: '/d', duration: '/s', worker: '/w', client: '/c' },
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => [i.path.join('.'), i.message])).toContainEqual([
      'incremental',
      expect.stringMatching(/needs a window/),
    ]);
  });

  it('Given fields without a duration or an end, or a field with both path and value, when parsed, then each is an error at its path', () => {
    const r = RestConfigSchema.safeParse({
      id: 'x',
      kind: 'rest',
      baseUrl: 'https://api.example.com',
      auth: { type: 'bearer', secret: 't' },
      request: { path: '/e' },
      fields: { externalId: '/id', date: 'no-slash', start: '/s', worker: { path: '/w', value: 'Ada' }, client: '/c' },
    });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('fields.duration');
    expect(paths.some((p) => p.startsWith('fields.date'))).toBe(true);
    expect(paths.some((p) => p.startsWith('fields.worker'))).toBe(true);
  });
});
