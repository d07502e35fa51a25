import Table from 'cli-table3';

/** One measured run, for the table. `vs` names the baseline row the ratio is taken against. */
export interface BenchRow {
  name: string;
  rows: number;
  ms: number;
  /** Baseline rows/s this run is compared with, and its label. */
  vs?: { label: string; perSec: number };
  /** Goal on the ratio (e.g. 0.5 = at least 50 % of the baseline). */
  goal?: number;
  note?: string;
}

export const perSec = (rows: number, ms: number): number => (ms > 0 ? Math.round(rows / (ms / 1000)) : 0);
export const round2 = (x: number): number => Math.round(x * 100) / 100;

/** The median (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Ratio of a run's rate to its baseline rate (2 decimals). */
export function ratioOf(r: BenchRow): number | undefined {
  return r.vs ? round2(perSec(r.rows, r.ms) / r.vs.perSec) : undefined;
}

export function printTable(rows: BenchRow[], extra: Array<[string, string]> = []): void {
  // No colour codes when the output goes to a file or a CI log.
  const plain = !process.stdout.isTTY;
  const t = new Table({
    head: ['run', 'rows', 'seconds', 'rows/s', 'ratio (vs)', 'goal', 'met?'],
    ...(plain ? { style: { head: [], border: [] } } : {}),
  });
  for (const r of rows) {
    const ratio = ratioOf(r);
    t.push([
      r.note ? `${r.name}\n(${r.note})` : r.name,
      r.rows.toLocaleString('en'),
      (r.ms / 1000).toFixed(2),
      perSec(r.rows, r.ms).toLocaleString('en'),
      ratio === undefined ? 'baseline' : `${ratio} (vs ${r.vs!.label})`,
      r.goal === undefined ? '' : `≥ ${r.goal}`,
      r.goal === undefined || ratio === undefined ? '' : ratio >= r.goal ? 'yes' : 'NO',
    ]);
  }
  for (const [k, v] of extra) t.push([k, { colSpan: 6, content: v }]);
  console.log(t.toString());
}

/** Time an async step and add its duration to `acc.ms`. */
export async function timed<T>(acc: { ms: number }, fn: () => Promise<T> | T): Promise<T> {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    acc.ms += performance.now() - t;
  }
}
