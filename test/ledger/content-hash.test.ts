import { describe, expect, it } from '@jest/globals';
import { expectWithMessage } from '../support/runner';
import { TimeEntry } from '../../src/domain/time-entry';
import { HASHED_FIELDS, entryContentHash } from '../../src/ledger/entries.repository';
import { entry } from '../support/entries';

describe('entry content hash', () => {
  it('Given the TimeEntry schema When compared with the hashed fields Then every field but provenance is covered', () => {
    const fields = Object.keys(TimeEntry.shape)
      .filter((f) => f !== 'provenance')
      .sort();
    expect([...HASHED_FIELDS].sort()).toEqual(fields);
  });

  it('Given two entries that differ in one content field When hashed Then the hashes differ; provenance alone never changes it', () => {
    const base = entry({ externalId: 'a' });
    const variants: Array<Partial<TimeEntry>> = [
      { worker: { name: 'Other' } },
      { worker: { name: 'Anna de Vries', id: '7' } },
      { client: 'Other' },
      { project: 'Other' },
      { task: 'x' },
      { role: 'x' },
      { tags: ['x'] },
      { date: '2026-03-03' },
      { start: '2026-03-02T08:15:00.000Z' },
      { end: '2026-03-02T16:15:00.000Z' },
      { durationSeconds: 1 },
      { breakSeconds: 60 },
      { timeZone: 'Europe/Berlin' },
      { billable: false },
      { approved: false },
      { approved: null },
      { billedAtSource: true },
      { notes: 'n' },
      { sourceRate: '1' },
      { sourceCurrency: 'USD' },
      { costRate: '1' },
      { extras: [{ kind: 'km', quantity: '1' }] },
    ];
    const h = entryContentHash(base);
    for (const v of variants) expectWithMessage(entryContentHash({ ...base, ...v }), JSON.stringify(v)).not.toBe(h);
    expect(entryContentHash({ ...base, provenance: { row: 99, fetchedAt: '2030-01-01T00:00:00.000Z' } })).toBe(h);
  });
});
