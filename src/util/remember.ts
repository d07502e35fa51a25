/**
 * Store `value` under `key` in a memo and return it; a memo that has reached `limit` entries is
 * emptied first. The hot paths (mapping a row, pricing an entry) memoise pure results in plain
 * Maps with this cap: an LRU package costs more per hit than most of the work it saves, and
 * starting over is harmless for values that are cheap to make again.
 */
export function remember<K, V>(memo: Map<K, V>, key: K, value: V, limit: number): V {
  if (memo.size >= limit) memo.clear();
  memo.set(key, value);
  return value;
}
