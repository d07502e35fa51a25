import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { fileDestination } from './index';
import { fileDestinationSchema } from './config.schema';
import { buildInvoiceDraft } from '../../src/stages/invoice-builder';
import { periodOf } from '../../src/stages/periods';
import type { RatedLine } from '../../src/domain/rated-line';
import { client } from '../../test/support/entries';
import { exampleBuyer, exampleSeller } from '../../test/support/einvoice-parties';
import type { ClientConfig } from '../../src/config/client.schema';

function piece(over: Partial<RatedLine>): RatedLine {
  return {
    sourceId: 'sheet',
    externalId: 'a',
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
    taxType: 'OUTPUT2',
    trace: [],
    ...over,
  };
}

describe('file destination', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hb-file-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('Given a draft with a call-out minimum When written Then the JSON names every amount net and gives worked and billed hours apart, and the HTML says the total excludes tax', async () => {
    const draft = buildInvoiceDraft({
      client: client({ lines: { groupBy: ['worker'], description: '{{worker}}{{label}}' } }),
      period: periodOf('2026-03-02', { unit: 'month' }),
      destinationId: 'files',
      sequence: 1,
      items: [
        {
          entryKey: 'sheet:a',
          lines: [
            piece({}),
            piece({
              piece: 1,
              kind: 'minimum',
              hoursRaw: '0',
              quantity: '2',
              amount: '130.00',
              rule: 'default+minimum',
              label: ' (minimum 3 h per shift)',
            }),
          ],
        },
      ],
    });
    const config = fileDestinationSchema.parse({ id: 'files', kind: 'file', dir });
    const [outcome] = await fileDestination.write(config, [draft], {
      log: pino({ level: 'silent' }),
      now: new Date(),
      configDir: dir,
      previous: new Map(),
    });
    expect(outcome).toMatchObject({ status: 'written', remoteTotal: '195.00' });
    const doc = JSON.parse(await readFile(path.join(dir, `${draft.key}.json`), 'utf8'));
    expect(doc).toMatchObject({ workedHours: '1', billedHours: '3', net: '195.00' });
    expect(doc).not.toHaveProperty('total');
    expect(doc.lines.map((l: { quantity: string; net: string; taxType: string }) => [l.quantity, l.net, l.taxType])).toEqual([
      ['1', '65.00', 'OUTPUT2'],
      ['2', '130.00', 'OUTPUT2'],
    ]);
    const html = await readFile(path.join(dir, `${draft.key}.html`), 'utf8');
    expect(html).toContain('Net total, excl. tax (1 h worked, 3 h billed)');
    expect(html).toContain('<th class="n">Net amount</th>');
  });

  it('Given a client with seller, buyer and VAT billed one line per entry When written Then JSON and HTML show parties, number, dates, period, dated lines, the VAT breakdown, net/VAT/gross, payment terms and IBAN', async () => {
    const draft = buildInvoiceDraft({
      client: client({
        lines: { groupBy: 'entry', description: '{{worker}}' },
        vat: { category: 'S', rate: 21, lines: [{ match: { kind: 'expense' }, category: 'Z' }] },
        seller: exampleSeller,
        buyer: exampleBuyer,
      } as Partial<ClientConfig>),
      period: periodOf('2026-03-02', { unit: 'month' }),
      destinationId: 'files',
      sequence: 1,
      items: [
        { entryKey: 'sheet:a', lines: [piece({ externalId: 'a', quantity: '0.07', amount: '4.55' })] },
        { entryKey: 'sheet:b', lines: [piece({ externalId: 'b', date: '2026-03-05', quantity: '0.07', amount: '4.55' })] },
        { entryKey: 'sheet:c', lines: [piece({ externalId: 'c', date: '2026-03-06', quantity: '0.07', amount: '4.55' })] },
        {
          entryKey: 'sheet:d',
          lines: [
            piece({
              externalId: 'd',
              kind: 'expense',
              date: '2026-03-06',
              unitPrice: '0.23',
              quantity: '10',
              amount: '2.30',
              label: 'Travel (km)',
            }),
          ],
        },
      ],
    });
    const config = fileDestinationSchema.parse({ id: 'files', kind: 'file', dir });
    await fileDestination.write(config, [draft], { log: pino({ level: 'silent' }), now: new Date(), configDir: dir, previous: new Map() });
    const doc = JSON.parse(await readFile(path.join(dir, `${draft.key}.json`), 'utf8'));
    expect(doc.seller).toMatchObject({ legalName: 'Hourbridge Demo B.V.', vatId: 'NL123456789B01' });
    expect(doc.seller).not.toHaveProperty('iban');
    expect(doc.buyer).toMatchObject({ legalName: 'Acme B.V.', vatId: 'NL987654321B01', buyerReference: 'PO-2026-0042' });
    expect(doc.paymentTerms).toEqual({
      text: 'Payment within 14 days (due 2026-04-14)',
      dueDate: '2026-04-14',
      iban: 'NL91ABNA0417164300',
      reference: draft.key,
    });
    expect(doc.lines.map((l: { date: string; net: string; vat: { category: string } }) => [l.date, l.net, l.vat.category])).toEqual([
      ['2026-03-02', '4.55', 'S'],
      ['2026-03-05', '4.55', 'S'],
      ['2026-03-06', '4.55', 'S'],
      ['2026-03-06', '2.30', 'Z'],
    ]);
    // 3 × 4.55 at 21 %: 13.65 × 21 % = 2.8665 → 2.87 once per row (EN 16931); per line 0.96 × 3 = 2.88 (Xero).
    expect(doc.net).toBe('15.95');
    expect(doc.tax).toEqual({
      breakdown: [
        { category: 'S', rate: '21', taxableAmount: '13.65', taxAmount: '2.87' },
        { category: 'Z', rate: '0', taxableAmount: '2.30', taxAmount: '0.00' },
      ],
      vat: '2.87',
      gross: '18.82',
      payable: '18.82',
      perLineTax: '2.88',
    });
    const html = await readFile(path.join(dir, `${draft.key}.html`), 'utf8');
    for (const text of [
      'Hourbridge Demo B.V.',
      'VAT NL123456789B01',
      'Stationsplein 1',
      `Invoice number ${draft.key}`,
      'Billed period 2026-03-01 – 2026-03-31 (2026-03)',
      'Issue date 2026-03-31',
      'Due 2026-04-14',
      '<td>2026-03-05</td>',
      'VAT S 21 % on EUR 13.65</td><td class="n">EUR 2.87',
      'Total incl. VAT (payable)</td><td class="n">EUR 18.82',
      'Payment terms: Payment within 14 days (due 2026-04-14) · IBAN NL91ABNA0417164300',
      "A package that rounds each line's tax (Xero) gets EUR 2.88.",
    ])
      expect(html).toContain(text);
  });
});
