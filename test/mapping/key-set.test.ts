import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { KeySet, rowFingerprint } from '../../src/mapping/key-set';

describe('KeySet', () => {
  it('Given distinct keys, when added, then none is reported as seen; when added again, then the first row comes back', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 300 }), (keys) => {
        const set = new KeySet(4);
        for (const [i, k] of keys.entries()) expect(set.add(k, i + 2)).toBeUndefined();
        for (const [i, k] of keys.entries()) expect(set.add(k, 9999)).toBe(i + 2);
        expect(set.count).toBe(keys.length);
      }),
      { numRuns: 100 },
    );
  });

  it('Given 200,000 derived-looking keys, when added, then there is no false duplicate', () => {
    const set = new KeySet();
    let dup = 0;
    for (let i = 0; i < 200_000; i++) if (set.add(`d:${i.toString(36)}-2026-02-03-medewerker ${i % 1000}`, i + 2) !== undefined) dup++;
    expect(dup).toBe(0);
    expect(set.count).toBe(200_000);
  });

  it('Given keys stored with a content fingerprint, when asked for, then each key gives back the fingerprint of the row that first had it', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 200 }), (keys) => {
        const set = new KeySet(4);
        for (const [i, k] of keys.entries()) set.add(k, i + 2, (i * 2654435761) >>> 0);
        for (const k of keys) set.add(k, 9999, 7);
        for (const [i, k] of keys.entries()) expect(set.contentOf(k)).toBe((i * 2654435761) >>> 0);
        expect(set.contentOf('\u0000never added')).toBeUndefined();
      }),
      { numRuns: 50 },
    );
  });

  it('Given rows of cells, when fingerprinted, then equal rows agree (ragged or not) and a change in any one cell changes the fingerprint', () => {
    const cell = fc.oneof(fc.string({ maxLength: 12 }), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(
        fc.array(cell, { minLength: 1, maxLength: 12 }),
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 12 }),
        (cells, at, text) => {
          expect(rowFingerprint([...cells, null, ''])).toBe(rowFingerprint(cells));
          const i = at % cells.length;
          if (cells[i] === text) return;
          const changed = [...cells];
          changed[i] = text;
          expect(rowFingerprint(changed)).not.toBe(rowFingerprint(cells));
        },
      ),
      { numRuns: 300 },
    );
    expect(rowFingerprint(['8:00', 8])).not.toBe(rowFingerprint(['8:00', '8']));
    expect(rowFingerprint([new Date(Date.UTC(2026, 1, 3))])).toBe(rowFingerprint([new Date(Date.UTC(2026, 1, 3))]));
  });
});
