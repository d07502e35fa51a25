import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { TimeEntry } from '../../src/domain/time-entry';
import type { MapResult } from '../../src/connectors/contract';
import {
  HeaderError,
  MappingSchema,
  SheetMapper,
  SheetRecordBuilder,
  mapRow,
  mapSheetRecord,
  type Cell,
  type MappingInput,
  type RowMeta,
} from '../../src/mapping/index';

const header = [
  'Datum',
  'Begin',
  'Eind',
  'Pauze',
  'Uren',
  'Medewerker',
  'Klant',
  'Project',
  'Goedgekeurd',
  'Factureerbaar',
  'Opmerking',
  'Km',
];
const dutch: MappingInput = {
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
    extras: [{ column: 'Km', kind: 'kilometres', unitPrice: '0.23' }],
  },
  locale: { decimal: ',', dateFormat: 'dd-MM-yyyy' },
  timeZone: 'Europe/Amsterdam',
};
const mapping = MappingSchema.parse(dutch);
const meta = (row: number, extra: Partial<RowMeta> = {}): RowMeta => ({
  sourceId: 'uren',
  row,
  file: 'uren.csv',
  fetchedAt: '2026-03-01T10:00:00.000Z',
  ...extra,
});
const row = (o: Partial<Record<string, Cell>>): Cell[] => header.map((h) => o[h] ?? '');
const base = {
  Datum: '03-02-2026',
  Begin: '8:00',
  Eind: '16:30',
  Pauze: '30',
  Uren: '8,0',
  Medewerker: 'Anna de Vries',
  Klant: 'Acme BV',
  Project: 'Website',
  Goedgekeurd: 'ja',
  Factureerbaar: 'ja',
};

function entry(r: MapResult) {
  if (r.kind !== 'entry') throw new Error(`expected an entry, got ${JSON.stringify(r)}`);
  return r.entry;
}

describe('mapRow', () => {
  it('Given a Dutch day shift with a break, when mapped, then start and end are instants in Amsterdam time and the break is separate', () => {
    const e = entry(mapRow(row({ ...base, Km: '12,5', Opmerking: 'Oplevering' }), header, mapping, meta(2)));
    expect(e).toMatchObject({
      sourceId: 'uren',
      date: '2026-02-03',
      start: '2026-02-03T07:00:00.000Z',
      end: '2026-02-03T15:30:00.000Z',
      durationSeconds: 8.5 * 3600,
      breakSeconds: 1800,
      worker: { name: 'Anna de Vries' },
      client: 'Acme BV',
      project: 'Website',
      approved: true,
      billable: true,
      notes: 'Oplevering',
      timeZone: 'Europe/Amsterdam',
      extras: [{ kind: 'kilometres', quantity: '12.5', unitPrice: '0.23' }],
      provenance: { file: 'uren.csv', row: 2, fetchedAt: '2026-03-01T10:00:00.000Z' },
    });
    expect(e.externalId).toMatch(/^d:/);
    expect(() => TimeEntry.parse(e)).not.toThrow();
  });

  it('Given a night shift ending before it starts, when mapped, then it ends the next day and its date is the start date', () => {
    const e = entry(mapRow(row({ ...base, Begin: '22:00', Eind: '06:00', Pauze: '0:30', Uren: '7,5' }), header, mapping, meta(3)));
    expect(e.date).toBe('2026-02-03');
    expect(e.start).toBe('2026-02-03T21:00:00.000Z');
    expect(e.end).toBe('2026-02-04T05:00:00.000Z');
    expect(e.durationSeconds).toBe(8 * 3600);
  });

  it('Given a night shift over the autumn DST change, when mapped, then the shift lasts the hours that really passed', () => {
    const e = entry(
      mapRow(row({ ...base, Datum: '24-10-2026', Begin: '22:00', Eind: '06:00', Pauze: '', Uren: '' }), header, mapping, meta(4)),
    );
    expect(e.start).toBe('2026-10-24T20:00:00.000Z');
    expect(e.end).toBe('2026-10-25T05:00:00.000Z');
    expect(e.durationSeconds).toBe(9 * 3600);
  });

  const shift = (datum: string, begin: string, eind: string, m = mapping) =>
    mapRow(row({ ...base, Datum: datum, Begin: begin, Eind: eind, Pauze: '', Uren: '' }), header, m, meta(7));
  const hoursOf = (r: MapResult) => entry(r).durationSeconds / 3600;

  it('Given a row whose end equals its start, when mapped, then it is quarantined naming the row and both fields, not billed as 24 hours', () => {
    const r = shift('03-02-2026', '08:00', '08:00');
    expect(r.kind).toBe('invalid');
    if (r.kind !== 'invalid') return;
    expect(r.problems).toEqual([
      {
        field: 'end',
        column: 'Eind',
        value: '08:00',
        reason:
          'equals the start (Begin 8:00, Eind 8:00 on row 7): a zero-length or mistyped shift (set equalStartEnd: 24h to read it as a 24-hour shift)',
      },
    ]);
    expect(r.externalId).toMatch(/^d:/);
    // 00:00–24:00 is a whole day, not equal times.
    expect(hoursOf(shift('03-02-2026', '0:00', '24:00'))).toBe(24);
  });

  it('Given equalStartEnd: 24h, when a row ends at its start, then it is a shift to that time the next day (as long as that day really is)', () => {
    const fullDay = MappingSchema.parse({ ...dutch, equalStartEnd: '24h' });
    const e = entry(shift('03-02-2026', '08:00', '08:00', fullDay));
    expect([e.start, e.end, e.durationSeconds]).toEqual(['2026-02-03T07:00:00.000Z', '2026-02-04T07:00:00.000Z', 24 * 3600]);
    // Over the spring change the next 08:00 comes 23 hours later, over the autumn change 25.
    expect(hoursOf(shift('28-03-2026', '08:00', '08:00', fullDay))).toBe(23);
    expect(hoursOf(shift('24-10-2026', '08:00', '08:00', fullDay))).toBe(25);
  });

  it('Given shifts on the autumn night, when a start or end falls in the repeated hour, then the start is its first occurrence and the end the first moment after the start that the clock shows it', () => {
    // 25-10-2026: 03:00 summer time → 02:00 winter time in Amsterdam.
    const a = entry(shift('25-10-2026', '02:30', '04:00'));
    expect([a.start, a.end, a.durationSeconds / 3600]).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-25T03:00:00.000Z', 2.5]);
    expect(hoursOf(shift('25-10-2026', '01:00', '02:30'))).toBe(1.5); // ends in summer time
    expect(hoursOf(shift('25-10-2026', '02:45', '02:15'))).toBe(0.5); // 02:45 summer → (03:00 = 02:00) → 02:15 winter, not the next day
    expect(hoursOf(shift('24-10-2026', '22:00', '02:30'))).toBe(4.5); // the end's first occurrence
    expect(hoursOf(shift('24-10-2026', '22:00', '06:00'))).toBe(9);
    expect(hoursOf(shift('25-10-2026', '00:00', '08:00'))).toBe(9);
  });

  it('Given shifts on the spring night, when a start or end falls in the skipped hour, then it is read with the offset before the change, and a shift that then ends before it starts says why', () => {
    // 29-03-2026: 02:00 winter time → 03:00 summer time in Amsterdam.
    expect(hoursOf(shift('28-03-2026', '22:00', '06:00'))).toBe(7);
    expect(hoursOf(shift('29-03-2026', '00:00', '08:00'))).toBe(7);
    const gapStart = entry(shift('29-03-2026', '02:30', '06:00'));
    expect([gapStart.start, gapStart.end, gapStart.durationSeconds / 3600]).toEqual([
      '2026-03-29T01:30:00.000Z',
      '2026-03-29T04:00:00.000Z',
      2.5,
    ]);
    expect(hoursOf(shift('28-03-2026', '22:00', '02:30'))).toBe(4.5); // 02:30 is 03:30 summer time
    const backwards = shift('29-03-2026', '02:30', '03:15');
    expect(backwards).toMatchObject({
      kind: 'invalid',
      problems: [{ field: 'end', reason: expect.stringContaining('2:30 does not exist on 2026-03-29 in Europe/Amsterdam') }],
    });
  });

  it('Given any shift of quarter hours on or around the DST nights, when mapped, then its start is the first instant showing the start time and its end the first instant after it showing the end time', () => {
    const zone = 'Europe/Amsterdam';
    const days = [
      [28, 3],
      [29, 3],
      [24, 10],
      [25, 10],
      [3, 2],
    ] as const;
    // Reference by brute force: every quarter-hour instant from 3 h before the day for 56 h,
    // with the local day and quarter hour a clock in Amsterdam shows at it (luxon).
    const walk = new Map(
      days.map(([d, m]) => {
        const from = Date.UTC(2026, m - 1, d) - 3 * 3_600_000;
        const quarters = Array.from({ length: 4 * 56 }, (_, i) => {
          const ms = from + i * 900_000;
          const l = DateTime.fromMillis(ms, { zone });
          return { ms, day: l.day, q: l.hour * 4 + l.minute / 15 };
        });
        return [d, quarters] as const;
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...days), fc.integer({ min: 0, max: 95 }), fc.integer({ min: 0, max: 95 }), ([d, m], sq, eq) => {
        const fmt = (q: number) => `${String(Math.floor(q / 4)).padStart(2, '0')}:${String((q % 4) * 15).padStart(2, '0')}`;
        const r = shift(`${String(d).padStart(2, '0')}-${String(m).padStart(2, '0')}-2026`, fmt(sq), fmt(eq));
        if (sq === eq) {
          expect(r.kind).toBe('invalid');
          return;
        }
        // A start or end in the hour skipped on 29-03 has no instant showing it: covered above.
        const inGap = (q: number, day: number) => day === 29 && m === 3 && Math.floor(q / 4) === 2;
        if (inGap(sq, d) || inGap(eq, d) || (eq < sq && inGap(eq, d + 1))) return;
        const quarters = walk.get(d)!;
        const startMs = quarters.find((x) => x.day === d && x.q === sq)!.ms;
        const endMs = quarters.find((x) => x.ms > startMs && x.q === eq)!.ms;
        const e = entry(r);
        expect(e.start).toBe(new Date(startMs).toISOString());
        expect(e.end).toBe(new Date(endMs).toISOString());
      }),
      { numRuns: 1500 },
    );
  });

  it('Given hours that disagree with start and end by more than a minute, when mapped, then the row is invalid with both figures', () => {
    const r = mapRow(row({ ...base, Uren: '8,5' }), header, mapping, meta(5));
    expect(r.kind).toBe('invalid');
    if (r.kind !== 'invalid') return;
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ field: 'hours', column: 'Uren', value: '8,5' });
    expect(r.problems[0]!.reason).toContain('8:30 disagrees with start–end 8:30 minus the 0:30 break = 8:00');
    expect(r.externalId).toMatch(/^d:/);
  });

  it('Given hours within a minute of start and end, when mapped, then the row is accepted', () => {
    expect(mapRow(row({ ...base, Uren: '8:01' }), header, mapping, meta(5)).kind).toBe('entry');
    expect(mapRow(row({ ...base, Uren: '8:02' }), header, mapping, meta(5)).kind).toBe('invalid');
  });

  it('Given a date that does not exist, when mapped, then the problem names field, column, raw value and says there is no such date', () => {
    const r = mapRow(row({ ...base, Datum: '31-02-2026' }), header, mapping, meta(6));
    expect(r).toEqual({
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
    const time = mapRow(row({ ...base, Eind: '25:00', Uren: '' }), header, mapping, meta(6));
    expect(time).toMatchObject({
      kind: 'invalid',
      problems: [{ field: 'end', column: 'Eind', value: '25:00', reason: expect.stringMatching(/^no such time: 25:00/) }],
    });
  });

  it('Given a bad date on a shift with start and end, when mapped, then only the date is reported', () => {
    const r = mapRow(row({ ...base, Datum: '31-02-2026', Uren: '' }), header, mapping, meta(6));
    expect(r.kind === 'invalid' && r.problems.map((p) => p.field)).toEqual(['date']);
    const blank = mapRow(row({ ...base, Datum: '', Uren: '' }), header, mapping, meta(6));
    expect(blank).toMatchObject({
      kind: 'invalid',
      problems: [{ field: 'date', column: 'Datum', reason: 'is blank: every row needs a date' }],
    });
  });

  it('Given several bad cells, when mapped, then every problem is reported, not just the first', () => {
    const r = mapRow(row({ ...base, Medewerker: '', Begin: '25:00', Goedgekeurd: 'misschien', Km: 'veel' }), header, mapping, meta(7));
    expect(r.kind).toBe('invalid');
    if (r.kind !== 'invalid') return;
    expect(r.problems.map((p) => p.field).sort()).toEqual(['approved', 'extras.kilometres', 'start', 'worker'].sort());
  });

  it('Given hours only with a break and hours net of the break, when mapped, then the duration is gross and the break separate', () => {
    const e = entry(mapRow(row({ ...base, Begin: '', Eind: '', Uren: '7,5', Pauze: '0,5' }), header, mapping, meta(8)));
    expect(e.start).toBeUndefined();
    expect(e.durationSeconds).toBe(8 * 3600);
    expect(e.breakSeconds).toBe(1800);
    const gross = MappingSchema.parse({ ...dutch, hoursAre: 'gross' });
    expect(entry(mapRow(row({ ...base, Begin: '', Eind: '', Uren: '7,5', Pauze: '0,5' }), header, gross, meta(8))).durationSeconds).toBe(
      7.5 * 3600,
    );
  });

  it('Given a start and hours but no end, when mapped, then the end is the start plus the hours and the break', () => {
    const e = entry(mapRow(row({ ...base, Eind: '', Uren: '8' }), header, mapping, meta(9)));
    expect(e.end).toBe('2026-02-03T15:30:00.000Z');
  });

  it('Given a break longer than the shift or no hours at all, when mapped, then the row is invalid', () => {
    expect(mapRow(row({ ...base, Begin: '8:00', Eind: '8:20', Uren: '', Pauze: '30' }), header, mapping, meta(10)).kind).toBe('invalid');
    const r = mapRow(row({ ...base, Begin: '', Eind: '', Uren: '' }), header, mapping, meta(11));
    expect(r).toMatchObject({ kind: 'invalid', problems: [{ field: 'hours', column: 'Uren' }] });
  });

  it('Given blank rows and a total row, when mapped, then they are skipped, not quarantined', () => {
    expect(mapRow(row({}), header, mapping, meta(12))).toEqual({ kind: 'skip', reason: 'blank row' });
    expect(mapRow(['', ' ', null], header, mapping, meta(12)).kind).toBe('skip');
    const withTotals = MappingSchema.parse({ ...dutch, skipRowsWhere: [{ column: 'Medewerker', matches: '^totaal' }] });
    expect(mapRow(row({ Medewerker: 'Totaal', Uren: '160' }), header, withTotals, meta(13))).toMatchObject({ kind: 'skip' });
  });

  it('Given blank approval and billable cells, when mapped, then both are no unless constants say otherwise', () => {
    const e = entry(mapRow(row({ ...base, Goedgekeurd: '', Factureerbaar: '' }), header, mapping, meta(14)));
    expect([e.approved, e.billable]).toEqual([false, false]);
    const noCols = MappingSchema.parse({ ...dutch, columns: { ...dutch.columns, approved: undefined, billable: undefined } });
    const f = entry(mapRow(row(base), header, noCols, meta(14)));
    expect([f.approved, f.billable]).toEqual([null, true]);
  });

  it('Given a one-client sheet, when the client is a constant, then every entry carries it', () => {
    const m = MappingSchema.parse({
      ...dutch,
      columns: { ...dutch.columns, client: undefined },
      constants: { client: 'Acme BV', tags: ['onsite'] },
    });
    const e = entry(mapRow(row({ ...base, Klant: 'ignored' }), header, m, meta(15)));
    expect(e.client).toBe('Acme BV');
    expect(e.tags).toEqual(['onsite']);
  });

  it('Given the same shift re-typed with other formatting, when mapped, then its derived id is the same', () => {
    const a = entry(mapRow(row(base), header, mapping, meta(2)));
    const b = entry(
      mapRow(
        row({ ...base, Datum: '3-2-2026', Begin: '08:00', Medewerker: ' anna de vries ', Uren: '8:00', Eind: '16:31' }),
        header,
        mapping,
        meta(40),
      ),
    );
    expect(b.externalId).toBe(a.externalId);
    const c = entry(mapRow(row({ ...base, Begin: '8:15', Uren: '' }), header, mapping, meta(2)));
    expect(c.externalId).not.toBe(a.externalId);
  });

  it('Given shifts mapped by an earlier release, when mapped now, then their derived ids are unchanged (a ledger would read changed ids as new entries)', () => {
    // Pinned values: the ids ledgers already hold for these rows. Changing how a derived id is
    // computed must come with a migration, never silently.
    const h = ['Datum', 'Begin', 'Eind', 'Pauze', 'Uren', 'Medewerker', 'Klant', 'Project'];
    const m = MappingSchema.parse({
      columns: {
        date: 'Datum',
        start: 'Begin',
        end: 'Eind',
        break: 'Pauze',
        hours: 'Uren',
        worker: 'Medewerker',
        client: 'Klant',
        project: 'Project',
      },
      locale: { decimal: ',', dateFormat: 'dd-MM-yyyy' },
      timeZone: 'Europe/Amsterdam',
    });
    const ids = [
      ['02-03-2026', '08:00', '16:30', '30', '', 'Anna de Vries', 'Acme B.V.', 'Website'],
      ['02-03-2026', '22:00', '06:00', '0:30', '', 'Bram Jansen', 'Globex', 'Nachtdienst'],
      ['03-03-2026', '', '', '', '7,5', 'Chris Bakker', 'Acme B.V.', ''],
    ].map((cells) => entry(mapRow(cells, h, m, meta(2))).externalId);
    expect(ids).toEqual(['d:5JVHCPDMxx6-8cBoOzwS7jG19zU', 'd:_tQck0gUJrTfZzHkViJEJFWYU4I', 'd:YT1CZMLuoWMtiDFJS_kdQp-aZQ8']);
  });

  it('Given an id column, when mapped, then the id is the cell and a blank id is a problem on that column', () => {
    const h = [...header, 'ID'];
    const m = MappingSchema.parse({ ...dutch, columns: { ...dutch.columns, externalId: 'ID' } });
    expect(entry(mapRow([...row(base), 'R-17'], h, m, meta(2))).externalId).toBe('R-17');
    expect(mapRow([...row(base), ''], h, m, meta(2))).toMatchObject({ kind: 'invalid', problems: [{ field: 'externalId', column: 'ID' }] });
  });

  it('Given a header missing mapped columns, when mapped, then the problem lists the missing columns and the headers found', () => {
    const r = mapRow(['x'], ['Datum', 'Wie'], mapping, meta(2));
    expect(r.kind).toBe('invalid');
    if (r.kind !== 'invalid') return;
    expect(r.problems[0]!.reason).toContain('"Begin"');
    expect(r.problems[0]!.reason).toContain('headers found: "Datum", "Wie"');
    expect(() => new SheetMapper(mapping, ['Datum'])).toThrow(HeaderError);
  });

  it('Given headers with other case and spacing, when resolved, then they still match', () => {
    const h = header.map((x) => ` ${x.toUpperCase()} `);
    expect(mapRow(row(base), h, mapping, meta(2)).kind).toBe('entry');
  });

  it('Given exceljs-style cells (Dates, numbers), when mapped, then they read like their text forms', () => {
    const cells = row({
      ...base,
      Datum: new Date(Date.UTC(2026, 1, 3)),
      Begin: new Date(Date.UTC(1899, 11, 30, 8, 0)),
      Eind: 16.5 / 24,
      Uren: 8,
      Pauze: 30,
    });
    const e = entry(mapRow(cells, header, mapping, meta(2)));
    expect([e.start, e.end, e.durationSeconds, e.breakSeconds]).toEqual([
      '2026-02-03T07:00:00.000Z',
      '2026-02-03T15:30:00.000Z',
      8.5 * 3600,
      1800,
    ]);
  });

  it('Given a start column with date and time and no date column, when mapped, then the date comes from the start', () => {
    const h = ['Start', 'End', 'Who', 'Client'];
    const m = MappingSchema.parse({
      columns: { start: 'Start', end: 'End', worker: 'Who', client: 'Client' },
      timeZone: 'America/New_York',
    });
    const e = entry(mapRow([46056.375, 46056.5, 'Sam', 'Globex'], h, m, meta(2)));
    expect([e.date, e.start, e.end]).toEqual(['2026-02-03', '2026-02-03T14:00:00.000Z', '2026-02-03T17:00:00.000Z']);
    const text = entry(mapRow(['2026-02-03 21:00', '2026-02-04 01:30', 'Sam', 'Globex'], h, m, meta(3)));
    expect(text.durationSeconds).toBe(4.5 * 3600);
  });

  it('Given random valid shifts, when mapped, then every entry passes the TimeEntry schema and the span matches', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 28 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 95 }),
        fc.integer({ min: 1, max: 47 }),
        fc.integer({ min: 0, max: 4 }),
        (d, m, startQ, lenQ, breakQ) => {
          const startMin = startQ * 15;
          const endMin = (startMin + lenQ * 15) % 1440;
          const fmt = (min: number) => `${Math.floor(min / 60)}:${String(min % 60).padStart(2, '0')}`;
          const breakMin = Math.min(breakQ * 15, lenQ * 15);
          const r = mapRow(
            row({ ...base, Datum: `${d}-${m}-2026`, Begin: fmt(startMin), Eind: fmt(endMin), Pauze: String(breakMin), Uren: '' }),
            header,
            mapping,
            meta(2),
          );
          const e = entry(r);
          expect(() => TimeEntry.parse(e)).not.toThrow();
          expect(Date.parse(e.end!) - Date.parse(e.start!)).toBe(e.durationSeconds * 1000);
          expect(e.breakSeconds).toBe(breakMin * 60);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('SheetRecordBuilder', () => {
  it('Given two rows deriving the same id, when read and mapped, then the second is invalid naming both rows and the first is an entry', () => {
    const builder = new SheetRecordBuilder(mapping, header, { sourceId: 'uren', file: 'uren.csv', fetchedAt: '2026-03-01T10:00:00.000Z' });
    const a = builder.record(row(base), 2);
    const blank = builder.record(row({}), 3);
    const b = builder.record(row({ ...base, Opmerking: 'dubbel' }), 4);
    const results = [a, blank, b].map((r) => mapSheetRecord(r, mapping, 'uren'));
    expect(results.map((r) => r.kind)).toEqual(['entry', 'skip', 'invalid']);
    const dup = results[2]!;
    if (dup.kind !== 'invalid') return;
    expect(dup.problems[0]!.field).toBe('externalId');
    expect(dup.problems[0]!.reason).toContain('rows 2 and 4');
    expect(dup.externalId).toBeUndefined();
  });

  it('Given a row that repeats an earlier row cell for cell, when read and mapped, then the reason says to delete one of them, not to widen the id', () => {
    const builder = new SheetRecordBuilder(mapping, header, { sourceId: 'uren', file: 'uren.csv', fetchedAt: '2026-03-01T10:00:00.000Z' });
    const a = builder.record(row(base), 2);
    const other = builder.record(row({ ...base, Datum: '04-02-2026' }), 3);
    // The same row, handed over ragged (trailing empty cells missing), as readers do.
    const again = builder.record(row(base).slice(0, 10), 5);
    const results = [a, other, again].map((r) => mapSheetRecord(r, mapping, 'uren'));
    expect(results.map((r) => r.kind)).toEqual(['entry', 'entry', 'invalid']);
    const dup = results[2]!;
    if (dup.kind !== 'invalid') return;
    expect(dup.problems).toHaveLength(1);
    expect(dup.problems[0]!.reason).toBe('duplicate: row 5 repeats row 2 cell for cell: delete one of the rows (the ledger keeps row 2)');
    // The verdict travels with the record to another process.
    expect(mapSheetRecord(JSON.parse(JSON.stringify(again)), mapping, 'uren')).toEqual(dup);
  });

  it('Given two different rows with the same id, when read and mapped, then the reason tells both fixes apart: delete a shift entered twice, or widen the id', () => {
    const builder = new SheetRecordBuilder(mapping, header, { sourceId: 'uren', file: 'uren.csv', fetchedAt: '2026-03-01T10:00:00.000Z' });
    builder.record(row(base), 2);
    const dup = mapSheetRecord(builder.record(row({ ...base, Eind: '17:00', Uren: '8,5' }), 3), mapping, 'uren');
    expect(dup).toMatchObject({ kind: 'invalid' });
    if (dup.kind !== 'invalid') return;
    expect(dup.problems[0]!.reason).toBe(
      'duplicate id: rows 2 and 3 have the same date, start, worker, client, project but differ in other cells: if they are the same shift entered twice, delete one; ' +
        'if they are different shifts, add a field that tells them apart to externalId.derive (or map an id column)',
    );
    const withIds = MappingSchema.parse({ ...dutch, columns: { ...dutch.columns, externalId: 'Opmerking' } });
    const ids = new SheetRecordBuilder(withIds, header, { sourceId: 'uren', file: 'uren.csv', fetchedAt: '2026-03-01T10:00:00.000Z' });
    ids.record(row({ ...base, Opmerking: 'A-1' }), 2);
    const same = mapSheetRecord(ids.record(row({ ...base, Opmerking: 'A-1' }), 3), withIds, 'uren');
    const clash = mapSheetRecord(ids.record(row({ ...base, Datum: '05-02-2026', Opmerking: 'A-1' }), 4), withIds, 'uren');
    expect(same.kind === 'invalid' && same.problems[0]!.reason).toContain('row 3 repeats row 2');
    expect(clash.kind === 'invalid' && clash.problems[0]!.reason).toBe(
      'duplicate id: rows 2 and 4 have the same id but differ in other cells: give each row its own id (the ledger keeps row 2)',
    );
  });

  it('Given a record that crossed a process boundary as JSON, when mapped, then the result is the same as in-process', () => {
    const builder = new SheetRecordBuilder(mapping, header, { sourceId: 'uren', file: 'uren.csv', fetchedAt: '2026-03-01T10:00:00.000Z' });
    const rec = builder.record(row({ ...base, Datum: new Date(Date.UTC(2026, 1, 3)) }), 2);
    const direct = mapSheetRecord(rec, mapping, 'uren', { revive: true });
    const viaJson = mapSheetRecord(JSON.parse(JSON.stringify(rec)), mapping, 'uren', { revive: true });
    expect(viaJson).toEqual(direct);
    expect(direct.kind).toBe('entry');
  });

  it('Given a malformed source line, when mapped, then it is invalid with the line number', () => {
    const builder = new SheetRecordBuilder(mapping, header, { sourceId: 'uren', file: 'uren.csv', fetchedAt: '2026-03-01T10:00:00.000Z' });
    const r = mapSheetRecord(builder.malformed(9, 'unclosed quote', 9, '03-02-2026;"8:00'), mapping, 'uren');
    expect(r).toMatchObject({ kind: 'invalid', problems: [{ reason: 'unclosed quote (line 9 of the file)' }] });
  });
});

describe('MappingSchema', () => {
  it('Given a mapping without worker, hours or timezone, when parsed, then each gap is reported at its path', () => {
    const r = MappingSchema.safeParse({ columns: { date: 'Datum', client: 'Klant' }, timeZone: 'Europe/Amsterdm' });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('timeZone');
    const ok = MappingSchema.safeParse({ columns: { date: 'Datum', client: 'Klant' }, timeZone: 'Europe/Amsterdam' });
    expect(ok.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['columns.hours', 'columns.worker']);
  });

  it('Given an unknown key or a bad date format, when parsed, then it is an error', () => {
    expect(MappingSchema.safeParse({ ...dutch, colums: {} }).success).toBe(false);
    expect(MappingSchema.safeParse({ ...dutch, locale: { dateFormat: 'dd-MM' } }).success).toBe(false);
    expect(MappingSchema.safeParse({ ...dutch, externalId: { derive: ['role'] } }).success).toBe(false);
  });
});
