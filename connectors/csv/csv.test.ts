import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { eventually } from '../../test/support/runner';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { z } from 'zod';
import type { ConnectorContext, MapResult, SourcePage } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { TimeEntry } from '../../src/domain/time-entry';
import { csvSource, sniffDelimiter } from './index';
import { runningParseThreads, startCsvParseThread } from './parse.thread';
import type { CsvConfigInput } from './config.schema';
import { sourceConnectors } from '../index';
import { describeSheetDurationCases } from '../../test/sources/sheet-durations';

const fixtures = resolve(import.meta.dirname, '../../test/fixtures/spreadsheets');
const ctx = (configDir = fixtures): ConnectorContext => ({
  log: pino({ level: 'silent' }),
  now: new Date('2026-03-01T10:00:00Z'),
  configDir,
});

const dutch: CsvConfigInput = {
  id: 'uren',
  kind: 'csv',
  path: 'uren-nl.csv',
  columns: {
    date: 'Datum',
    start: 'Begin',
    end: 'Eind',
    break: 'Pauze',
    hours: 'Uren',
    worker: 'Medewerker',
    client: 'Klant',
    project: 'Project',
    approved: 'Goedgekeurd',
    billable: 'Factureerbaar',
    notes: 'Opmerking',
    extras: [{ column: 'Km', kind: 'kilometres' }],
  },
  locale: { decimal: ',', dateFormat: 'dd-MM-yyyy' },
  timeZone: 'Europe/Amsterdam',
  skipRowsWhere: [{ column: 'Medewerker', equals: 'totaal' }],
};

async function readAll(input: CsvConfigInput, configDir = fixtures) {
  const config = csvSource.configSchema.parse(input);
  const pages: SourcePage[] = [];
  let threads = 0;
  for await (const p of csvSource.read(config, { cursors: {} }, ctx(configDir))) {
    threads = Math.max(threads, runningParseThreads());
    pages.push(p);
  }
  const records = pages.flatMap((p) => p.records);
  const results = records.map((r) => csvSource.map(r, config, ctx(configDir)));
  const count = (k: MapResult['kind']) => results.filter((r) => r.kind === k).length;
  return { config, pages, records, results, entries: results.flatMap((r) => (r.kind === 'entry' ? [r.entry] : [])), count, threads };
}

describe('csv source', () => {
  it('Given the Dutch fixture (BOM, ;, decimal comma, night shift, quoted ;), when read and mapped, then accepted + skipped + invalid add up to the rows', async () => {
    const { pages, records, results, entries, count } = await readAll(dutch);
    expect(records).toHaveLength(10);
    expect([count('entry'), count('skip'), count('invalid')]).toEqual([5, 2, 3]);
    expect(count('entry') + count('skip') + count('invalid')).toBe(records.length);
    expect(records.map((r) => r.ref.row)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(pages.at(-1)).toMatchObject({ stream: 'time_entries', cursor: null, reconcile: { from: null, to: null } });
    for (const e of entries) expect(() => TimeEntry.parse(e)).not.toThrow();

    const night = entries.find((e) => e.worker.name === 'Bram Jansen' && e.project === 'Beheer')!;
    expect(night).toMatchObject({
      date: '2026-02-02',
      start: '2026-02-02T21:00:00.000Z',
      end: '2026-02-03T05:00:00.000Z',
      durationSeconds: 8 * 3600,
      breakSeconds: 1800,
      notes: 'Nachtdienst; storing opgelost',
      provenance: { file: 'uren-nl.csv', row: 3 },
    });
    expect(entries.find((e) => e.client === 'Globex' && e.approved === false)!.notes).toBe('Offerte "fase 2"');
    expect(entries[0]!.extras).toEqual([{ kind: 'kilometres', quantity: '12.5', unitPrice: undefined, description: undefined }]);
    expect(entries.find((e) => e.worker.name === 'Chris Bakker')!.billable).toBe(false);

    const invalid = results.flatMap((r, i) => (r.kind === 'invalid' ? [{ row: records[i]!.ref.row, problems: r.problems }] : []));
    expect(invalid[0]).toEqual({
      row: 8,
      problems: [
        {
          field: 'date',
          column: 'Datum',
          value: '31-02-2026',
          reason: 'no such date: 31-02-2026 (read as dd-MM-yyyy: February 2026 has 28 days)',
        },
      ],
    });
    expect(invalid[1]!.problems[0]).toMatchObject({ field: 'hours', column: 'Uren', value: '9,0' });
    expect(invalid[2]!.problems[0]!.reason).toContain('rows 2 and 10');
  });

  it('Given the same file read twice, when mapped, then every entry has the same id both times', async () => {
    const a = await readAll(dutch);
    const b = await readAll(dutch);
    expect(b.entries.map((e) => e.externalId)).toEqual(a.entries.map((e) => e.externalId));
    expect(new Set(a.entries.map((e) => e.externalId)).size).toBe(a.entries.length);
  });

  it('Given a tab-delimited file with 12-hour times, when read with auto delimiter, then it maps with the night shift and the bad time quarantined', async () => {
    const { records, results, entries, count } = await readAll({
      id: 'hours',
      kind: 'csv',
      path: 'hours-en.tsv',
      columns: {
        date: 'Date',
        start: 'Start',
        end: 'End',
        worker: 'Worker',
        client: 'Client',
        task: 'Task',
        billable: 'Billable',
        notes: 'Notes',
      },
      timeZone: 'America/New_York',
    });
    expect(records).toHaveLength(4);
    expect([count('entry'), count('skip'), count('invalid')]).toEqual([3, 0, 1]);
    expect(entries[0]).toMatchObject({ durationSeconds: 8.5 * 3600, notes: 'Tickets, calls', start: '2026-02-02T14:00:00.000Z' });
    expect(entries[1]).toMatchObject({ end: '2026-02-03T06:00:00.000Z', durationSeconds: 6 * 3600 });
    expect(results[3]).toMatchObject({ kind: 'invalid', problems: [{ field: 'start', column: 'Start', value: 'noon' }] });
    expect(await sniffDelimiter(join(fixtures, 'hours-en.tsv'), 'utf-8', 1)).toBe('\t');
    expect(await sniffDelimiter(join(fixtures, 'uren-nl.csv'), 'utf-8', 1)).toBe(';');
  });

  it('Given an unclosed quote, when read, then the good rows map, the bad one is quarantined with its line, and no deletions are inferred', async () => {
    const { pages, records, results } = await readAll({
      id: 'broken',
      kind: 'csv',
      path: 'broken.csv',
      delimiter: ';',
      columns: { date: 'Datum', hours: 'Uren', worker: 'Medewerker', client: 'Klant' },
      locale: { decimal: ',', dateFormat: 'dd-MM-yyyy' },
      timeZone: 'Europe/Amsterdam',
    });
    expect(results.map((r) => r.kind)).toEqual(['entry', 'invalid']);
    expect(records[1]!.ref.row).toBe(3);
    const bad = results[1]!;
    if (bad.kind === 'invalid') {
      expect(bad.problems[0]!.reason).toMatch(
        /could not be read as CSV: .*Quote Not Closed.*row 3 is never closed.*\(line \d+ of the file\)/,
      );
    }
    expect(pages.some((p) => p.reconcile)).toBe(false);
  });

  describe('with generated files', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'hourbridge-csv-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('Given more rows than a page, when read, then pages hold at most pageSize records, rows are numbered in order and only the last page reconciles', async () => {
      const lines = ['date,hours,worker,client'];
      for (let i = 0; i < 12; i++) lines.push(`2026-02-${String(1 + i).padStart(2, '0')},8,W${i},Acme`);
      await writeFile(join(dir, 'many.csv'), `${lines.join('\r\n')}\r\n`);
      const { pages, records, count } = await readAll(
        {
          id: 'many',
          kind: 'csv',
          path: 'many.csv',
          pageSize: 5,
          columns: { date: 'date', hours: 'hours', worker: 'worker', client: 'client' },
          timeZone: 'UTC',
        },
        dir,
      );
      expect(pages.map((p) => p.records.length)).toEqual([5, 5, 2]);
      expect(pages.map((p) => p.reconcile !== undefined)).toEqual([false, false, true]);
      expect(records.map((r) => r.ref.row)).toEqual(Array.from({ length: 12 }, (_, i) => i + 2));
      expect(count('entry')).toBe(12);
    });

    it('Given texts that repeat down a column (good and bad), when read, then every row maps as it would alone and the cells keep their text', async () => {
      const lines = ['Datum;Begin;Eind;Pauze;Medewerker;Klant;Akkoord;Km'];
      for (let i = 0; i < 6; i++) {
        const bad = i % 3 === 2;
        lines.push(
          `${bad ? '31-02-2026' : '02-02-2026'};08:00;${bad ? '8 uur' : '16:30'};${i % 2 ? '30' : '0:30'};W${i};Acme;${bad ? 'misschien' : 'ja'};${bad ? '1.250' : '12'}`,
        );
      }
      await writeFile(join(dir, 'repeat.csv'), `${lines.join('\n')}\n`);
      const input: CsvConfigInput = {
        id: 'rep',
        kind: 'csv',
        path: 'repeat.csv',
        columns: {
          date: 'Datum',
          start: 'Begin',
          end: 'Eind',
          break: 'Pauze',
          worker: 'Medewerker',
          client: 'Klant',
          approved: 'Akkoord',
          extras: [{ column: 'Km', kind: 'km' }],
        },
        locale: { decimal: ',', dateFormat: 'dd-MM-yyyy' },
        timeZone: 'Europe/Amsterdam',
      };
      const { config, records, results } = await readAll(input, dir);
      expect(results.map((r) => r.kind)).toEqual(['entry', 'entry', 'invalid', 'entry', 'entry', 'invalid']);
      for (const i of [2, 5]) {
        const r = results[i]!;
        expect(r.kind === 'invalid' && r.problems.map((p) => [p.column, p.value])).toEqual([
          ['Datum', '31-02-2026'],
          ['Eind', '8 uur'],
          ['Akkoord', 'misschien'],
          ['Km', '1.250'],
        ]);
      }
      expect(results[3]).toMatchObject({
        entry: { breakSeconds: 1800, durationSeconds: 8.5 * 3600, approved: true, extras: [{ kind: 'km', quantity: '12' }] },
      });
      // Mapped again from JSON (as after a queue hop: no memo, fresh parsers) they are the same.
      const again = records.map((r) => csvSource.map(JSON.parse(JSON.stringify(r)), config, ctx(dir)));
      expect(again).toEqual(results);
      expect(records.map((r) => (r.data as { cells: string[] }).cells.join(';'))).toEqual(lines.slice(1));
    });

    it('Given a windows-1252 file with title rows above the header, when read, then accents survive and rows count from the top', async () => {
      const text = 'Urenstaat februari\r\n\r\nDatum;Uren;Medewerker;Klant\r\n02-02-2026;8;Renée Müller;Café Noël\r\n';
      await writeFile(join(dir, 'latin.csv'), Buffer.from(text, 'latin1'));
      const { entries, records } = await readAll(
        {
          id: 'latin',
          kind: 'csv',
          path: 'latin.csv',
          encoding: 'windows-1252',
          headerRow: 3,
          columns: { date: 'Datum', hours: 'Uren', worker: 'Medewerker', client: 'Klant' },
          locale: { dateFormat: 'dd-MM-yyyy' },
          timeZone: 'Europe/Amsterdam',
        },
        dir,
      );
      expect(records.map((r) => r.ref.row)).toEqual([4]);
      expect(entries[0]).toMatchObject({ worker: { name: 'Renée Müller' }, client: 'Café Noël', durationSeconds: 8 * 3600 });
    });

    it('Given a header without a mapped column, when read, then it fails as a config error naming the column and the headers found', async () => {
      await writeFile(join(dir, 'nohours.csv'), 'date,worker,client\n2026-02-02,A,B\n');
      const input: CsvConfigInput = {
        id: 'x',
        kind: 'csv',
        path: 'nohours.csv',
        columns: { date: 'date', hours: 'Hours', worker: 'worker', client: 'client' },
        timeZone: 'UTC',
      };
      const err = await readAll(input, dir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConnectorError);
      expect((err as ConnectorError).category).toBe('config');
      expect((err as Error).message).toContain('missing column "Hours" (headers found: "date", "worker", "client")');
      const check = await csvSource.check(csvSource.configSchema.parse(input), ctx(dir));
      expect(check).toMatchObject({ ok: false, category: 'config' });
      expect(check.message).toContain('"Hours"');
    });
  });

  describe('on a parse thread', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'hourbridge-csv-thread-'));
      // Several pages, a stray quote inside a quoted field in the middle (kept as text) and a
      // quote that is never closed near the end (the one record csv-parse must skip).
      const lines = ['Datum;Begin;Eind;Medewerker;Klant;Opmerking'];
      for (let i = 0; i < 1200; i++) {
        const note = i === 500 ? '"a "bad" note"' : i % 7 === 0 ? '"met ; puntkomma"' : '';
        lines.push(`${String(1 + (i % 28)).padStart(2, '0')}-02-2026;08:00;16:00;W${i};Acme BV;${note}`);
      }
      lines.push('01-03-2026;08:00;16:00;"Never closed;Acme BV;');
      lines.push('02-03-2026;08:00;16:00;Z;Acme BV;');
      await writeFile(join(dir, 'big.csv'), `${lines.join('\n')}\n`);
      await writeFile(
        join(dir, 'latin.csv'),
        Buffer.from('Urenstaat\r\n\r\nDatum;Uren;Medewerker;Klant\r\n02-02-2026;8;Renée Müller;Café Noël\r\n', 'latin1'),
      );
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const big: CsvConfigInput = {
      id: 'big',
      kind: 'csv',
      path: 'big.csv',
      pageSize: 97,
      columns: { date: 'Datum', start: 'Begin', end: 'Eind', worker: 'Medewerker', client: 'Klant', notes: 'Opmerking' },
      locale: { dateFormat: 'dd-MM-yyyy' },
      timeZone: 'Europe/Amsterdam',
    };
    const cases: Array<[string, CsvConfigInput, () => string]> = [
      ['the Dutch fixture', dutch, () => fixtures],
      [
        'the tab-separated fixture',
        {
          id: 'hours',
          kind: 'csv',
          path: 'hours-en.tsv',
          columns: {
            date: 'Date',
            start: 'Start',
            end: 'End',
            worker: 'Worker',
            client: 'Client',
            task: 'Task',
            billable: 'Billable',
            notes: 'Notes',
          },
          timeZone: 'America/New_York',
        },
        () => fixtures,
      ],
      [
        'the unclosed-quote fixture',
        {
          id: 'broken',
          kind: 'csv',
          path: 'broken.csv',
          delimiter: ';',
          columns: { date: 'Datum', hours: 'Uren', worker: 'Medewerker', client: 'Klant' },
          locale: { decimal: ',', dateFormat: 'dd-MM-yyyy' },
          timeZone: 'Europe/Amsterdam',
        },
        () => fixtures,
      ],
      [
        'a windows-1252 file with title rows',
        {
          id: 'latin',
          kind: 'csv',
          path: 'latin.csv',
          encoding: 'windows-1252',
          headerRow: 3,
          columns: { date: 'Datum', hours: 'Uren', worker: 'Medewerker', client: 'Klant' },
          locale: { dateFormat: 'dd-MM-yyyy' },
          timeZone: 'Europe/Amsterdam',
        },
        () => dir,
      ],
      ['1,200 rows over many pages with stray and unclosed quotes', big, () => dir],
    ];
    it.each(cases)(
      'Given %s, when read on a parse thread, then pages, rows, records and mapped results are those of the inline read',
      async (_name, input, where) => {
        const inline = await readAll({ ...input, parseThread: 'off' }, where());
        const threaded = await readAll({ ...input, parseThread: 'on' }, where());
        expect(inline.threads).toBe(0);
        expect(threaded.threads).toBe(1);
        expect(threaded.pages.map((p) => [p.records.length, p.cursor, p.reconcile])).toEqual(
          inline.pages.map((p) => [p.records.length, p.cursor, p.reconcile]),
        );
        expect(threaded.records).toEqual(inline.records);
        expect(threaded.results).toEqual(inline.results);
        await eventually(() => runningParseThreads(), { timeout: 5000 }).toBe(0);
      },
    );

    it('Given the many-page file, when read on a parse thread, then the stray quote is text, the unclosed quote is quarantined on its row and no deletions are inferred', async () => {
      const { records, results, pages, entries } = await readAll({ ...big, parseThread: 'on' }, dir);
      expect(entries).toHaveLength(1200);
      expect(entries[500]).toMatchObject({ worker: { name: 'W500' }, notes: '"a "bad" note"', provenance: { row: 502 } });
      const invalid = results.flatMap((r, i) =>
        r.kind === 'invalid' ? [{ row: records[i]!.ref.row, reason: r.problems[0]!.reason }] : [],
      );
      expect(invalid).toEqual([
        { row: 1202, reason: expect.stringMatching(/could not be read as CSV: .*a quote opened on row 1202 is never closed/) },
      ]);
      expect(records.map((r) => r.ref.row)).toEqual(Array.from({ length: records.length }, (_, i) => i + 2));
      expect(pages.some((p) => p.reconcile)).toBe(false);
    });

    it('Given a reader that stops after the first page, when the read is abandoned, then its parse thread is stopped', async () => {
      const config = csvSource.configSchema.parse({ ...big, parseThread: 'on' });
      for await (const page of csvSource.read(config, { cursors: {} }, ctx(dir))) {
        expect(page.records).toHaveLength(97);
        expect(runningParseThreads()).toBe(1);
        break;
      }
      await eventually(() => runningParseThreads(), { timeout: 5000 }).toBe(0);
    });

    it('Given a reader that pauses, when the parse thread runs, then it stops after the batches it may post ahead and goes on when resumed', async () => {
      let received = 0;
      let ended = false;
      let source: ReturnType<typeof startCsvParseThread> | undefined;
      const sink = {
        item() {
          if (received++ === 0) source!.pause();
        },
        end() {
          ended = true;
        },
        fail(f: { message: string }) {
          throw new Error(f.message);
        },
      };
      source = startCsvParseThread({ path: join(dir, 'big.csv'), encoding: 'utf-8', delimiter: ';', quote: '"' }, sink, {
        batch: 10,
        ahead: 3,
      });
      await eventually(() => received, { timeout: 5000 }).toBe(30);
      await new Promise((r) => setTimeout(r, 300));
      expect(received).toBe(30);
      source.resume();
      await eventually(() => ended, { timeout: 5000 }).toBe(true);
      expect(received).toBe(1 + 1200 + 1); // the header, the rows, and one skipped record for the unclosed quote and all after it
      await eventually(() => runningParseThreads(), { timeout: 5000 }).toBe(0);
    });

    it('Given parseThread auto, when a small file is read, then it is parsed inline (a thread costs more to start than such a file takes)', async () => {
      expect(csvSource.configSchema.parse(big).parseThread).toBe('auto');
      await eventually(() => runningParseThreads(), { timeout: 5000 }).toBe(0); // earlier tests' threads have exited
      expect((await readAll(big, dir)).threads).toBe(0);
    });
  });

  it('Given the fixture and a missing file, when checked, then the check passes for one and names the missing file for the other', async () => {
    const ok = await csvSource.check(csvSource.configSchema.parse(dutch), ctx());
    expect(ok).toMatchObject({ ok: true });
    expect(ok.message).toContain('csv');
    expect(ok.message).toContain('delimiter ";"');
    const missing = await csvSource.check(csvSource.configSchema.parse({ ...dutch, path: 'nope.csv' }), ctx());
    expect(missing).toMatchObject({ ok: false, category: 'config' });
    expect(missing.message).toContain('nope.csv');
  });

  it('Given the config schema, when used by the root config, then it rejects unknown keys, has a JSON Schema and is registered by kind', () => {
    expect(csvSource.configSchema.safeParse({ ...dutch, delimeter: ';' }).success).toBe(false);
    expect(() => z.toJSONSchema(csvSource.configSchema, { io: 'input' })).not.toThrow();
    expect(sourceConnectors.filter((c) => c.kind === 'csv')).toHaveLength(1);
    const union = z.discriminatedUnion('kind', [csvSource.configSchema as never, z.strictObject({ kind: z.literal('other') })]);
    expect(union.safeParse(dutch).success).toBe(true);
  });
});

let durationDir = '';
afterAll(async () => {
  if (durationDir) await rm(durationDir, { recursive: true, force: true });
});
describeSheetDurationCases('csv', {
  async write(rows) {
    durationDir ||= await mkdtemp(join(tmpdir(), 'hb-csv-durations-'));
    await writeFile(join(durationDir, 'hours.csv'), `${rows.map((r) => r.join(',')).join('\n')}\n`);
  },
  async read(columns) {
    const { results } = await readAll(
      { id: 'csv-durations', kind: 'csv', path: 'hours.csv', timeZone: 'Europe/Amsterdam', columns } as CsvConfigInput,
      durationDir,
    );
    return results;
  },
});
