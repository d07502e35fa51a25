import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { compareTotals, plainInvoices, type InvoiceFigures } from '../../bench/support/plain-invoices';
import { CLIENTS, HEADER, ROLES, clientName, jobRow, rateOf } from '../../bench/support/sync-job';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hb-plain-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const csvOf = async (name: string, rows: string[][]) => {
  const file = path.join(dir, name);
  await writeFile(file, `${[HEADER.join(','), ...rows.map((r) => r.join(','))].join('\n')}\n`);
  return file;
};

describe("the sync bench's plain computation (the reference every run is checked against)", () => {
  it('Given 16 and 60 worked minutes in one ISO week and 60 in the next, When computed, Then each row rounds up to 15 min and the weeks are separate invoices', async () => {
    const file = await csvOf('weeks.csv', [
      ['E0', '2026-01-05', '08:00', '08:16', 'Person 01', 'junior', clientName(0), 'Project 01-1'],
      ['E1', '2026-01-11', '08:00', '09:00', 'Person 01', 'junior', clientName(0), 'Project 01-1'],
      ['E2', '2026-01-12', '08:00', '09:00', 'Person 01', 'junior', clientName(0), 'Project 01-1'],
    ]);
    const price = rateOf(0, 0);
    const plain = await plainInvoices(file);
    expect([...plain.keys()].sort()).toEqual(['c01 2026-01-05', 'c01 2026-01-12']);
    const w2 = plain.get('c01 2026-01-05')!;
    expect(w2.hours).toBe('1.5');
    expect(w2.lines).toEqual([
      { description: 'Project 01-1 — Person 01', quantity: '1.5', unitPrice: price, amount: (1.5 * Number(price)).toFixed(2) },
    ]);
    expect(plain.get('c01 2026-01-12')!.total).toBe(Number(price).toFixed(2));
  });

  it('Given a quarter hour at a rate whose quarter ends in half a cent, When computed, Then the line amount rounds half up', async () => {
    let pick: { c: number; k: number } | undefined;
    for (let c = 0; c < CLIENTS && !pick; c++)
      for (let k = 0; k < ROLES.length && !pick; k++) if (Number(rateOf(c, k).split('.')[1]) % 4 === 2) pick = { c, k };
    expect(pick).toBeDefined();
    const price = rateOf(pick!.c, pick!.k);
    const file = await csvOf('half.csv', [['E0', '2026-01-06', '08:00', '08:01', 'Person 01', ROLES[pick!.k]!, clientName(pick!.c), 'P']]);
    const [inv] = [...(await plainInvoices(file)).values()];
    // 0.25 × p.x2 = …5 tenths of a cent exactly: half-up adds the cent.
    const cents = Number(price.replace('.', ''));
    expect(inv!.total).toBe(((Math.floor(cents / 4) + 1) / 100).toFixed(2));
  });

  it("Given the job's rows, When every 100th row is edited, Then exactly those rows change and each bills 15 minutes more", () => {
    for (let i = 0; i < 1000; i++) {
      const a = jobRow(i, false);
      const b = jobRow(i, true);
      if (i % 100 === 0) {
        const mins = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3));
        expect(mins(b[3]!) - mins(a[3]!)).toBe(15);
        expect(b.filter((_, k) => k !== 3)).toEqual(a.filter((_, k) => k !== 3));
      } else expect(b).toEqual(a);
    }
  });
});

describe('compareTotals', () => {
  const inv = (total: string, hours = '1'): InvoiceFigures => ({ client: 'c01', periodStart: '2026-01-05', total, hours, lines: [] });
  it('Given equal invoices, When compared, Then there is no difference', () => {
    expect(compareTotals(new Map([['a', inv('10.00')]]), new Map([['a', inv('10.0')]]))).toEqual([]);
  });
  it('Given a total one cent off, a missing and an extra invoice, When compared, Then each is named', () => {
    const diffs = compareTotals(
      new Map([
        ['a', inv('10.01')],
        ['x', inv('1.00')],
      ]),
      new Map([
        ['a', inv('10.00')],
        ['b', inv('2.00')],
      ]),
    );
    expect(diffs).toEqual([
      'a: total 10.01, plain 10.00',
      'b: no draft written (plain total 2.00)',
      'x: draft written, plain computation has no such invoice',
    ]);
  });
});
