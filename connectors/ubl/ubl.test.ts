import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import fc from 'fast-check';
import type { ClientConfig } from '../../src/config/client.schema';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { dec } from '../../src/domain/money';
import type { RatedLine } from '../../src/domain/rated-line';
import { taxSummary, type TaxedLine } from '../../src/domain/tax';
import { buildInvoiceDraft, type BillingItem } from '../../src/stages/invoice-builder';
import { exampleBuyer, exampleSeller } from '../../test/support/einvoice-parties';
import { client } from '../../test/support/entries';
import { describeReport, einvoiceAvailable, einvoiceValidator } from '../../test/support/einvoice';
import { describeIf } from '../../test/support/runner';
import { ublDestinationSchema } from './config.schema';
import { ublDestination, ublFileName } from './index';
import { readUbl } from './read-ubl';
import { missingForEinvoice, toUbl } from './to-ubl';

const period = { start: '2026-03-01', end: '2026-03-31', label: '2026-03' };
const ctx = () => ({ log: pino({ level: 'silent' }), now: new Date(), configDir: process.cwd(), previous: new Map() });

function piece(over: Partial<RatedLine> & { externalId: string }): RatedLine {
  return {
    sourceId: 'sheet',
    piece: 0,
    kind: 'time',
    clientId: 'acme',
    currency: 'EUR',
    date: '2026-03-02',
    hoursRaw: '1',
    quantity: '1',
    unitPrice: '65.00',
    amount: '65.00',
    rule: 'default',
    label: '',
    worker: 'Anna',
    project: 'Website',
    trace: [],
    ...over,
  };
}

function einvoiceClient(over: Record<string, unknown> = {}): ClientConfig {
  return client({
    vat: { category: 'S', rate: 21, lines: [] },
    buyer: exampleBuyer,
    seller: exampleSeller,
    ...over,
  } as Partial<ClientConfig>);
}

function draftOf(c: ClientConfig, items: BillingItem[]): InvoiceDraft {
  return buildInvoiceDraft({ client: c, period, destinationId: 'einvoices', sequence: 1, items });
}

/** Every figure of the written document equals the ledger's (the draft) and the EN 16931 tax model, to the cent. */
function expectSameFigures(draft: InvoiceDraft, xml: string): void {
  const doc = readUbl(xml);
  expect(doc.type).toBe(dec(draft.total).isNegative() ? 'credit-note' : 'invoice');
  expect(doc.id).toBe(draft.key);
  expect(doc.currency).toBe(draft.currency);
  expect(doc.period).toEqual({ start: draft.period.start, end: draft.period.end });
  expect(
    doc.lines.map((l) => [l.name, dec(l.quantity).toString(), dec(l.net).toFixed(2), dec(l.unitPrice).toString(), l.category]),
  ).toEqual(
    draft.lines.map((l) => [
      l.description,
      dec(l.quantity).toString(),
      dec(l.amount).toFixed(2),
      dec(l.unitPrice).toString(),
      l.vat!.category,
    ]),
  );
  const tax = taxSummary(draft.lines as TaxedLine[], draft.currency);
  expect(dec(doc.net).eq(draft.total)).toBe(true);
  expect(dec(doc.vat).eq(tax.vat)).toBe(true);
  expect(dec(doc.gross).eq(tax.gross)).toBe(true);
  expect(dec(doc.payable).eq(tax.payable)).toBe(true);
  expect(doc.breakdown.map((r) => [r.category, dec(r.taxableAmount).toFixed(2), dec(r.taxAmount).toFixed(2)])).toEqual(
    tax.breakdown.map((r) => [r.category, dec(r.taxableAmount).toFixed(2), dec(r.taxAmount).toFixed(2)]),
  );
}

const available = einvoiceAvailable();

describe('ubl destination', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hb-ubl-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('Given a client without e-invoice data When checked Then every missing field is named', () => {
    const draft = draftOf(client(), [{ entryKey: 'sheet:a', lines: [piece({ externalId: 'a' })] }]);
    expect(missingForEinvoice(draft).join('\n')).toMatch(/seller[\s\S]*clients\[acme\]\.buyer[\s\S]*clients\[acme\]\.vat/);
    const partial = draftOf(einvoiceClient({ buyer: { address: { country: 'NL' } }, vat: { category: 'AE', lines: [] } }), [
      { entryKey: 'sheet:a', lines: [piece({ externalId: 'a' })] },
    ]);
    expect(missingForEinvoice(partial)).toEqual([
      'clients[acme].buyer.endpoint (Peppol electronic address, PEPPOL-EN16931-R010)',
      'clients[acme].buyer.buyerReference or orderReference (PEPPOL-EN16931-R003)',
      'clients[acme].buyer.vatId (reverse charge and intra-community supply: BR-AE-02, BR-K-02)',
    ]);
  });

  it('Given a draft the config cannot make an e-invoice of When written Then the write fails with config and names what is missing, and no file is written', async () => {
    const config = ublDestinationSchema.parse({ id: 'einvoices', kind: 'ubl', dir });
    const draft = draftOf(client(), [{ entryKey: 'sheet:a', lines: [piece({ externalId: 'a' })] }]);
    const [outcome] = await ublDestination.write(config, [draft], ctx());
    expect(outcome).toMatchObject({ status: 'failed', category: 'config' });
    expect(outcome!.status === 'failed' && outcome!.message).toMatch(/the config lacks: seller/);
    expect(existsSync(path.join(dir, ublFileName(draft.key)))).toBe(false);
  });

  describeIf(available)('with the official validation', () => {
    it('Given drafts with any lines, VAT categories, rates, credits and a 0- or 2-decimal currency When written as UBL Then each passes the XSD, EN 16931 and Peppol with 0 fatal asserts and reads back to the ledger figures', async () => {
      const validator = await einvoiceValidator();
      const vatArb = fc.oneof(
        fc.constantFrom(21, 9, 19, 25.5, 6).map((rate) => ({ category: 'S', rate })),
        fc.constantFrom(
          { category: 'Z' },
          { category: 'E', exemptionReasonCode: 'VATEX-EU-132' },
          { category: 'AE' },
          { category: 'K' },
          { category: 'G' },
        ),
      );
      const itemArb = fc.record({
        quantity: fc.integer({ min: 1, max: 4000 }).map((q) => dec(q).div(100).toString()),
        unitPrice: fc.oneof(
          fc.integer({ min: 0, max: 30_000 }).map((p) => dec(p).div(100).toFixed(2)),
          fc.integer({ min: 1, max: 3_000_000 }).map((p) => dec(p).div(10_000).toFixed(4)),
        ),
        kind: fc.constantFrom('time', 'time', 'fee', 'expense') as fc.Arbitrary<RatedLine['kind']>,
        taxType: fc.constantFrom(undefined, 'LOW', 'EXEMPT'),
        worker: fc.constantFrom('Anna', 'Bob & Co', 'Chloë <nights>'),
        credit: fc.boolean(),
      });
      const scenario = fc.record({
        currency: fc.constantFrom('EUR', 'JPY'),
        base: vatArb,
        low: vatArb,
        exempt: vatArb,
        notSubject: fc.boolean(),
        perEntry: fc.boolean(),
        day: fc.integer({ min: 1, max: 31 }),
        items: fc.array(itemArb, { minLength: 1, maxLength: 8 }),
      });
      let creditNotes = 0;
      await fc.assert(
        fc.asyncProperty(scenario, async (s) => {
          // O cannot share a document with another category (BR-O-11): such a client is all O.
          const vat = s.notSubject
            ? { category: 'O', lines: [] }
            : {
                ...s.base,
                lines: [
                  { match: { taxType: 'LOW' }, ...s.low },
                  { match: { taxType: 'EXEMPT' }, ...s.exempt },
                ],
              };
          const c = einvoiceClient({
            currency: s.currency,
            vat,
            lines: { groupBy: s.perEntry ? 'entry' : ['worker', 'project'], description: '{{project}} — {{worker}}{{label}}' },
          });
          const items: BillingItem[] = s.items.map((it, i) => ({
            entryKey: `sheet:e${i}`,
            lines: [
              piece({
                externalId: `e${i}`,
                date: `2026-03-${String(((s.day + i) % 31) + 1).padStart(2, '0')}`,
                currency: s.currency,
                kind: it.kind,
                quantity: it.quantity,
                unitPrice: it.unitPrice,
                amount: dec(it.quantity).times(it.unitPrice).toString(),
                worker: it.worker,
                taxType: it.taxType,
              }),
            ],
            ...(it.credit ? { correctionOf: 'acme-2026-02-einvoices-1' } : {}),
          }));
          const draft = draftOf(c, items);
          const doc = toUbl(draft);
          if (doc.type === 'credit-note') creditNotes++;
          const report = await validator.validate(doc.xml);
          expect(describeReport(report)).toBe('');
          expectSameFigures(draft, doc.xml);
          // The billed period, and per line of one entry the day worked.
          expect(doc.xml.split('<cac:InvoicePeriod>').length - 1).toBe(1 + (s.perEntry ? draft.lines.length : 0));
        }),
        { numRuns: 40, seed: 20261208 },
      );
      expect(creditNotes).toBeGreaterThan(0);
    }, 300_000);

    it('Given a draft When written, rewritten after a change and emptied Then one file holds the current document and then none', async () => {
      const config = ublDestinationSchema.parse({ id: 'einvoices', kind: 'ubl', dir });
      const c = einvoiceClient();
      const first = draftOf(c, [{ entryKey: 'sheet:a', lines: [piece({ externalId: 'a', quantity: '7.5', amount: '487.5' })] }]);
      const [written] = await ublDestination.write(config, [first], ctx());
      expect(written).toMatchObject({
        status: 'written',
        remoteType: 'invoice',
        remoteTotal: '487.50',
        remoteTax: '102.38',
        remoteGross: '589.88',
      });
      const file = path.join(dir, ublFileName(first.key));
      const changed = draftOf(c, [{ entryKey: 'sheet:a', lines: [piece({ externalId: 'a', quantity: '8', amount: '520' })] }]);
      await ublDestination.write(config, [changed], ctx());
      const xml = readFileSync(file, 'utf8');
      expect((await (await einvoiceValidator()).validate(xml)).fatal).toEqual([]);
      expectSameFigures(changed, xml);
      const [removed] = await ublDestination.write(config, [{ ...changed, lines: [], total: '0.00' }], ctx());
      expect(removed).toMatchObject({ status: 'written', remoteStatus: 'DELETED' });
      expect(existsSync(file)).toBe(false);
    }, 120_000);

    it('Given a correction that credits more than it bills When written Then it is a CreditNote referring to the corrected invoice, with the ledger sign in the outcome', async () => {
      const config = ublDestinationSchema.parse({ id: 'einvoices', kind: 'ubl', dir });
      const draft = draftOf(einvoiceClient(), [
        {
          entryKey: 'sheet:a',
          lines: [piece({ externalId: 'a', quantity: '4', amount: '260' })],
          correctionOf: 'acme-2026-03-einvoices-1',
        },
        { entryKey: 'sheet:b', lines: [piece({ externalId: 'b', quantity: '1', amount: '65', worker: 'Bob' })] },
      ]);
      const [outcome] = await ublDestination.write(config, [draft], ctx());
      expect(outcome).toMatchObject({
        status: 'written',
        remoteType: 'credit-note',
        remoteTotal: '-195.00',
        remoteTax: '-40.95',
        remoteGross: '-235.95',
      });
      const xml = readFileSync(path.join(dir, ublFileName(draft.key)), 'utf8');
      expect(xml).toContain('<CreditNote ');
      expect(xml).toMatch(/<cac:BillingReference>\s*<cac:InvoiceDocumentReference>\s*<cbc:ID>acme-2026-03-einvoices-1<\/cbc:ID>/);
      expect((await (await einvoiceValidator()).validate(xml)).fatal).toEqual([]);
      expectSameFigures(draft, xml);
    }, 120_000);
  });

  it('Given a hook When a document is written Then it runs with the file and the key; a failing hook makes the write fail with its message', async () => {
    const script = path.join(dir, 'hook.sh');
    const log = path.join(dir, 'hook.log');
    writeFileSync(
      script,
      `#!/bin/sh\necho "$HOURBRIDGE_INVOICE_KEY $HOURBRIDGE_DOCUMENT_TYPE $1" >> ${log}\nif [ -f ${dir}/refuse ]; then echo "rejected by the access point" >&2; exit 3; fi\necho "transmission 42"\n`,
    );
    chmodSync(script, 0o755);
    const config = ublDestinationSchema.parse({ id: 'einvoices', kind: 'ubl', dir, hook: { command: [script] } });
    const draft = draftOf(einvoiceClient(), [{ entryKey: 'sheet:a', lines: [piece({ externalId: 'a' })] }]);
    const [ok] = await ublDestination.write(config, [draft], ctx());
    expect(ok).toMatchObject({ status: 'written', remoteStatus: 'SENT', warnings: ['hook: transmission 42'] });
    expect(readFileSync(log, 'utf8')).toBe(`${draft.key} invoice ${path.join(dir, ublFileName(draft.key))}\n`);
    writeFileSync(path.join(dir, 'refuse'), '');
    const [failed] = await ublDestination.write(config, [draft], ctx());
    expect(failed).toMatchObject({ status: 'failed', category: 'transient' });
    expect(failed!.status === 'failed' && failed!.message).toBe(`hook ${script} exited with 3: rejected by the access point`);
    rmSync(path.join(dir, 'refuse'));
  });
});
