import type { Queryable } from '../ledger/db';
import { type QuarantineRow, quarantineReport } from './reports';

/** What a rejected row is about, from the field the mapper named: the unit of counts and hints. */
export type QuarantineCategory = 'date' | 'time' | 'duration' | 'client' | 'worker' | 'id' | 'rate' | 'other';

const FIELD_CATEGORY: Array<[RegExp, QuarantineCategory]> = [
  [/^rate$/, 'rate'],
  [/date/i, 'date'],
  [/(^|\.)(start|end|begin|stop|started_time)$/i, 'time'],
  [/(duration|hours|break)/i, 'duration'],
  [/client|customer|project/i, 'client'],
  [/worker|user|employee/i, 'worker'],
  [/externalId|(^|\.)id$/i, 'id'],
];

export function categoryOf(row: Pick<QuarantineRow, 'field' | 'column'>): QuarantineCategory {
  const name = row.field || row.column || '';
  for (const [re, category] of FIELD_CATEGORY) if (re.test(name)) return category;
  return 'other';
}

/** A "how to fix" line per category, for the people who keep the sheets and the config. */
export const QUARANTINE_HINTS: Record<QuarantineCategory, string> = {
  date: "Correct the date in the source (the format is the source's locale.dateFormat in the config); the next sync reads the row again.",
  time: 'Give the row a start and end time in the format the source uses (HH:mm), or an hours value instead; an end before the start is the next day.',
  duration:
    'Enter the hours or break as a number the locale accepts (e.g. 7,5 or 7:30 or minutes); a negative or empty duration is refused.',
  client: "Use a client name the config knows (a client's `match` list), or add the name to that list; then sync again.",
  worker: 'Fill in who worked: the worker column is required to price and to group a line.',
  id: "The row's identity is missing or repeated: fill the id column, or the columns the source derives the id from (externalId.derive).",
  rate: 'No rate rule matches the entry: add a base rate for its client, role or project under `rates` (or fix a tie between two rules); `hourbridge explain` shows why.',
  other: "Read the reason and correct the row at the source; `hourbridge validate` checks the config's mapping.",
};

/**
 * The offending value of a rejected row: the cell under its column when the source kept the
 * row as header + cells (the sheet sources do), else the field of a raw API record.
 */
export function rawValueOf(row: Pick<QuarantineRow, 'value' | 'column' | 'field'>): string | null {
  const v = row.value as { header?: unknown; cells?: unknown } | string | number | null | undefined;
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v.header) && Array.isArray(v.cells) && row.column) {
    const i = v.header.indexOf(row.column);
    if (i >= 0) return v.cells[i] === undefined || v.cells[i] === null ? '' : String(v.cells[i]);
  }
  if (row.field) {
    const at = row.field
      .split('.')
      .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), v);
    if (at !== undefined) return typeof at === 'string' ? at : JSON.stringify(at);
  }
  return null;
}

export interface QuarantineSummary {
  ok: true;
  report: 'quarantine';
  rows: Array<QuarantineRow & { category: QuarantineCategory; hint: string; rawValue: string | null }>;
  counts: Array<{ category: QuarantineCategory; count: number; hint: string }>;
  sources: string[];
}

/** The quarantine report with each row's category and hint, and counts per category (the page and its exports). */
export async function quarantineSummary(
  q: Queryable,
  filter: { sourceId?: string; category?: string; search?: string } = {},
): Promise<QuarantineSummary> {
  const all = await quarantineReport(q, filter.sourceId ? { sourceId: filter.sourceId } : {});
  const withHints = all.map((r) => {
    const category = categoryOf(r);
    return { ...r, category, hint: QUARANTINE_HINTS[category], rawValue: rawValueOf(r) };
  });
  const needle = filter.search?.trim().toLowerCase();
  const rows = withHints.filter(
    (r) =>
      (!filter.category || r.category === filter.category) &&
      (!needle ||
        [r.source, r.file, r.ref, r.reason, r.column, r.field, r.rawValue].some((v) =>
          (v ?? '').toString().toLowerCase().includes(needle),
        )),
  );
  const counts = new Map<QuarantineCategory, number>();
  for (const r of withHints) counts.set(r.category, (counts.get(r.category) ?? 0) + 1);
  return {
    ok: true,
    report: 'quarantine',
    rows,
    counts: [...counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([category, count]) => ({ category, count, hint: QUARANTINE_HINTS[category] })),
    sources: [...new Set(all.map((r) => r.source))].sort(),
  };
}
