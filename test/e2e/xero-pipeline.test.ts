import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { itIf } from '../support/runner';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../../src/config/loader';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { runSync } from '../../src/runners/inline.runner';
import { invoicesReport } from '../../src/reports/reports';
import { startFakeXero, type FakeXero } from '../fakes/xero-server';
import { randomBytes } from 'node:crypto';
import { QueueRunner } from '../../src/queue/queue.runner';
import { redisAvailable, redisUrl } from '../support/services';
import { exampleOnXeroYaml, fakeTenant } from '../xero/helpers';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const log = pino({ level: 'silent' });
const redisUp = await redisAvailable();

/**
 * The main job against a Xero stand-in: the bundled example, priced and pushed as DRAFT
 * invoices; edits update drafts in place; once finance approves, a change becomes a correction
 * invoice and the approved one is never touched.
 */
describe('sync to Xero (fake Xero server, embedded ledger)', () => {
  let dir: string;
  let fake: FakeXero;
  let ledger: Ledger;
  let configFile: string;
  const csv = () => path.join(dir, 'example/hours.csv');
  const editCsv = (from: string, to: string) => writeFileSync(csv(), readFileSync(csv(), 'utf8').replace(from, to));
  const sync = async () => runSync({ config: loadConfig(configFile, { XERO_CLIENT_SECRET: fake.opts.clientSecret }), ledger, log });
  const xeroInvoice = (number: string) => [...fake.invoices.values()].filter((i) => i.InvoiceNumber === number && i.Status !== 'DELETED');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hourbridge-xero-'));
    cpSync(path.join(root, 'example'), path.join(dir, 'example'), { recursive: true });
    fake = await startFakeXero({ tenants: [fakeTenant(7)] });
    const example = readFileSync(path.join(root, 'config/example.yaml'), 'utf8');
    const yaml = exampleOnXeroYaml(example, csv(), fake);
    configFile = path.join(dir, 'hourbridge.yaml');
    writeFileSync(configFile, yaml);
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await ledger?.close();
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Given the example When synced Then Xero holds one DRAFT per invoice with the ledger totals, and a re-run creates nothing', async () => {
    const first = await sync();
    expect(first.alerts).toEqual([]);
    expect(first.summary).toMatchObject({ invoicesDrafted: 3, pushed: 3, pushFailed: 0 });
    expect(xeroInvoice('HB-acme-2026-03-xero-1').map((i) => [i.Status, i.Total])).toEqual([['DRAFT', 2247.5]]);
    expect(xeroInvoice('HB-globex-2026-W11-xero-1').map((i) => i.Total)).toEqual([891.02]);
    const creates = fake.apiRequests('PUT').length + fake.apiRequests('POST').length;
    const second = await sync();
    expect(second.summary).toMatchObject({ invoicesDrafted: 0, invoicesUpdated: 0, pushed: 0 });
    expect(fake.apiRequests('PUT').length + fake.apiRequests('POST').length).toBe(creates);
  }, 180_000);

  it('Given a changed row while the invoice is still a draft When synced Then the same Xero draft is updated in place', async () => {
    const before = xeroInvoice('HB-acme-2026-03-xero-1')[0]!;
    editCsv('17-03-2026;13:00;17:00', '17-03-2026;13:00;18:00');
    const result = await sync();
    expect(result.summary).toMatchObject({ invoicesUpdated: 1, pushed: 1 });
    const after = xeroInvoice('HB-acme-2026-03-xero-1');
    expect(after.map((i) => [i.InvoiceID, i.Total])).toEqual([[before.InvoiceID, 2317.5]]);
  }, 180_000);

  it('Given finance approved the invoice in Xero When a row changes Then the approved invoice is untouched and a correction draft bills the difference', async () => {
    const approved = xeroInvoice('HB-acme-2026-03-xero-1')[0]!;
    fake.setStatus(approved.InvoiceID, 'AUTHORISED');
    editCsv('17-03-2026;13:00;18:00', '17-03-2026;13:00;19:00');
    const result = await sync();
    expect(result.summary).toMatchObject({ corrections: 1, invoicesDrafted: 1, pushed: 1, pushFailed: 0 });
    expect(xeroInvoice('HB-acme-2026-03-xero-1').map((i) => [i.Status, i.Total])).toEqual([['AUTHORISED', 2317.5]]);
    // Credit 4.75 h × 70, bill 5.75 h × 70: one hour more.
    expect(xeroInvoice('HB-acme-2026-03-xero-2').map((i) => [i.Status, i.Total])).toEqual([['DRAFT', 70]]);
    const report = await invoicesReport(ledger, { clientId: 'acme' });
    expect(report.map((r) => [r.key, r.status, r.net])).toEqual([
      ['acme-2026-03-xero-1', 'approved', '2317.50'],
      ['acme-2026-03-xero-2', 'pushed', '70.00'],
    ]);
  }, 180_000);

  itIf(redisUp)(
    'Given a Xero webhook about an invoice When the status refresh job runs on the queue Then the ledger learns the approval from Xero itself',
    async () => {
      const correction = xeroInvoice('HB-acme-2026-03-xero-2')[0]!;
      fake.setStatus(correction.InvoiceID, 'AUTHORISED');
      const runner = new QueueRunner({
        config: loadConfig(configFile, { XERO_CLIENT_SECRET: fake.opts.clientSecret }),
        ledger,
        log,
        redisUrl,
        prefix: `hbtest-xero-${randomBytes(4).toString('hex')}`,
      });
      try {
        runner.startWorkers({ queues: ['status'] });
        await runner.enqueueStatusRefresh('xero', correction.InvoiceID, 'event-1');
        const deadline = Date.now() + 60_000;
        let status = '';
        while (Date.now() < deadline) {
          status = (await invoicesReport(ledger, { clientId: 'acme' })).find((r) => r.key === 'acme-2026-03-xero-2')?.status ?? '';
          if (status === 'approved') break;
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(status).toBe('approved');
      } finally {
        await runner.close();
      }
    },
    180_000,
  );
});
