import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Cursor, MapResult, RawRecord, SourceConnector, SourcePage } from '../../src/connectors/contract';
import type { SourceConfig } from '../../src/config/schema';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { getCursors } from '../../src/ledger/sync.repository';
import { ClientResolver } from '../../src/stages/clients';
import { LEDGER_BATCH_ENTRIES, pullSource, type PullSummary } from '../../src/stages/pull.stage';
import { client, entry } from '../support/entries';

/**
 * The pull stage writes consecutive small pages to the ledger together; these tests pin that
 * batching changes how often the ledger is written, never what ends up in it or when a cursor
 * may move.
 */
const clients = new ClientResolver([client()]);
const ctx = () => ({ log: pino({ level: 'silent' }), now: new Date('2026-03-31T12:00:00Z'), configDir: '.' });
const source = { id: 'pages', kind: 'pages' } as unknown as SourceConfig;

/** A source that hands out the pages it is given; a record whose data is 'bad' maps as invalid. */
function pagedSource(pages: () => AsyncIterable<SourcePage>): SourceConnector<SourceConfig> {
  return {
    kind: 'pages',
    role: 'source',
    mode: 'incremental',
    configSchema: z.object({}) as never,
    secretFields: [],
    check: async () => ({ ok: true, message: 'ok' }),
    read: () => pages(),
    map(record: RawRecord): MapResult {
      const id = record.ref.id!;
      if (record.data === 'bad') return { kind: 'invalid', problems: [{ field: 'hours', reason: 'is not a number' }], externalId: id };
      return { kind: 'entry', entry: entry({ sourceId: 'pages', externalId: id, clientId: undefined }) };
    },
  };
}

const records = (from: number, n: number, bad: (i: number) => boolean = () => false, prefix = 'e'): RawRecord[] =>
  Array.from({ length: n }, (_, k) => ({ ref: { id: `${prefix}${from + k}`, row: from + k + 2 }, data: bad(from + k) ? 'bad' : 'ok' }));

async function count(ledger: Ledger, what: 'time_entries' | 'quarantine'): Promise<number> {
  const rows = await ledger.rows<{ n: number }>(
    what === 'time_entries'
      ? sql`SELECT count(*)::int AS n FROM time_entries WHERE source_id = 'pages' AND status <> 'deleted'`
      : sql`SELECT count(*)::int AS n FROM quarantine WHERE source_id = 'pages' AND resolved_at IS NULL`,
  );
  return rows[0]!.n;
}

describe('pull stage batching', () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await ledger?.close();
  });

  it('Given many small pages without cursors, when pulled, then they are written in batches and every record is counted once', async () => {
    const PAGE = 250;
    const total = 2 * LEDGER_BATCH_ENTRIES + 3 * PAGE;
    const bad = (i: number) => i % 97 === 0;
    const connector = pagedSource(async function* () {
      for (let from = 0; from < total; from += PAGE) {
        const last = from + PAGE >= total;
        yield {
          stream: 'time_entries',
          records: records(from, PAGE, bad),
          cursor: null,
          ...(last ? { reconcile: { from: null, to: null } } : {}),
        };
      }
    });
    const progress: PullSummary[] = [];
    const summary = await pullSource({
      ledger,
      source,
      connector,
      clients,
      ctx: ctx(),
      runId: 'run-1',
      onPage: (s) => progress.push({ ...s }),
    });
    const quarantined = Array.from({ length: total }, (_, i) => i).filter(bad).length;
    expect(summary).toMatchObject({ read: total, inserted: total - quarantined, quarantined, deleted: 0 });
    // 40 pages: two full batches, then the rest closed by the reconciling page.
    expect(progress.map((p) => p.read)).toEqual([LEDGER_BATCH_ENTRIES, 2 * LEDGER_BATCH_ENTRIES, total]);
    expect(await count(ledger, 'time_entries')).toBe(total - quarantined);
    expect(await count(ledger, 'quarantine')).toBe(quarantined);
  });

  /** The ledger, with every statement delayed (and the `failAt`-th entry upsert failing), noting how many run at once. */
  function slowLedger(inner: Ledger, delayMs: number, failAt = 0) {
    const dialect = new PgDialect();
    const state = { active: 0, maxActive: 0, upserts: 0 };
    const wrapped: Ledger = {
      ...inner,
      async rows<T>(query: SQL): Promise<T[]> {
        state.active++;
        state.maxActive = Math.max(state.maxActive, state.active);
        try {
          await new Promise((r) => setTimeout(r, delayMs));
          if (dialect.sqlToQuery(query).sql.includes('INSERT INTO time_entries') && ++state.upserts === failAt)
            throw new Error('disk full');
          return await inner.rows<T>(query);
        } finally {
          state.active--;
        }
      },
    };
    return { ledger: wrapped, state };
  }

  it('Given a slow ledger, when many pages are pulled, then the next batch is read while one is written, writes never overlap, and every record is stored once', async () => {
    const PAGE = 250;
    const pagesPerBatch = LEDGER_BATCH_ENTRIES / PAGE;
    const total = 3 * LEDGER_BATCH_ENTRIES;
    const events: string[] = [];
    const connector = pagedSource(async function* () {
      for (let from = 0, k = 1; from < total; from += PAGE, k++) {
        events.push(`read ${k}`);
        yield { stream: 'time_entries', records: records(from, PAGE, undefined, 's'), cursor: null };
      }
    });
    const slow = slowLedger(ledger, 20);
    const summary = await pullSource({
      ledger: slow.ledger,
      source,
      connector,
      clients,
      ctx: ctx(),
      runId: 'run-3',
      onPage: (p) => events.push(`written ${p.read}`),
    });
    expect(summary).toMatchObject({ read: total, inserted: total, quarantined: 0 });
    // Sequential writing would read page 9 only after the first batch is written.
    expect(events.indexOf(`read ${pagesPerBatch + 1}`)).toBeLessThan(events.indexOf(`written ${LEDGER_BATCH_ENTRIES}`));
    expect(events.filter((e) => e.startsWith('written'))).toEqual([1, 2, 3].map((k) => `written ${k * LEDGER_BATCH_ENTRIES}`));
    expect(slow.state.maxActive).toBe(1);
    const rows = await ledger.rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM time_entries WHERE source_id = 'pages' AND external_id LIKE 's%'`,
    );
    expect(rows[0]!.n).toBe(total);
  });

  it('Given a ledger write that fails, when pulled, then the pull fails with it, no later cursor is committed and the source is read no further', async () => {
    const cursor = (k: number): Cursor => ({ page: k });
    let read = 0;
    const connector = pagedSource(async function* () {
      for (let k = 1; k <= 10; k++) {
        read = k;
        yield { stream: 'time_entries', records: records(k * 10, 10, undefined, 'w'), cursor: cursor(k) };
      }
    });
    await ledger.rows(sql`DELETE FROM sync_cursors WHERE source_id = 'pages'`);
    const slow = slowLedger(ledger, 5, 2);
    await expect(pullSource({ ledger: slow.ledger, source, connector, clients, ctx: ctx(), runId: 'run-4' })).rejects.toThrow('disk full');
    expect((await getCursors(ledger, 'pages')).time_entries).toEqual(cursor(1));
    const rows = await ledger.rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM time_entries WHERE source_id = 'pages' AND external_id LIKE 'w%'`,
    );
    expect(rows[0]!.n).toBe(10);
    // Page 3 is read while page 2 is written; its write never starts.
    expect(read).toBe(3);
  });

  it('Given pages that carry cursors and a read that fails on the fourth, when pulled, then the third cursor is committed with the entries before it and nothing after', async () => {
    const cursor = (k: number): Cursor => ({ page: k });
    const connector = pagedSource(async function* () {
      for (let k = 1; k <= 5; k++) {
        if (k === 4) throw new Error('connection reset');
        yield { stream: 'time_entries', records: records(k * 10, 10, undefined, 'c'), cursor: cursor(k) };
      }
    });
    const progress: number[] = [];
    await expect(
      pullSource({ ledger, source, connector, clients, ctx: ctx(), runId: 'run-2', onPage: (s) => progress.push(s.read) }),
    ).rejects.toThrow('connection reset');
    expect(progress).toEqual([10, 20, 30]);
    expect((await getCursors(ledger, 'pages')).time_entries).toEqual(cursor(3));
    const rows = await ledger.rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM time_entries WHERE source_id = 'pages' AND external_id LIKE 'c%'`,
    );
    expect(rows[0]!.n).toBe(30);
  });
});
