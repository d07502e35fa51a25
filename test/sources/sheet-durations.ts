import { describe, expect, it } from '@jest/globals';
import type { MapResult } from '../../src/connectors/contract';
import type { TimeEntry } from '../../src/domain/time-entry';
import { dec } from '../../src/domain/money';
import { expectAnchored, expectedLine, priceEntries } from './conformance';

/**
 * The duration cases of the source conformance suite, for the spreadsheet sources (CSV, XLSX,
 * Google Sheets): they share one mapping (src/mapping/sheet-mapper.ts), and which column is
 * authoritative depends on what is mapped:
 * - start + hours (no end): the hours column; the entry ends start + hours;
 * - start + end: the span; an hours column mapped beside them is a cross-check, and a row
 *   where the two disagree by more than a minute is quarantined naming both, never billed
 *   at one of them silently.
 * Priced with the suite's card (100.00/h, hours to 4 decimals) through the real rate engine.
 */
export interface SheetDriver {
  /** Writes the rows (header first, cells as a person types them) where the source reads them. */
  write(rows: string[][]): Promise<void>;
  /** Reads and maps every row, with these canonical fields mapped to these headers. */
  read(columns: Record<string, string>): Promise<MapResult[]>;
}

const HEADER = ['ID', 'Date', 'Start', 'End', 'Hours', 'Worker', 'Client'];
const rows = (hoursOfR2: string): string[][] => [
  HEADER,
  ['R1', '2026-03-02', '09:00', '16:30', '7.5', 'Anna', 'Acme'],
  ['R2', '2026-03-03', '08:00', '12:00', hoursOfR2, 'Anna', 'Acme'],
  ['R3', '2026-03-04', '13:00', '15:15', '2.25', 'Anna', 'Acme'],
];
const WITHOUT_END = { externalId: 'ID', date: 'Date', start: 'Start', hours: 'Hours', worker: 'Worker', client: 'Client' };
const WITH_END = { ...WITHOUT_END, end: 'End' };
const SPAN_ONLY = { externalId: 'ID', date: 'Date', start: 'Start', end: 'End', worker: 'Worker', client: 'Client' };

const entries = (results: MapResult[]): TimeEntry[] => results.flatMap((r) => (r.kind === 'entry' ? [r.entry] : []));

export function describeSheetDurationCases(name: string, driver: SheetDriver): void {
  describe(`${name} billed durations`, () => {
    it('Given start and hours columns, when only the hours of a row are edited, then its billed duration, line and the total change by the edit', async () => {
      await driver.write(rows('4'));
      const before = entries(await driver.read(WITHOUT_END));
      expect(before).toHaveLength(3);
      before.forEach(expectAnchored);
      const r2 = before.find((e) => e.externalId === 'R2')!;
      expect(r2.durationSeconds).toBe(4 * 3600);
      const pricedBefore = priceEntries(before);

      await driver.write(rows('4.75'));
      const after = entries(await driver.read(WITHOUT_END));
      after.forEach(expectAnchored);
      const edited = after.find((e) => e.externalId === 'R2')!;
      expect(edited.start).toBe(r2.start);
      expect(edited.durationSeconds).toBe(4.75 * 3600);
      const pricedAfter = priceEntries(after);
      expect(pricedAfter.lines.get('R2')).toEqual(expectedLine(4.75 * 3600));
      expect(pricedBefore.lines.get('R2')).toEqual(expectedLine(4 * 3600));
      expect(dec(pricedAfter.total).minus(pricedBefore.total).toFixed(2)).toBe('75.00');
    });

    it('Given start, end and hours columns, when only the hours of a row are edited, then the row is quarantined naming the hours and the span, not billed at either', async () => {
      await driver.write(rows('4'));
      const agreed = await driver.read(WITH_END);
      expect(agreed.map((r) => r.kind)).toEqual(['entry', 'entry', 'entry']);
      expect(priceEntries(entries(agreed)).lines.get('R2')).toEqual(expectedLine(4 * 3600));

      await driver.write(rows('4.75'));
      const results = await driver.read(WITH_END);
      expect(results.map((r) => r.kind)).toEqual(['entry', 'invalid', 'entry']);
      const bad = results[1]!;
      expect(bad.kind === 'invalid' && bad.problems).toEqual([
        expect.objectContaining({ column: 'Hours', reason: expect.stringMatching(/4:45 disagrees with start–end 4:00/) }),
      ]);
    });

    it('Given start and end columns only, when read, then the billed duration is the span', async () => {
      await driver.write(rows('4'));
      const mapped = entries(await driver.read(SPAN_ONLY));
      expect(mapped.map((e) => [e.externalId, e.durationSeconds])).toEqual([
        ['R1', 7.5 * 3600],
        ['R2', 4 * 3600],
        ['R3', 2.25 * 3600],
      ]);
      mapped.forEach(expectAnchored);
    });
  });
}
