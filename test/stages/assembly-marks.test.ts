import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { markDeleted, SeenKeys, upsertEntries } from '../../src/ledger/entries.repository';
import { applyRemoteStatus, recordWritten } from '../../src/ledger/invoices.repository';
import { rateStale } from '../../src/stages/rate.stage';
import { assembleAll } from '../../src/stages/assemble.stage';
import { ClientResolver } from '../../src/stages/clients';
import type { TimeEntry } from '../../src/domain/time-entry';
import { client, entry, simpleRates } from '../support/entries';

/**
 * The change marker per client: assembly skips a client only when nothing it reads changed —
 * neither its entries' prices, nor deletions, nor entries moving between clients, nor an
 * invoice's status at the destination, nor its config or rules.
 */
const acme = client({ lines: { groupBy: 'entry', description: '{{worker}}' } });
const globex = client({ id: 'globex', name: 'Globex GmbH', lines: { groupBy: 'entry', description: '{{worker}}' } });
const rates = simpleRates([acme, globex]);
const resolver = new ClientResolver([acme, globex]);

let ledger: Ledger;
beforeAll(async () => {
  ledger = await openLedger({ dataDir: 'memory://' });
});
afterAll(async () => ledger?.close());
beforeEach(async () => {
  await ledger.rows(
    sql`TRUNCATE invoice_entries, invoice_lines, invoices, rated_lines, time_entries, assembly_marks RESTART IDENTITY CASCADE`,
  );
});

/** Read the source as it is now (a snapshot: what it no longer lists is deleted), price, assemble. */
async function sync(list: TimeEntry[], clients = [acme, globex]) {
  const seen = new SeenKeys();
  await upsertEntries(ledger, list, seen);
  await markDeleted(ledger, 'sheet', seen, { from: null, to: null });
  await rateStale({ ledger, rates, clients: resolver });
  return assembleAll(ledger, clients, rates);
}

/** Each invoice's row version: a row that was not written keeps it. */
async function versions() {
  return ledger.rows<{ key: string; v: string; total: string; status: string }>(
    sql`SELECT key, xmin::text AS v, total::numeric(20,2)::text AS total, status FROM invoices ORDER BY key`,
  );
}

const three = [
  entry({ externalId: 'a' }),
  entry({ externalId: 'b', durationSeconds: 3600, end: '2026-03-02T09:00:00.000Z' }),
  entry({ externalId: 'g', client: 'Globex GmbH', clientId: 'globex' }),
];

describe('assembly change markers', () => {
  it('Given assembled drafts When nothing changed Then no client is assembled again and no invoice row is written', async () => {
    expect(await sync(three)).toMatchObject({ drafted: 2 });
    const before = await versions();
    expect(await sync(three)).toEqual({ drafted: 0, updated: 0, unchanged: 2, emptied: 0, corrections: 0, released: 0 });
    expect(await versions()).toEqual(before);
  });

  it('Given assembled drafts When one entry of one client changes Then only that client is assembled and only its draft changes', async () => {
    await sync(three);
    const before = await versions();
    const edited = [three[0]!, { ...three[1]!, durationSeconds: 7200, end: '2026-03-02T10:00:00.000Z' }, three[2]!];
    expect(await sync(edited)).toMatchObject({ drafted: 0, updated: 1, unchanged: 1 });
    const after = await versions();
    expect(after.find((i) => i.key.startsWith('globex'))).toEqual(before.find((i) => i.key.startsWith('globex')));
    expect(after.find((i) => i.key.startsWith('acme'))!.total).toBe('650.00'); // 8 h + 2 h at 65.00
  });

  it('Given an entry on one client’s draft When the source moves it to the other client Then both drafts follow in the same run', async () => {
    await sync(three);
    const moved = [three[0]!, { ...three[1]!, client: 'Globex GmbH', clientId: 'globex' }, three[2]!];
    // The new client first: its pass cannot take the entry while it is live on the old client's
    // draft; the old client's pass releases it, and that must mark the new client again.
    await sync(moved, [globex, acme]);
    expect((await versions()).map((i) => [i.key.split('-')[0], i.total])).toEqual([
      ['acme', '520.00'],
      ['globex', '585.00'],
    ]);
  });

  it('Given assembled drafts When an entry is deleted at source Then its client’s draft drops it', async () => {
    await sync(three);
    await sync([three[0]!, three[2]!]);
    expect((await versions()).map((i) => i.total)).toEqual(['520.00', '520.00']);
  });

  it('Given a client’s config changes (its description template) When nothing else changed Then its drafts are assembled again', async () => {
    await sync(three);
    const renamed = client({ lines: { groupBy: 'entry', description: 'Work by {{worker}}' } });
    expect(await sync(three, [renamed, globex])).toMatchObject({ updated: 1, unchanged: 1 });
    const [row] = await ledger.rows<{ d: string }>(
      sql`SELECT draft->'lines'->0->>'description' AS d FROM invoices WHERE client_id = 'acme'`,
    );
    expect(row!.d).toBe('Work by Anna de Vries');
  });

  it('Given a pushed draft approved at the destination When an entry on it is edited Then the next assembly corrects it on a new invoice', async () => {
    await sync(three);
    const [inv] = await ledger.rows<{ id: number; key: string; hash: string }>(
      sql`SELECT id::int AS id, key, content_hash AS hash FROM invoices WHERE client_id = 'acme'`,
    );
    await recordWritten(ledger, inv!.id, { contentHash: inv!.hash, emptied: false });
    await applyRemoteStatus(ledger, { key: inv!.key }, 'approved', 'AUTHORISED');
    const edited = [three[0]!, { ...three[1]!, durationSeconds: 7200, end: '2026-03-02T10:00:00.000Z' }, three[2]!];
    expect(await sync(edited)).toMatchObject({ drafted: 1, corrections: 1 });
    const acmeInvoices = (await versions()).filter((i) => i.key.startsWith('acme'));
    expect(acmeInvoices.map((i) => [i.status, i.total])).toEqual([
      ['approved', '585.00'],
      ['draft', '65.00'], // − 1 h + 2 h
    ]);
  });
});
