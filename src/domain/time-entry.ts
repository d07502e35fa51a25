import { z } from 'zod';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');
const isoInstant = z.iso.datetime({ offset: true });
const decimalString = z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal number');

/** One value as the source states it: its field name and its text ("hours", "2.11"). */
export const StatedValue = z.strictObject({ field: z.string().min(1), value: z.string() });
export type StatedValue = z.infer<typeof StatedValue>;

/**
 * The duration and times a source states for an entry, verbatim, when it carries both a duration
 * and start/end times (Harvest `hours` with `started_time`/`ended_time`, Toggl `seconds` with
 * `start`/`stop`, Clockify `timeInterval`). The entry bills the duration; these are kept so
 * `hourbridge explain` can show what the source said, also where its interval disagrees.
 */
export const SourceTimes = z.strictObject({
  /** The field the billed duration comes from (the authoritative one). */
  duration: StatedValue,
  start: StatedValue.optional(),
  end: StatedValue.optional(),
});
export type SourceTimes = z.infer<typeof SourceTimes>;

/** Where a record came from: enough for a person to find it again in the source. */
export const Provenance = z.strictObject({
  /** File path or spreadsheet id. */
  file: z.string().optional(),
  sheet: z.string().optional(),
  /** 1-based row number in the file as a person sees it (header is row 1). */
  row: z.number().int().positive().optional(),
  /** The source system's id for the record. */
  apiId: z.string().optional(),
  url: z.string().optional(),
  fetchedAt: isoInstant,
  sourceTimes: SourceTimes.optional(),
});
export type Provenance = z.infer<typeof Provenance>;

/** An extra billable item carried by an entry: a shift fee, kilometres, an expense. */
export const EntryExtra = z.strictObject({
  kind: z.string().min(1),
  quantity: decimalString,
  unitPrice: decimalString.optional(),
  description: z.string().optional(),
  taxType: z.string().optional(),
});
export type EntryExtra = z.infer<typeof EntryExtra>;

/**
 * The canonical time entry: what every source's mapper produces and what the ledger stores.
 * Either `start`+`end` instants are known (a shift), or only `date` + `durationSeconds`.
 *
 * `durationSeconds` is the billed gross duration: the duration the source documents as
 * authoritative (Harvest `hours`, Toggl `duration`/`seconds`, Clockify `timeInterval.duration`,
 * a sheet's start–end span or its hours column). It is anchored at `start`: the billed
 * interval is start → start + durationSeconds, and `end`, when set, is that instant (mappers set
 * it with `anchoredEnd`; the rate engine places time bands and surcharges on that interval and
 * never reads `end`). A source interval that disagrees stays in `provenance.sourceTimes`.
 * `breakSeconds` is recorded separately and deducted by the rate engine.
 */
export const TimeEntry = z.strictObject({
  sourceId: z.string().min(1),
  externalId: z.string().min(1),
  worker: z.strictObject({ id: z.string().optional(), name: z.string().min(1) }),
  /** The client as the source names it; resolved to a configured client by the normalise stage. */
  client: z.string().min(1),
  /** Configured client id, set by the normalise stage. */
  clientId: z.string().optional(),
  project: z.string().optional(),
  task: z.string().optional(),
  role: z.string().optional(),
  tags: z.array(z.string()).default([]),
  /** Local calendar date of the work (of its start) in `timeZone`. */
  date: isoDate,
  start: isoInstant.optional(),
  end: isoInstant.optional(),
  durationSeconds: z.number().int().nonnegative(),
  breakSeconds: z.number().int().nonnegative().default(0),
  /** IANA zone the source's wall-clock times are in. */
  timeZone: z.string().min(1),
  billable: z.boolean(),
  /** null when the source has no notion of approval. */
  approved: z.boolean().nullable(),
  /** Already invoiced in the source system: kept and reported, never billed again. */
  billedAtSource: z.boolean().default(false),
  notes: z.string().optional(),
  /** Hourly rate the source carries (e.g. Harvest billable_rate), usable when config says so. */
  sourceRate: decimalString.optional(),
  sourceCurrency: z.string().length(3).optional(),
  /** Pay/cost rate, for markup rules. */
  costRate: decimalString.optional(),
  extras: z.array(EntryExtra).default([]),
  provenance: Provenance,
});
export type TimeEntry = z.infer<typeof TimeEntry>;
export type TimeEntryInput = z.input<typeof TimeEntry>;

export interface EntryKey {
  sourceId: string;
  externalId: string;
}

export function entryKeyString(key: EntryKey): string {
  return `${key.sourceId}:${key.externalId}`;
}

/**
 * The end of the billed interval: `start` + `durationSeconds` (the duration is authoritative,
 * anchored at the start), as a UTC instant without milliseconds when it has none.
 */
export function anchoredEnd(start: string, durationSeconds: number): string {
  const ms = Date.parse(start) + durationSeconds * 1000;
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

export { isoDate, isoInstant, decimalString };
