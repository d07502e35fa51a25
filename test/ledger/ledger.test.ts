import { seenOf } from '../support/seen';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { markDeleted, upsertEntries } from '../../src/ledger/entries.repository';
import { commitCursor, getCursors } from '../../src/ledger/sync.repository';
import { applyRemoteStatus } from '../../src/ledger/invoices.repository';
import { rateStale } from '../../src/stages/rate.stage';
import { assembleAll } from '../../src/stages/assemble.stage';
import { ClientResolver } from '../../src/stages/clients';
import { createTestDatabase, postgresAvailable } from '../support/services';
import { client, entry, simpleRates } from '../support/entries';

const pgUp = await postgresAvailable();

interface Driver {
  name: string;
  open(): Promise<{ ledger: Ledger; cleanup(): Promise<void> }>;
}

const drivers: Driver[] = [
  {
    name: 'PGlite (embedded)',
    async open() {
      const ledger = await openLedger({ dataDir: 'memory://' });
      return { ledger, cleanup: () => ledger.close() };
    },
  },
];
if (pgUp) {
  drivers.push({
    name: 'PostgreSQL server',
    async open() {
      const db = await createTestDatabase();
      const ledger = await openLedger({ url: db.url });
      return {
        ledger,
        cleanup: async () => {
          await ledger.close();
          await db.drop();
        },
      };
    },
  });
}

async function reset(ledger: Ledger) {
  await ledger.rows(
    sql`TRUNCATE invoice_entries, invoice_lines, invoices, rated_lines, time_entries, sync_cursors, quarantine, runs, events RESTART IDENTITY CASCADE`,
  );
}

describe.each(drivers)('ledger on $name', (driver) => {
  let ledger: Ledger;
  let cleanup: () => Promise<void>;
  const acme = client();
  const rates = simpleRates([acme]);
  const clients = new ClientResolver([acme]);

  beforeAll(async () => {
    ({ ledger, cleanup } = await driver.open());
  });
  afterAll(async () => cleanup?.());
  beforeEach(async () => reset(ledger));

  async function pipeline() {
    await rateStale({ ledger, rates, clients });
    return assembleAll(ledger, [acme], rates);
  }

  async function liveInvoices() {
    return ledger.rows<{ key: string; total: string; hours: string; status: string; sequence: number }>(sql`
      SELECT key, draft->>'total' AS total, draft->>'hours' AS hours, status, sequence FROM invoices WHERE live ORDER BY key`);
  }

  it('Given new entries When upserted twice Then the second upsert counts them unchanged and keeps revision 1', async () => {
    const list = [entry({ externalId: 'a' }), entry({ externalId: 'b', date: '2026-03-03' })];
    expect(await upsertEntries(ledger, list, seenOf('r1'))).toEqual({ inserted: 2, updated: 0, unchanged: 0 });
    expect(await upsertEntries(ledger, list, seenOf('r2'))).toEqual({ inserted: 0, updated: 0, unchanged: 2 });
    const rows = await ledger.rows<{ revision: number }>(sql`SELECT revision FROM time_entries`);
    expect(rows.map((r) => r.revision)).toEqual([1, 1]);
  });

  it('Given a large page (bulk path on a server) When upserted twice with one row edited and one with a tab and backslash in its notes Then counts and content are exact', async () => {
    const list = Array.from({ length: 700 }, (_, i) =>
      entry({ externalId: `bulk-${i}`, notes: i === 7 ? 'tab\there \\ back\nslash' : `row ${i}` }),
    );
    expect(await upsertEntries(ledger, list, seenOf('r1'))).toEqual({ inserted: 700, updated: 0, unchanged: 0 });
    list[3] = entry({ externalId: 'bulk-3', durationSeconds: 3600, end: '2026-03-02T09:00:00.000Z' });
    expect(await upsertEntries(ledger, list, seenOf('r2'))).toEqual({ inserted: 0, updated: 1, unchanged: 699 });
    const [row] = await ledger.rows<{ notes: string; revision: number }>(
      sql`SELECT data->>'notes' AS notes, revision FROM time_entries WHERE external_id = 'bulk-7'`,
    );
    expect(row).toEqual({ notes: 'tab\there \\ back\nslash', revision: 1 });
  });

  it('Given a large page mixing new keys, an edited row, a row back after deletion and a repeated key When upserted Then each is counted and stored as such', async () => {
    const stored = Array.from({ length: 700 }, (_, i) => entry({ externalId: `k-${i}` }));
    expect(await upsertEntries(ledger, stored, seenOf('r1'))).toEqual({ inserted: 700, updated: 0, unchanged: 0 });
    await upsertEntries(ledger, stored.slice(1), seenOf('r2'));
    expect(await markDeleted(ledger, 'sheet', seenOf('r2'), { from: null, to: null })).toBe(1); // k-0
    const page = [
      ...Array.from({ length: 300 }, (_, i) => entry({ externalId: `new-${i}`, notes: `new ${i}` })),
      ...stored.slice(0, 400),
      entry({ externalId: 'new-5', notes: 'new 5, corrected further down the same page' }),
    ];
    page[300 + 9] = entry({ externalId: 'k-9', durationSeconds: 3600, end: '2026-03-02T09:00:00.000Z' });
    const versions = async () =>
      new Map(
        (await ledger.rows<{ id: string; v: string }>(sql`SELECT external_id AS id, xmin::text AS v FROM time_entries`)).map((r) => [
          r.id,
          r.v,
        ]),
      );
    const before = await versions();
    expect(await upsertEntries(ledger, page, seenOf('r3'))).toEqual({ inserted: 300, updated: 2, unchanged: 399 });
    const rows = await ledger.rows<{
      external_id: string;
      revision: number;
      status: string;
      deleted: boolean;
      notes: string | null;
    }>(sql`
      SELECT external_id, revision, status, deleted_at IS NOT NULL AS deleted, data->>'notes' AS notes
      FROM time_entries WHERE external_id IN ('k-0', 'k-9', 'k-10', 'new-0', 'new-5') ORDER BY external_id`);
    expect(rows).toEqual([
      { external_id: 'k-0', revision: 3, status: 'new', deleted: false, notes: null },
      { external_id: 'k-10', revision: 1, status: 'new', deleted: false, notes: null },
      { external_id: 'k-9', revision: 2, status: 'new', deleted: false, notes: null },
      { external_id: 'new-0', revision: 1, status: 'new', deleted: false, notes: 'new 0' },
      {
        external_id: 'new-5',
        revision: 1,
        status: 'new',

        deleted: false,
        notes: 'new 5, corrected further down the same page',
      },
    ]);
    // Seen: the 700 distinct keys of the page. Written: the 300 new rows and the 2 changed ones
    // (k-0 back after deletion, k-9 edited); the 398 held as they are are not written at all.
    expect(seenOf('r3').of('sheet')).toHaveLength(700);
    const after = await versions();
    expect(after.size).toBe(1000);
    const written = [...after].filter(([id, v]) => before.get(id) !== v).map(([id]) => id);
    expect(written.filter((id) => !id.startsWith('new-')).sort()).toEqual(['k-0', 'k-9']);
    expect(written).toHaveLength(302);
  });

  it('Given two writers storing the same large page at once, for a source new to the ledger and for one it already holds When both finish Then every key is stored once at revision 1 and the counts add up', async () => {
    // A source whose last page held known keys is probed before its COPY; a new one is COPYed
    // straight away: the race is lost at a different step in each, and both must fall back.
    const held = Array.from({ length: 600 }, (_, i) => entry({ sourceId: 'held', externalId: `old-${i}` }));
    await upsertEntries(ledger, held, seenOf('r0'));
    await upsertEntries(ledger, held, seenOf('r0'));
    for (const sourceId of [`fresh-${Date.now()}`, 'held']) {
      const page = Array.from({ length: 600 }, (_, i) => entry({ sourceId, externalId: `both-${i}` }));
      const [a, b] = await Promise.all([upsertEntries(ledger, page, seenOf('ra')), upsertEntries(ledger, page, seenOf('rb'))]);
      expect({ inserted: a.inserted + b.inserted, updated: a.updated + b.updated, unchanged: a.unchanged + b.unchanged }).toEqual({
        inserted: 600,
        updated: 0,
        unchanged: 600,
      });
      const [count] = await ledger.rows<{ n: number; revisions: number[] }>(sql`
        SELECT count(*)::int AS n, array_agg(DISTINCT revision) AS revisions FROM time_entries WHERE source_id = ${sourceId}`);
      expect(count).toEqual({ n: 1200 - (sourceId === 'held' ? 0 : 600), revisions: [1] });
    }
  });

  it('Given a large page the database rejects part-way When upserted Then the error names the bad value, nothing of that page is stored, and the next page is stored', async () => {
    const page = Array.from({ length: 600 }, (_, i) => entry({ externalId: `bad-${i}` }));
    page[550] = entry({ externalId: 'bad-550', date: '2026-02-30' });
    await expect(upsertEntries(ledger, page, seenOf('r1'))).rejects.toThrow(/2026-02-30/);
    expect(await ledger.rows(sql`SELECT 1 FROM time_entries`)).toEqual([]);
    page[550] = entry({ externalId: 'bad-550' });
    expect(await upsertEntries(ledger, page, seenOf('r2'))).toEqual({ inserted: 600, updated: 0, unchanged: 0 });
  });

  it('Given a page of several megabytes with a bad value near its start When upserted Then the error names the value, nothing is stored, and the ledger goes on working', async () => {
    // On a server the COPY is rejected while most of the page is still to be sent (see copyIn).
    const long = 'x'.repeat(2000);
    const page = Array.from({ length: 5000 }, (_, i) => entry({ externalId: `mb-${i}`, notes: `${i} ${long}` }));
    page[20] = entry({ externalId: 'mb-20', start: 'not-a-time' });
    await expect(upsertEntries(ledger, page, seenOf('r1'))).rejects.toThrow(/not-a-time/);
    expect(await ledger.rows(sql`SELECT 1 FROM time_entries`)).toEqual([]);
    expect(await upsertEntries(ledger, page.slice(21, 621), seenOf('r2'))).toEqual({ inserted: 600, updated: 0, unchanged: 0 });
  });

  /** Live links of open invoices: revision, whether their lines are the entry's current rated lines (links carry them without the trace), and the row version. */
  async function openLinks() {
    return ledger.rows<{ id: string; revision: number; linkRevision: number; current: boolean; version: string }>(sql`
      SELECT te.external_id AS id, te.revision, ie.entry_revision AS "linkRevision", ie.xmin::text AS version,
        ie.lines = COALESCE((SELECT jsonb_agg(rl.data - 'trace' ORDER BY rl.piece) FROM rated_lines rl WHERE rl.entry_id = te.id), '[]'::jsonb) AS current
      FROM invoice_entries ie JOIN invoices i ON i.id = ie.invoice_id JOIN time_entries te ON te.id = ie.entry_id
      WHERE ie.live AND i.status IN ('draft','pushed','failed') ORDER BY te.external_id`);
  }

  it('Given entries on an open draft When one changes only its notes Then its link takes the new revision and the others are left as they are', async () => {
    await upsertEntries(
      ledger,
      ['a', 'b', 'c'].map((id) => entry({ externalId: id })),
      seenOf('r1'),
    );
    await pipeline();
    const before = await openLinks();
    expect(before.map((l) => [l.id, l.linkRevision, l.current])).toEqual([
      ['a', 1, true],
      ['b', 1, true],
      ['c', 1, true],
    ]);
    await upsertEntries(ledger, [entry({ externalId: 'b', notes: 'call with the client' })], seenOf('r2'));
    await pipeline();
    const after = await openLinks();
    expect(after.map((l) => [l.id, l.revision, l.linkRevision, l.current])).toEqual([
      ['a', 1, 1, true],
      ['b', 2, 2, true],
      ['c', 1, 1, true],
    ]);
    // Unchanged links are not rewritten (same row version); the changed one is.
    expect(after.map((l) => l.version === before.find((b) => b.id === l.id)!.version)).toEqual([true, false, true]);
  });

  it('Given an entry on an open draft When it is re-priced under new rates (same revision) Then its link bills the new lines', async () => {
    await upsertEntries(ledger, [entry({ externalId: 'a' })], seenOf('r1'));
    await pipeline();
    const seventy = simpleRates([acme], '70.00');
    await rateStale({ ledger, rates: seventy, clients });
    await assembleAll(ledger, [acme], seventy);
    expect((await openLinks()).map((l) => [l.id, l.linkRevision, l.current])).toEqual([['a', 1, true]]);
    expect((await liveInvoices()).map((i) => i.total)).toEqual(['560.00']);
  });

  it('Given a stored entry When its hours change Then it gets revision 2 and is re-priced', async () => {
    await upsertEntries(ledger, [entry({ externalId: 'a' })], seenOf('r1'));
    await pipeline();
    const changed = entry({ externalId: 'a', end: '2026-03-02T17:00:00.000Z', durationSeconds: 9 * 3600 });
    expect(await upsertEntries(ledger, [changed], seenOf('r2'))).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    const [row] = await ledger.rows<{ revision: number; status: string }>(sql`SELECT revision, status FROM time_entries`);
    expect(row).toEqual({ revision: 2, status: 'new' });
  });

  it('Given a row moved to another position When re-read Then the entry is unchanged (provenance is not content)', async () => {
    await upsertEntries(ledger, [entry({ externalId: 'a' })], seenOf('r1'));
    const moved = entry({ externalId: 'a', provenance: { file: 'hours.csv', row: 9, fetchedAt: '2026-04-01T00:00:00.000Z' } });
    expect(await upsertEntries(ledger, [moved], seenOf('r2'))).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
  });

  it('Given a snapshot read that no longer contains an entry When reconciled Then only that entry is marked deleted', async () => {
    await upsertEntries(ledger, [entry({ externalId: 'a' }), entry({ externalId: 'b' })], seenOf('r1'));
    await upsertEntries(ledger, [entry({ externalId: 'a' })], seenOf('r2'));
    expect(await markDeleted(ledger, 'sheet', seenOf('r2'), { from: null, to: null })).toBe(1);
    const rows = await ledger.rows<{ external_id: string; status: string }>(
      sql`SELECT external_id, status FROM time_entries ORDER BY external_id`,
    );
    expect(rows).toEqual([
      { external_id: 'a', status: 'new' },
      { external_id: 'b', status: 'deleted' },
    ]);
  });

  it('Given a committed cursor When read back Then it is returned per stream', async () => {
    await commitCursor(ledger, 'harvest', 'time_entries', { updatedSince: '2026-03-01T00:00:00Z' });
    await commitCursor(ledger, 'harvest', 'time_entries', { updatedSince: '2026-03-02T00:00:00Z' });
    expect(await getCursors(ledger, 'harvest')).toEqual({ time_entries: { updatedSince: '2026-03-02T00:00:00Z' } });
  });

  it('Given an entry live on one invoice When a second live link is inserted Then the database refuses it', async () => {
    await upsertEntries(ledger, [entry({ externalId: 'a' })], seenOf('r1'));
    await pipeline();
    const [inv] = await ledger.rows<{ id: number }>(sql`SELECT id::int AS id FROM invoices`);
    await ledger.rows(sql`INSERT INTO invoices (key, client_id, destination_id, currency, period_start, period_end, period_label, sequence, hours, total, issue_date, due_date, content_hash, draft)
      VALUES ('other', 'acme', 'files', 'EUR', '2026-03-01', '2026-03-31', 'x', 1, 0, 0, '2026-03-31', '2026-04-14', 'h', '{}'::jsonb)`);
    const [entryRow] = await ledger.rows<{ id: number }>(sql`SELECT id::int AS id FROM time_entries`);
    expect(inv).toBeDefined();
    await expect(
      ledger.rows(sql`INSERT INTO invoice_entries (entry_id, invoice_id, entry_revision, live, lines)
        SELECT ${entryRow!.id}, id, 1, true, '[]'::jsonb FROM invoices WHERE key = 'other'`),
    ).rejects.toThrow();
  });

  it('Given entries in two months When assembled Then there is one invoice per month with exact totals, and re-assembling changes nothing', async () => {
    await upsertEntries(
      ledger,
      [
        entry({ externalId: 'a' }),
        entry({
          externalId: 'b',
          date: '2026-04-01',
          start: '2026-04-01T07:00:00.000Z',
          end: '2026-04-01T14:35:00.000Z',
          durationSeconds: 7 * 3600 + 35 * 60,
        }),
      ],
      seenOf('r1'),
    );
    const first = await pipeline();
    expect(first.drafted).toBe(2);
    // 8 h × 65 = 520.00; 7:35 rounds to 7.5 h (15 min, nearest) × 65 = 487.50
    expect(await liveInvoices()).toEqual([
      { key: 'acme-2026-03-files-1', total: '520.00', hours: '8', status: 'draft', sequence: 1 },
      { key: 'acme-2026-04-files-1', total: '487.50', hours: '7.5', status: 'draft', sequence: 1 },
    ]);
    const second = await pipeline();
    expect(second).toMatchObject({ drafted: 0, updated: 0, unchanged: 2 });
  });

  it('Given a drafted entry When it is deleted at source Then it leaves the open draft', async () => {
    await upsertEntries(
      ledger,
      [
        entry({ externalId: 'a' }),
        entry({
          externalId: 'b',
          date: '2026-03-03',
          start: '2026-03-03T08:00:00.000Z',
          end: '2026-03-03T12:00:00.000Z',
          durationSeconds: 4 * 3600,
        }),
      ],
      seenOf('r1'),
    );
    await pipeline();
    await upsertEntries(ledger, [entry({ externalId: 'a' })], seenOf('r2'));
    await markDeleted(ledger, 'sheet', seenOf('r2'), { from: null, to: null });
    const s = await pipeline();
    expect(s.updated).toBe(1);
    expect(await liveInvoices()).toEqual([{ key: 'acme-2026-03-files-1', total: '520.00', hours: '8', status: 'draft', sequence: 1 }]);
  });

  it('Given an approved invoice When one of its entries is edited Then a correction invoice credits the old lines and bills the new, and the entry is live on exactly one invoice', async () => {
    await upsertEntries(ledger, [entry({ externalId: 'a' })], seenOf('r1'));
    await pipeline();
    await applyRemoteStatus(ledger, { key: 'acme-2026-03-files-1' }, 'approved', 'AUTHORISED');
    const edited = entry({ externalId: 'a', end: '2026-03-02T18:00:00.000Z', durationSeconds: 10 * 3600 });
    await upsertEntries(ledger, [edited], seenOf('r2'));
    const s = await pipeline();
    expect(s.corrections).toBe(1);
    const invoices = await liveInvoices();
    expect(invoices).toEqual([
      { key: 'acme-2026-03-files-1', total: '520.00', hours: '8', status: 'approved', sequence: 1 },
      // −8 h × 65 + 10 h × 65 = 130.00
      { key: 'acme-2026-03-files-2', total: '130.00', hours: '2', status: 'draft', sequence: 2 },
    ]);
    const links = await ledger.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM invoice_entries WHERE live`);
    expect(links[0]!.n).toBe(1);
  });

  it('Given a deleted draft in the accounting system When its status comes back Then its entries are drafted again on a new invoice', async () => {
    await upsertEntries(ledger, [entry({ externalId: 'a' })], seenOf('r1'));
    await pipeline();
    await ledger.rows(sql`UPDATE invoices SET pushed_hash = content_hash, status = 'pushed'`);
    await applyRemoteStatus(ledger, { key: 'acme-2026-03-files-1' }, 'deleted', 'DELETED');
    await pipeline();
    const invoices = await liveInvoices();
    expect(invoices).toEqual([{ key: 'acme-2026-03-files-2', total: '520.00', hours: '8', status: 'draft', sequence: 2 }]);
  });
});
