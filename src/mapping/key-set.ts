/**
 * The external ids seen so far in one read, with the row that first produced each: what
 * duplicate detection needs, in ~24 bytes per id outside the JS heap instead of ~90 bytes of
 * strings and Map entries inside it (a million-row file must stay far below 512 MB).
 *
 * Ids are kept as 64-bit fingerprints (cyrb53's two 32-bit lanes, an open-addressing table over
 * typed arrays). Two different ids share a fingerprint with probability ~n²/2⁶⁵ (about 3·10⁻⁸
 * for a million rows); that would quarantine a row as a duplicate naming the other row, so it
 * is visible, never a silent loss. Hand-written because no installed package offers a compact
 * string set, and the ingest benchmark runs a million rows through it.
 */
export class KeySet {
  /**
   * Open addressing over one typed array, three 32-bit words a slot: fingerprint high, low,
   * row + 1 (0 = empty). One array rather than three keeps a probe to one cache line: at a
   * million ids the table is ~24 MB and every probe is a cache miss.
   */
  private slots: Uint32Array;
  /** Number of slots (a power of two). */
  private capacity: number;
  private size = 0;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.capacity = cap;
    this.slots = new Uint32Array(cap * 3);
  }

  get count(): number {
    return this.size;
  }

  /** Remembers `key` for `row`; returns the earlier row if the key was already seen. */
  add(key: string, row: number): number | undefined {
    let h1 = 0xdeadbeef;
    let h2 = 0x41c6ce57;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return this.put(h1 >>> 0, h2 >>> 0, row);
  }

  private put(hi: number, lo: number, row: number): number | undefined {
    const slots = this.slots;
    const mask = this.capacity - 1;
    let i = (lo ^ hi) & mask;
    for (;;) {
      const at = i * 3;
      const r = slots[at + 2]!;
      if (r === 0) {
        slots[at] = hi;
        slots[at + 1] = lo;
        slots[at + 2] = row + 1;
        if (++this.size * 2 > this.capacity) this.grow();
        return undefined;
      }
      if (slots[at] === hi && slots[at + 1] === lo) return r - 1;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.capacity *= 2;
    this.slots = new Uint32Array(this.capacity * 3);
    this.size = 0;
    for (let at = 0; at < old.length; at += 3) if (old[at + 2] !== 0) this.put(old[at]!, old[at + 1]!, old[at + 2]! - 1);
  }
}
