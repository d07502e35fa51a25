import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import pino from 'pino';
import { z } from 'zod';
import type { ConnectorContext, MapResult, SourcePage } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { TimeEntry } from '../../src/domain/time-entry';
import { xlsxSource, plainCell } from './index';
import type { XlsxConfigInput } from './config.schema';
import { sourceConnectors } from '../index';
import { describeSheetDurationCases } from '../../test/sources/sheet-durations';

let dir: string;
const ctx = (): ConnectorContext => ({ log: pino({ level: 'silent' }), now: new Date('2026-03-01T10:00:00Z'), configDir: dir });

const HEADER = ['Datum', 'Begin', 'Eind', 'Pauze', 'Uren', 'Medewerker', 'Klant', 'Goedgekeurd', 'Opmerking'];
const DAY = 86_400_000;
/** Excel serial of a calendar date in the 1900 system. */
const serial1900 = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) / DAY + 25_569;

/**
 * A workbook the way people keep one: a title sheet first, then the hours sheet with date
 * cells, time cells (h:mm), numbers, text typed into number columns, a formula, rich text,
 * a blank row and a bad row.
 */
async function writeWorkbook(file: string, date1904: boolean): Promise<void> {
  const wb = new ExcelJS.Workbook();
  wb.properties.date1904 = date1904;
  const offset = date1904 ? 1462 : 0;
  wb.addWorksheet('Info').addRow(['Urenregistratie februari']);
  const ws = wb.addWorksheet('Uren');
  ws.addRow(HEADER);
  const add = (cells: unknown[], formats: Record<number, string> = {}) => {
    const row = ws.addRow(cells);
    for (const [col, fmt] of Object.entries(formats)) row.getCell(Number(col)).numFmt = fmt;
    return row;
  };
  const time = (h: number, m = 0) => (h * 60 + m) / 1440;
  // 2: numeric date serial (date-formatted), time cells as day fractions (h:mm), break minutes, hours number.
  add([serial1900(2026, 2, 2) - offset, time(8), time(16, 30), 30, 8, 'Anna de Vries', 'Acme BV', 'ja', 'Sprint'], {
    1: 'dd-mm-yyyy',
    2: 'h:mm',
    3: 'h:mm',
  });
  // 3: night shift, break as h:mm cell, hours typed as text with a decimal comma.
  add([serial1900(2026, 2, 2) - offset, time(22), time(6), time(0, 30), '7,5', 'Bram Jansen', 'Acme BV', 'ja', 'Nacht'], {
    1: 'dd-mm-yyyy',
    2: 'h:mm',
    3: 'h:mm',
    4: 'h:mm',
  });
  // 4: date as a plain number (no date format): read as a serial in the workbook's system.
  add([
    serial1900(2026, 2, 3) - offset,
    '9:00',
    '17:00',
    '0,5',
    { formula: '7.5', result: 7.5 },
    'Anna de Vries',
    'Globex',
    'nee',
    'Offerte',
  ]);
  // 5: blank row (exceljs does not emit it), 6: rich text worker, text date.
  ws.addRow([]);
  add([
    '04-02-2026',
    '8:30',
    '17:00',
    45,
    7.75,
    { richText: [{ text: 'Chris ' }, { text: 'Bakker', font: { bold: true } }] },
    'Acme BV',
    'x',
  ]);
  // 7: a date that does not exist.
  add(['31-02-2026', '8:00', '16:00', 30, 7.5, 'Anna de Vries', 'Acme BV', 'ja']);
  await wb.xlsx.writeFile(file);
}

const config = (path: string, extra: Partial<XlsxConfigInput> = {}): XlsxConfigInput => ({
  id: 'werkboek',
  kind: 'xlsx',
  path,
  sheet: 'Uren',
  columns: {
    date: 'Datum',
    start: 'Begin',
    end: 'Eind',
    break: 'Pauze',
    hours: 'Uren',
    worker: 'Medewerker',
    client: 'Klant',
    approved: 'Goedgekeurd',
    notes: 'Opmerking',
  },
  locale: { decimal: ',', dateFormat: 'dd-MM-yyyy' },
  timeZone: 'Europe/Amsterdam',
  ...extra,
});

async function readAll(input: XlsxConfigInput) {
  const cfg = xlsxSource.configSchema.parse(input);
  const pages: SourcePage[] = [];
  for await (const p of xlsxSource.read(cfg, { cursors: {} }, ctx())) pages.push(p);
  const records = pages.flatMap((p) => p.records);
  const results = records.map((r) => xlsxSource.map(r, cfg, ctx()));
  const count = (k: MapResult['kind']) => results.filter((r) => r.kind === k).length;
  return { cfg, pages, records, results, entries: results.flatMap((r) => (r.kind === 'entry' ? [r.entry] : [])), count };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hourbridge-xlsx-'));
  await writeWorkbook(join(dir, 'uren-1900.xlsx'), false);
  await writeWorkbook(join(dir, 'uren-1904.xlsx'), true);
  await writeFile(join(dir, 'not-a-workbook.xlsx'), 'hello');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('xlsx source', () => {
  for (const file of ['uren-1900.xlsx', 'uren-1904.xlsx']) {
    it(`Given ${file}, when the named sheet is streamed and mapped, then every row is an entry or quarantined and the dates are right`, async () => {
      const { pages, records, results, entries, count } = await readAll(config(file));
      expect(records.map((r) => r.ref.row)).toEqual([2, 3, 4, 6, 7]);
      expect([count('entry'), count('skip'), count('invalid')]).toEqual([4, 0, 1]);
      expect(count('entry') + count('skip') + count('invalid')).toBe(records.length);
      expect(pages.at(-1)!.reconcile).toEqual({ from: null, to: null });
      for (const e of entries) expect(() => TimeEntry.parse(e)).not.toThrow();

      expect(entries.map((e) => e.date)).toEqual(['2026-02-02', '2026-02-02', '2026-02-03', '2026-02-04']);
      expect(entries[0]).toMatchObject({
        start: '2026-02-02T07:00:00.000Z',
        end: '2026-02-02T15:30:00.000Z',
        breakSeconds: 1800,
        provenance: { file, sheet: 'Uren', row: 2 },
      });
      expect(entries[1]).toMatchObject({ start: '2026-02-02T21:00:00.000Z', end: '2026-02-03T05:00:00.000Z', breakSeconds: 1800 });
      expect(entries[2]).toMatchObject({ durationSeconds: 8 * 3600, approved: false, client: 'Globex' });
      expect(entries[3]!.worker.name).toBe('Chris Bakker');
      expect(results[4]).toEqual({
        kind: 'invalid',
        problems: [
          {
            field: 'date',
            column: 'Datum',
            value: '31-02-2026',
            reason: 'no such date: 31-02-2026 (read as dd-MM-yyyy: February 2026 has 28 days)',
          },
        ],
      });
    });
  }

  it('Given the same rows in a 1900 and a 1904 workbook, when mapped, then the entries are identical apart from the file', async () => {
    const a = await readAll(config('uren-1900.xlsx'));
    const b = await readAll(config('uren-1904.xlsx'));
    const strip = (e: TimeEntry) => ({ ...e, provenance: { ...e.provenance, file: '' } });
    expect(b.entries.map(strip)).toEqual(a.entries.map(strip));
  });

  it('Given records that crossed a process boundary as JSON, when mapped, then the results are the same', async () => {
    const { cfg, records, results } = await readAll(config('uren-1900.xlsx'));
    const again = records.map((r) => xlsxSource.map(JSON.parse(JSON.stringify(r)), cfg, ctx()));
    expect(again).toEqual(results);
  });

  it('Given no sheet name, when read, then the first sheet is used and its missing columns are a config error', async () => {
    const err = await readAll(config('uren-1900.xlsx', { sheet: undefined })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as Error).message).toContain('sheet "Info"');
    expect((err as Error).message).toContain('missing columns');
  });

  it('Given a sheet name that does not exist, when read and checked, then both name the sheets found', async () => {
    const err = await readAll(config('uren-1900.xlsx', { sheet: 'Hours' })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as ConnectorError).category).toBe('config');
    expect((err as Error).message).toContain('no sheet "Hours" (sheets found: "Info", "Uren")');
    const check = await xlsxSource.check(xlsxSource.configSchema.parse(config('uren-1900.xlsx', { sheet: 'Hours' })), ctx());
    expect(check).toMatchObject({ ok: false, category: 'config' });
    expect(check.message).toContain('"Uren"');
  });

  it('Given a good workbook, a missing file and a file that is not a workbook, when checked, then each gets the right answer', async () => {
    const ok = await xlsxSource.check(xlsxSource.configSchema.parse(config('uren-1900.xlsx')), ctx());
    expect(ok).toMatchObject({ ok: true });
    expect(ok.message).toContain('xlsx');
    const missing = await xlsxSource.check(xlsxSource.configSchema.parse(config('nope.xlsx')), ctx());
    expect(missing).toMatchObject({ ok: false, category: 'config' });
    expect(missing.message).toContain('nope.xlsx');
    const junk = await xlsxSource.check(xlsxSource.configSchema.parse(config('not-a-workbook.xlsx')), ctx());
    expect(junk.ok).toBe(false);
  });

  it('Given exceljs cell values, when flattened, then rich text, formulas, hyperlinks and errors become plain cells', () => {
    expect(plainCell({ richText: [{ text: 'a' }, { text: 'b' }] })).toBe('ab');
    expect(plainCell({ formula: 'A1*2', result: 4 })).toBe(4);
    expect(plainCell({ sharedFormula: 'A1', result: new Date(0) })).toEqual(new Date(0));
    expect(plainCell({ text: 'site', hyperlink: 'https://example.com' })).toBe('site');
    expect(plainCell({ error: '#N/A' })).toBe('#N/A');
    expect(plainCell(null)).toBeUndefined();
  });

  it('Given the config schema, when used by the root config, then it rejects unknown keys, has a JSON Schema and is registered by kind', () => {
    expect(xlsxSource.configSchema.safeParse({ ...config('x.xlsx'), sheeet: 'Uren' }).success).toBe(false);
    expect(() => z.toJSONSchema(xlsxSource.configSchema, { io: 'input' })).not.toThrow();
    expect(sourceConnectors.filter((c) => c.kind === 'xlsx')).toHaveLength(1);
  });
});

describeSheetDurationCases('xlsx', {
  async write(rows) {
    // Cells as typed text (the mapping reads text and typed cells alike).
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Uren');
    for (const r of rows) ws.addRow(r);
    await wb.xlsx.writeFile(join(dir, 'durations.xlsx'));
  },
  async read(columns) {
    const { results } = await readAll({
      id: 'xlsx-durations',
      kind: 'xlsx',
      path: 'durations.xlsx',
      timeZone: 'Europe/Amsterdam',
      columns,
    } as XlsxConfigInput);
    return results;
  },
});
