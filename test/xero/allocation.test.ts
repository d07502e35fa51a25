import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/loader';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { runSync } from '../../src/runners/inline.runner';
import { invoicesReport } from '../../src/reports/reports';
import { startFakeXero, type FakeXero } from '../fakes/xero-server';
import { CSV_HEADER, pipelineYaml } from '../destinations/conformance';
import { fakeTenant } from './helpers';

/**
 * A negative correction, end to end: a DRAFT credit note while finance has not approved it; once
 * approved (AUTHORISED), the status read-back allocates it to the invoice it corrects
 * (PUT /CreditNotes/{id}/Allocations, operationId createCreditNoteAllocation), up to that
 * invoice's AmountDue.
 */
describe('Xero credit note allocation', () => {
  let fake: FakeXero;
  let dir: string;
  let ledger: Ledger;
  let csv: string;
  let file: string;
  const log = pino({ level: 'silent' });
  const sync = () => runSync({ config: loadConfig(file, { XERO_CLIENT_SECRET: fake.opts.clientSecret }), ledger, log });
  const rows = (r: string[]) => writeFileSync(csv, `${[CSV_HEADER, ...r].join('\n')}\n`);

  beforeAll(async () => {
    fake = await startFakeXero({ tenants: [fakeTenant(92)] });
    fake.addContact('Acme Ltd');
    dir = mkdtempSync(path.join(tmpdir(), 'hb-xero-alloc-'));
    csv = path.join(dir, 'hours.csv');
    file = path.join(dir, 'hourbridge.yaml');
    writeFileSync(
      file,
      pipelineYaml(
        csv,
        `  - id: dest
    kind: xero
    tenantId: ${fake.tenantId}
    auth:
      grant: client_credentials
      clientId: ${fake.opts.clientId}
      clientSecret: \${XERO_CLIENT_SECRET}
    baseUrl: ${fake.apiBase}
    identity: { tokenUrl: ${fake.tokenUrl}, authorizeUrl: ${fake.authorizeUrl}, connectionsUrl: ${fake.connectionsUrl} }
    defaults: { taxType: OUTPUT }`,
      ),
    );
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await ledger?.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Given an approved invoice and then a deleted row When synced Then a DRAFT credit note credits it, and once finance approves the credit note the next sync allocates it to the invoice', async () => {
    rows(['2026-03-02,09:00,17:00,Ann,Acme,Web', '2026-03-03,09:00,13:00,Bob,Acme,Web']);
    await sync();
    const [invoice] = [...fake.invoices.values()].filter((i) => i.InvoiceNumber === 'HB-acme-2026-03-dest-1');
    expect([invoice!.Total, invoice!.AmountDue]).toEqual([1380, 1380]);
    fake.setStatus(invoice!.InvoiceID, 'AUTHORISED');

    rows(['2026-03-02,09:00,17:00,Ann,Acme,Web']);
    const corrected = await sync();
    expect(corrected.summary).toMatchObject({ corrections: 1, pushFailed: 0 });
    const [note] = [...fake.creditNotes.values()].filter((c) => c.CreditNoteNumber === 'HB-acme-2026-03-dest-2');
    // Bob's 4 h × 100.00 credited, with 15 % tax: 460.00.
    expect(note).toMatchObject({ Type: 'ACCRECCREDIT', Status: 'DRAFT', SubTotal: 400, Total: 460, RemainingCredit: 460 });
    expect(fake.apiRequests('PUT', /\/Allocations$/)).toHaveLength(0);

    fake.setCreditNoteStatus(note!.CreditNoteID, 'AUTHORISED');
    await sync();
    expect(fake.creditNotes.get(note!.CreditNoteID)).toMatchObject({ RemainingCredit: 0, Status: 'PAID' });
    expect(fake.invoices.get(invoice!.InvoiceID)).toMatchObject({ AmountCredited: 460, AmountDue: 920, Status: 'AUTHORISED' });
    const report = await invoicesReport(ledger, { clientId: 'acme' });
    expect(report.map((r) => [r.key, r.status, r.net, r.remoteTax, r.remoteGross])).toEqual([
      ['acme-2026-03-dest-1', 'approved', '1200.00', '180.00', '1380.00'],
      ['acme-2026-03-dest-2', 'approved', '-400.00', '-60.00', '-460.00'],
    ]);

    // Fully allocated, the credit note is PAID in Xero; the next read-back says so and allocates nothing more.
    await sync();
    expect(fake.apiRequests('PUT', /\/Allocations$/)).toHaveLength(1);
    expect((await invoicesReport(ledger, { clientId: 'acme' })).map((r) => r.status)).toEqual(['approved', 'paid']);
  }, 180_000);
});
