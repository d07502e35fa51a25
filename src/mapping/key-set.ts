import type { Cell } from './cells';

/**
 * The external ids seen so far in one read, with the row that first produced each and a
 * fingerprint of that row's content: what duplicate detection needs (is a repeated id the same
 * row typed twice, or two different rows the id cannot tell apart?), in ~32 bytes per id
 * outside the JS heap instead of ~90 bytes of strings and Map entries inside it (a million-row
 * file must stay far below 512 MB).
 *
 * Ids are kept as 64-bit fingerprints (cyrb53's two 32-bit lanes, an open-addressing table over
 * typed arrays). Two different ids share a fingerprint with probability ~n²/2⁶⁵ (about 3·10⁻⁸
 * for a million rows); that would quarantine a row as a duplicate naming the other row, so it
 * is visible, never a silent loss. Hand-written because no installed package offers a compact
 * string set, and the ingest benchmark runs a million rows through it.
 */
export class KeySet {
  /**
   * Open addressing over one typed array, four 32-bit words a slot: fingerprint high, low,
   * row + 1 (0 = empty), content fingerprint. One array rather than four keeps a probe to one
   * cache line: at a million ids the table is ~32 MB and every probe is a cache miss.
   */
  private slots: Uint32Array;
  /** Number of slots (a power of two). */
  private capacity: number;
  private size = 0;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.capacity = cap;
    this.slots = new Uint32Array(cap * WORDS);
  }

  get count(): number {
    return this.size;
  }

  /**
   * Remembers `key` for `row` (with the row's `content` fingerprint, see rowFingerprint);
   * returns the earlier row if the key was already seen.
   */
  add(key: string, row: number, content = 0): number | undefined {
    fingerprint(key);
    return this.put(keyHi, keyLo, row, content >>> 0);
  }

  /** The content fingerprint stored with `key` (of the row that first produced it), or undefined. */
  contentOf(key: string): number | undefined {
    fingerprint(key);
    const hi = keyHi;
    const lo = keyLo;
    const slots = this.slots;
    const mask = this.capacity - 1;
    for (let i = (lo ^ hi) & mask; ; i = (i + 1) & mask) {
      const at = i * WORDS;
      if (slots[at + 2] === 0) return undefined;
      if (slots[at] === hi && slots[at + 1] === lo) return slots[at + 3];
    }
  }

  private put(hi: number, lo: number, row: number, content: number): number | undefined {
    const slots = this.slots;
    const mask = this.capacity - 1;
    let i = (lo ^ hi) & mask;
    for (;;) {
      const at = i * WORDS;
      const r = slots[at + 2]!;
      if (r === 0) {
        slots[at] = hi;
        slots[at + 1] = lo;
        slots[at + 2] = row + 1;
        slots[at + 3] = content;
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
    this.slots = new Uint32Array(this.capacity * WORDS);
    this.size = 0;
    for (let at = 0; at < old.length; at += WORDS) if (old[at + 2] !== 0) this.put(old[at]!, old[at + 1]!, old[at + 2]! - 1, old[at + 3]!);
  }
}

const WORDS = 4;

/** The last fingerprint computed (two words in module scope: `add` runs once per row and must not allocate). */
let keyHi = 0;
let keyLo = 0;

/** cyrb53's two 32-bit lanes of a string, into keyHi and keyLo. */
function fingerprint(key: string): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  keyHi = h1 >>> 0;
  keyLo = h2 >>> 0;
}

const numberBits = new Float64Array(1);
const numberWords = new Uint32Array(numberBits.buffer);

/**
 * A 32-bit fingerprint of a row's cells as read (type and value of each; trailing blank cells
 * ignored, since readers hand rows over ragged). Two rows with the same id and the same
 * fingerprint are the same row typed twice; a different pair of rows shares a fingerprint with
 * probability 2⁻³², and then only the advice in the duplicate's reason is off. A blank cell is
 * blank whichever way the reader gives it (null, undefined, ''). No allocation:
 * it runs once per row on the ingest path.
 */
export function rowFingerprint(cells: readonly Cell[]): number {
  let n = cells.length;
  while (n > 0 && (cells[n - 1] === null || cells[n - 1] === undefined || cells[n - 1] === '')) n--;
  // FNV-1a over type tags, UTF-16 code units and number bits, a separator after each cell.
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) {
    const v = cells[i];
    if (typeof v === 'string' && v !== '') {
      h = Math.imul(h ^ 1, 0x01000193);
      for (let j = 0; j < v.length; j++) h = Math.imul(h ^ v.charCodeAt(j), 0x01000193);
    } else if (typeof v === 'number' || v instanceof Date) {
      h = Math.imul(h ^ (typeof v === 'number' ? 2 : 3), 0x01000193);
      numberBits[0] = typeof v === 'number' ? v : v.getTime();
      h = Math.imul(h ^ numberWords[0]!, 0x01000193);
      h = Math.imul(h ^ numberWords[1]!, 0x01000193);
    } else h = Math.imul(h ^ (v === true ? 4 : v === false ? 5 : 6), 0x01000193);
    h = Math.imul(h ^ 0x1f, 0x01000193);
  }
  return h >>> 0;
}
