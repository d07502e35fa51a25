import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { readUbl } from '../../connectors/ubl/read-ubl';
import { loadConfig } from '../../src/config/loader';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { dec } from '../../src/domain/money';
import { taxSummary, type TaxedLine } from '../../src/domain/tax';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { runSync } from '../../src/runners/inline.runner';
import { describeReport, einvoiceAvailable, einvoiceValidator } from '../support/einvoice';
import { describeIf } from '../support/runner';
import { repoRoot } from '../support/vendor';

/**
 * The bundled example as the README's first command runs it: Globex is billed through the `ubl`
 * destination. Every e-invoice it writes passes the official validation with 0 fatal asserts,
 * and reads back to the ledger's figures, line by line, to the cent.
 */
const available = einvoiceAvailable();

describeIf(available)('the example config as e-invoices', () => {
  let dir: string;
  let ledger: Ledger;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hb-einvoice-example-'));
    cpSync(path.join(repoRoot, 'config'), path.join(dir, 'config'), { recursive: true });
    cpSync(path.join(repoRoot, 'example'), path.join(dir, 'example'), { recursive: true });
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await ledger?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Given the example When synced Then each UBL document passes XSD, EN 16931 and Peppol and carries the ledger amounts to the cent', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const result = await runSync({
        config: loadConfig(path.join(dir, 'config/example.yaml'), {}),
        ledger,
        log: pino({ level: 'silent' }),
      });
      expect(result.summary).toMatchObject({ pushFailed: 0 });
    } finally {
      process.chdir(cwd);
    }
    const xmlFiles = readdirSync(path.join(dir, 'out')).filter((f) => f.endsWith('.xml'));
    expect(xmlFiles.sort()).toEqual(['globex-2026-W10-einvoices-1.xml', 'globex-2026-W11-einvoices-1.xml']);
    const validator = await einvoiceValidator();
    const rows = await ledger.rows<{ key: string; total: string; draft: InvoiceDraft }>(
      sql`SELECT key, total::text AS total, draft FROM invoices WHERE destination_id = 'einvoices' ORDER BY key`,
    );
    expect(rows.map((r) => `${r.key}.xml`)).toEqual(xmlFiles.sort());
    for (const row of rows) {
      const xml = readFileSync(path.join(dir, 'out', `${row.key}.xml`), 'utf8');
      const report = await validator.validate(xml);
      expect(`${row.key}: ${describeReport(report)}`).toBe(`${row.key}: `);
      const doc = readUbl(xml);
      expect(doc.type).toBe('invoice');
      expect(dec(doc.net).eq(row.total)).toBe(true);
      expect(doc.lines.map((l) => [l.quantity, l.unitCode, dec(l.net).toFixed(2), l.category])).toEqual(
        row.draft.lines.map((l) => [dec(l.quantity).toString(), l.kind === 'time' ? 'HUR' : 'C62', dec(l.amount).toFixed(2), 'AE']),
      );
      const tax = taxSummary(row.draft.lines as TaxedLine[], row.draft.currency);
      expect([doc.vat, doc.gross, doc.payable]).toEqual([tax.vat, tax.gross, tax.payable]);
      expect(doc.breakdown).toEqual([{ category: 'AE', rate: '0', taxableAmount: row.draft.total, taxAmount: '0.00' }]);
    }
  }, 300_000);
});
