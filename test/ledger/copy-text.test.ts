import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CopyWriter } from '../../src/ledger/copy-text';

/** The COPY text format as the PostgreSQL manual defines it, written the obvious way. */
function reference(rows: Array<Array<string | number | boolean | null>>): string {
  const field = (v: string | number | boolean | null) =>
    v === null
      ? '\\N'
      : typeof v === 'boolean'
        ? v
          ? 't'
          : 'f'
        : typeof v === 'number'
          ? String(v)
          : v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return rows.map((r) => `${r.map(field).join('\t')}\n`).join('');
}

/** Written row by row; with `streamed`, the filled pieces are taken after each row, as the ledger streams them. */
function written(rows: Array<Array<string | number | boolean | null>>, streamed = false): Buffer[] {
  const w = new CopyWriter();
  const out: Buffer[] = [];
  for (const r of rows) {
    r.forEach((v, i) => {
      const last = i === r.length - 1;
      if (typeof v === 'string') w.text(v, last);
      else if (v === null) w.text(null, last);
      else w.value(v, last);
    });
    if (streamed && w.hasFull) out.push(...w.takeFull());
  }
  if (streamed) expect(w.hasFull).toBe(false);
  return [...out, ...w.take()];
}

describe('CopyWriter', () => {
  it('Given any rows of text, numbers, booleans and NULLs, when written, then the bytes are the COPY text format', () => {
    const value = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.constantFrom('a\tb', 'back\\slash', 'line\nbreak', 'cr\r', '\\N', 'é', '😀', ''),
      fc.string({ minLength: 20_000, maxLength: 30_000 }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
    );
    fc.assert(
      fc.property(fc.array(fc.array(value, { minLength: 1, maxLength: 6 }), { maxLength: 30 }), fc.boolean(), (rows, streamed) => {
        const pieces = written(rows, streamed);
        expect(Buffer.concat(pieces).toString('utf8')).toBe(reference(rows));
        expect(pieces.every((p) => p.length > 0)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it.each([false, true])(
    'Given many rows, when written (pieces taken as they fill: %s), then they are cut into pieces of at most 64 KB',
    (streamed) => {
      const rows = Array.from({ length: 5000 }, (_, i) => [`row ${i}`, i, i % 2 === 0, 'x'.repeat(100)]);
      const pieces = written(rows, streamed);
      expect(pieces.length).toBeGreaterThan(5);
      expect(pieces.every((p) => p.length <= 64 * 1024)).toBe(true);
      expect(Buffer.concat(pieces).toString('utf8')).toBe(reference(rows));
    },
  );
});
