import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../src/config/loader';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { runSync } from '../../src/runners/inline.runner';
import { invoicesReport } from '../../src/reports/reports';
import { startFakeXero, type FakeXero } from '../fakes/xero-server';
import { exampleOnXeroYaml, fakeTenant } from '../xero/helpers';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const log = pino({ level: 'silent' });

/**
 * Voiding in Xero, read back by the status poll of the next sync: a voided invoice bills
 * nothing, so a correction of it no longer credits it, and a credit an approved correction
 * already gave is billed back. The bundled example's acme invoice is 2247.50; the edit adds one
 * hour at 70.00.
 */
describe('voided invoices in Xero (fake Xero server, embedded ledger)', () => {
  let dir: string;
  let fake: FakeXero;
  let ledger: Ledger;
  let configFile: string;
  const csv = () => path.join(dir, 'example/hours.csv');
  const editCsv = (from: string, to: string) => writeFileSync(csv(), readFileSync(csv(), 'utf8').replace(from, to));
  const sync = async () => runSync({ config: loadConfig(configFile, { XERO_CLIENT_SECRET: fake.opts.clientSecret }), ledger, log });
  const live = (number: string) => [...fake.invoices.values()].filter((i) => i.InvoiceNumber === number && i.Status !== 'DELETED');
  const status = async (key: string) =>
    (await ledger.rows<{ status: string }>(sql`SELECT status FROM invoices WHERE key = ${key}`))[0]?.status;
  /** The live invoices of acme, as `report billed` lists them. */
  const acme = async () => (await invoicesReport(ledger, { clientId: 'acme' })).map((r) => [r.key, r.status, r.net]);

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hourbridge-xero-void-'));
    cpSync(path.join(root, 'example'), path.join(dir, 'example'), { recursive: true });
    fake = await startFakeXero({ tenants: [fakeTenant(17)] });
    const example = readFileSync(path.join(root, 'config/example.yaml'), 'utf8');
    const yaml = exampleOnXeroYaml(example, csv(), fake);
    configFile = path.join(dir, 'hourbridge.yaml');
    writeFileSync(configFile, yaml);
    ledger = await openLedger({ dataDir: 'memory://' });
    await sync();
    fake.setStatus(live('HB-acme-2026-03-xero-1')[0]!.InvoiceID, 'AUTHORISED');
    editCsv('17-03-2026;13:00;17:00', '17-03-2026;13:00;18:00');
    await sync();
    expect(live('HB-acme-2026-03-xero-2').map((i) => [i.Status, i.Total])).toEqual([['DRAFT', 70]]);
  });
  afterEach(async () => {
    await ledger?.close();
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Given an approved invoice and its correction draft When finance voids the approved invoice in Xero Then the next sync turns the correction draft into the full invoice (2317.50), with no credit of the voided one', async () => {
    fake.setStatus(live('HB-acme-2026-03-xero-1')[0]!.InvoiceID, 'VOIDED');
    const result = await sync();
    expect(result.summary.pushFailed).toBe(0);
    expect(await status('acme-2026-03-xero-1')).toBe('voided');
    expect(await acme()).toEqual([['acme-2026-03-xero-2', 'pushed', '2317.50']]);
    const draft = live('HB-acme-2026-03-xero-2');
    expect(draft.map((i) => [i.Status, i.Total])).toEqual([['DRAFT', 2317.5]]);
    expect(draft[0]!.LineItems.every((l) => !String(l.Description).startsWith('Correction'))).toBe(true);
    expect(live('HB-acme-2026-03-xero-3')).toEqual([]);
  }, 180_000);

  it('Given the correction was approved too When finance then voids the corrected invoice Then the next sync drafts the credit back: the live invoices add up to the hours as they are now', async () => {
    fake.setStatus(live('HB-acme-2026-03-xero-2')[0]!.InvoiceID, 'AUTHORISED');
    await sync();
    fake.setStatus(live('HB-acme-2026-03-xero-1')[0]!.InvoiceID, 'VOIDED');
    const result = await sync();
    expect(result.summary.pushFailed).toBe(0);
    // 2317.50 now true, 70.00 billed by the approved correction: 2247.50 to bill.
    expect(await status('acme-2026-03-xero-1')).toBe('voided');
    expect(await acme()).toEqual([
      ['acme-2026-03-xero-2', 'approved', '70.00'],
      ['acme-2026-03-xero-3', 'pushed', '2247.50'],
    ]);
    expect(live('HB-acme-2026-03-xero-3').map((i) => [i.Status, i.Total])).toEqual([['DRAFT', 2247.5]]);
  }, 180_000);
});
