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
});
