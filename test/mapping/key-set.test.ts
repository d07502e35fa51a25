import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { KeySet } from '../../src/mapping/key-set';

describe('KeySet', () => {
  it('Given distinct keys, when added, then none is reported as seen; when added again, then the first row comes back', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 300 }), (keys) => {
        const set = new KeySet(4);
        keys.forEach((k, i) => expect(set.add(k, i + 2)).toBeUndefined());
        keys.forEach((k, i) => expect(set.add(k, 9999)).toBe(i + 2));
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
});
