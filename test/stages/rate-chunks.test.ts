import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { upsertEntries } from '../../src/ledger/entries.repository';
import { rateStale } from '../../src/stages/rate.stage';
import { ClientResolver } from '../../src/stages/clients';
import { entry } from '../support/entries';
import { seenOf } from '../support/seen';
import { client, ratesFromYaml } from '../rates/helpers';
import { OVERTIME } from '../rates/cards';

/**
 * The rate stage prices in chunks; what an entry costs must not depend on where a chunk ends.
 * Overtime counts a worker's hours per day and week, so an entry is priced with its neighbours
 * (companions) whenever its ruleset has overtime, and alone when it has none.
 */
const acme = client('acme');
const clients = new ClientResolver([acme]);
const { rates } = ratesFromYaml(OVERTIME('monday'), [acme]);

/** Six 9-hour days of one worker, Monday 2026-03-02 to Saturday: 54 h, the last 14 over the weekly 40. */
const week = Array.from({ length: 6 }, (_, d) => {
  const date = `2026-03-0${2 + d}`;
  return entry({
    externalId: `w${d}`,
    date,
    start: `${date}T07:00:00.000Z`,
    end: `${date}T16:00:00.000Z`,
    durationSeconds: 9 * 3600,
  });
});

let ledger: Ledger;
beforeAll(async () => {
  ledger = await openLedger({ dataDir: 'memory://' });
});
afterAll(async () => ledger?.close());
beforeEach(async () => {
  await ledger.rows(sql`TRUNCATE invoice_entries, invoice_lines, invoices, rated_lines, time_entries RESTART IDENTITY CASCADE`);
});

async function pricedTotal(): Promise<string> {
  const [row] = await ledger.rows<{ total: string }>(sql`SELECT sum(amount)::numeric(20,2)::text AS total FROM rated_lines`);
  return row!.total;
}

describe('rate stage in chunks (embedded ledger)', () => {
  it('Given a week with weekly overtime When it is priced one entry per chunk Then the total equals pricing it in one chunk', async () => {
    expect(rates.pricedWithNeighbours('acme')).toBe(true);
    await upsertEntries(ledger, week, seenOf('r1'));
    await rateStale({ ledger, rates, clients });
    const whole = await pricedTotal();
    // 40 h × 30.00 + 14 h × 45.00
    expect(whole).toBe('1830.00');

    await ledger.rows(sql`TRUNCATE invoice_entries, invoice_lines, invoices, rated_lines, time_entries RESTART IDENTITY CASCADE`);
    await upsertEntries(ledger, week, seenOf('r2'));
    await rateStale({ ledger, rates, clients, chunkSize: 1 });
    expect(await pricedTotal()).toBe(whole);
  });

  it('Given a ruleset without overtime When entries are priced one per chunk (in table order) Then every entry is priced once', async () => {
    const { rates: plain } = ratesFromYaml('rates:\n  rulesets:\n    plain:\n      base: [{ id: std, hourly: 30.00 }]\n', [acme]);
    expect(plain.pricedWithNeighbours('acme')).toBe(false);
    expect(plain.pricedWithNeighbours('nobody')).toBe(false);
    // Inserted out of date order, so table order and (worker, date) order differ.
    await upsertEntries(ledger, [...week].reverse(), seenOf('r3'));
    const summary = await rateStale({ ledger, rates: plain, clients, chunkSize: 1 });
    expect(summary).toEqual({ rated: 6, excluded: 0, unpriced: 0 });
    expect(await pricedTotal()).toBe('1620.00'); // 54 h × 30.00
    const again = await rateStale({ ledger, rates: plain, clients, chunkSize: 1 });
    expect(again).toEqual({ rated: 0, excluded: 0, unpriced: 0 });
  });
});
