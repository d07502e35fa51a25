import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../src/config/loader';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { runSync } from '../../src/runners/inline.runner';
import { invoicesReport } from '../../src/reports/reports';
import { startFakeXero, type FakeXero } from '../fakes/xero-server';
import { CSV_HEADER, pipelineYaml } from '../destinations/conformance';
import { fakeTenant, xeroDestinationYaml } from './helpers';

/**
 * Totals compared like with like: the ledger's total (net lines) against Xero's SubTotal, with
 * Xero's TotalTax and Total kept beside it. A taxed invoice raises no alert; a real difference does.
 */
describe('Xero totals read back', () => {
  let fake: FakeXero;
  let dir: string;
  let ledger: Ledger;
  const log = pino({ level: 'silent' });
  beforeAll(async () => {
    // An organisation that keeps 2 decimals of a unit price whatever unitdp says.
    fake = await startFakeXero({ tenants: [fakeTenant(91)], maxUnitdp: 2 });
    fake.addContact('Acme Ltd');
    dir = mkdtempSync(path.join(tmpdir(), 'hb-xero-totals-'));
  });
  afterAll(async () => {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (hourly: string, unitPriceDecimals: 2 | 4) => {
    ledger = await openLedger({ dataDir: 'memory://' });
    const csv = path.join(dir, `hours-${hourly}.csv`);
    writeFileSync(csv, `${CSV_HEADER}\n2026-03-02,09:00,12:00,Ann,Acme,Web\n`);
    const destination = xeroDestinationYaml(
      fake,
      'dest',
      `defaults: { taxType: OUTPUT, unitPriceDecimals: ${unitPriceDecimals}, invoiceNumber: "HB-{{key}}-${hourly}" }`,
    );
    const file = path.join(dir, `hourbridge-${hourly}.yaml`);
    writeFileSync(file, pipelineYaml(csv, destination, { hourly, ...(unitPriceDecimals === 4 ? { unitPriceDecimals: 4 as const } : {}) }));
    return runSync({ config: loadConfig(file, { XERO_CLIENT_SECRET: fake.opts.clientSecret }), ledger, log });
  };

  it("Given a 15 % taxed invoice When synced Then no total alert fires, and the ledger keeps Xero's SubTotal, TotalTax and Total, shown by report billed", async () => {
    const result = await run('95.00', 2);
    try {
      expect(result.alerts).toEqual([]);
      const [inv] = [...fake.invoices.values()].filter((i) => i.InvoiceNumber === 'HB-acme-2026-03-dest-1-95.00');
      expect([inv!.SubTotal, inv!.TotalTax, inv!.Total]).toEqual([285, 42.75, 327.75]);
      const [row] = await invoicesReport(ledger, { clientId: 'acme' });
      expect(row).toMatchObject({ net: '285.00', remoteTax: '42.75', remoteGross: '327.75' });
      const [stored] = await ledger.rows<{ t: string }>(sql`SELECT round(remote_total, 2)::text AS t FROM invoices`);
      expect(stored!.t).toBe('285.00');
    } finally {
      await ledger.close();
    }
  }, 120_000);

  it('Given Xero computes a different net total (it rounds a 4-decimal price to 2) When synced Then the alert still fires, naming both figures', async () => {
    // 3 h × 10.1234 = 30.37 in the ledger; Xero bills 3 × 10.12 = 30.36.
    const result = await run('10.1234', 4);
    try {
      expect(result.alerts).toEqual([
        expect.stringMatching(/destination total 30\.36 \(tax 4\.55, gross 34\.91\) differs from the ledger's 30\.37/),
      ]);
    } finally {
      await ledger.close();
    }
  }, 120_000);
});
