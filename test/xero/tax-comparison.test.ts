import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/loader';
import { openLedger } from '../../src/ledger/db';
import { runSync } from '../../src/runners/inline.runner';
import { CSV_HEADER, pipelineYaml } from '../destinations/conformance';
import { startFakeXero, type FakeXero } from '../fakes/xero-server';
import { fakeTenant, xeroDestinationYaml } from './helpers';

/**
 * Xero computes tax per line (each line's tax rounded, then summed); EN 16931 rounds once per
 * VAT category and rate. For a client with `vat`, a sync that pushes to Xero says so when the
 * two differ, with both figures.
 */
describe('Xero tax against the EN 16931 model', () => {
  let fake: FakeXero;
  let dir: string;
  beforeAll(async () => {
    fake = await startFakeXero({ tenants: [fakeTenant(73)] });
    fake.addContact('Acme Ltd');
    dir = mkdtempSync(path.join(tmpdir(), 'hb-xero-tax-'));
  });
  afterAll(async () => {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const sync = async (rate: string) => {
    const csv = path.join(dir, 'hours.csv');
    writeFileSync(csv, `${CSV_HEADER}\n2026-03-02,09:00,10:00,Ann,Acme,Web\n2026-03-03,09:00,10:00,Bob,Acme,Web\n`);
    const dest = xeroDestinationYaml(fake, 'dest', 'defaults:', `  invoiceNumber: "HB-{{key}}-${rate}"`, '  taxType: OUTPUT');
    const file = path.join(dir, `c-${rate}.yaml`);
    // 0.03 an hour: two lines of 0.03 at 15 % are 0.0045 → 0.00 each in Xero, 0.06 × 15 % = 0.009 → 0.01 per category.
    writeFileSync(file, pipelineYaml(csv, dest, { hourly: '0.03', extra: { client: `    vat: { category: S, rate: ${rate} }\n` } }));
    const ledger = await openLedger({ dataDir: 'memory://' });
    try {
      return await runSync({
        config: loadConfig(file, { XERO_CLIENT_SECRET: fake.opts.clientSecret }),
        ledger,
        log: pino({ level: 'silent' }),
      });
    } finally {
      await ledger.close();
    }
  };

  it('Given lines whose tax rounds differently per line When pushed to Xero Then the run alerts with Xero’s and the EN 16931 figure and says why', async () => {
    const result = await sync('15');
    expect(result.summary).toMatchObject({ pushed: 1, pushFailed: 0 });
    expect(result.alerts).toEqual([
      "acme-2026-03-dest-1: tax at the destination 0.00 differs from EN 16931's 0.01 (gross 0.06 vs 0.07): the package rounds tax per line, EN 16931 once per VAT category and rate",
    ]);
  }, 120_000);

  it('Given a client vat rate that is not the rate of the Xero tax type When pushed Then the alert says the rates differ', async () => {
    const result = await sync('21');
    expect(result.alerts).toHaveLength(1);
    expect(result.alerts[0]).toMatch(
      /tax at the destination 0\.00 differs from EN 16931's 0\.01 .*the package's tax rates are not the client's vat/,
    );
  }, 120_000);
});
