import { DateTime } from 'luxon';
import { reconcileFrom } from './settings';
import type { OpenPeriod } from '../connectors/contract';

/**
 * Date windows for APIs without an updated-since filter (Clockify, Toggl reports): every run
 * re-lists a window, which is at once the incremental read (new and edited entries in it) and
 * the reconciliation (entries of the window not listed were deleted).
 */
export interface DateWindow {
  from: string;
  to: string;
}

export function windowForRun(opts: {
  now: Date;
  timeZone: string;
  /** The stream completed a first full listing before. */
  synced: boolean;
  startDate?: string;
  /** History listed on a first sync when no startDate is configured. */
  defaultHistoryDays: number;
  reconcileDays: number;
  openSince?: string;
}): DateWindow {
  const today = DateTime.fromJSDate(opts.now, { zone: opts.timeZone }).startOf('day');
  // Tomorrow too: an entry started just after midnight in another zone is already "tomorrow" here.
  const to = today.plus({ days: 1 }).toISODate()!;
  let from: string;
  if (!opts.synced) {
    from = opts.startDate ?? today.minus({ days: opts.defaultHistoryDays }).toISODate()!;
  } else {
    from = reconcileFrom(opts.now, opts.timeZone, Math.max(1, opts.reconcileDays), opts.openSince) ?? today.toISODate()!;
    if (opts.startDate && from < opts.startDate) from = opts.startDate;
  }
  return { from, to };
}

/** Splits [from, to] into consecutive spans of at most `spanDays` days. */
export function splitWindow(w: DateWindow, spanDays: number): DateWindow[] {
  const out: DateWindow[] = [];
  let cur = DateTime.fromISO(w.from, { zone: 'UTC' });
  const end = DateTime.fromISO(w.to, { zone: 'UTC' });
  while (cur <= end) {
    const stop = DateTime.min(cur.plus({ days: spanDays - 1 }), end);
    out.push({ from: cur.toISODate()!, to: stop.toISODate()! });
    cur = stop.plus({ days: 1 });
  }
  return out;
}

/** First and last instant of a local-date range in `zone`, as UTC ISO strings. */
export function instantsOf(w: DateWindow, zone: string): { start: string; end: string } {
  const s = DateTime.fromISO(w.from, { zone }).startOf('day');
  const e = DateTime.fromISO(w.to, { zone }).endOf('day');
  return { start: s.toUTC().toISO()!, end: e.toUTC().toISO()! };
}

/**
 * Default of `reconcileDays`: the longest billing period (a month, 31 days) plus a margin of 4
 * days for late entries and edits after the period closed, so a client's open period is inside
 * the window every source re-lists unless an admin shortens it.
 */
export const DEFAULT_RECONCILE_DAYS = 35;

/**
 * The warning a windowed source gives when a client's open billing period starts before the
 * window it re-lists: changes there (`sees`: what only the window detects for this source) are
 * not seen. One sentence per read, naming the clients, the dates and the setting to raise; none
 * when every open period is inside the window. Periods before `startDate` are excluded on
 * purpose and not warned about.
 */
export function windowWarning(opts: {
  connector: string;
  windowFrom: string | null;
  openPeriods: ReadonlyArray<OpenPeriod> | undefined;
  now: Date;
  timeZone: string;
  startDate?: string;
  sees: string;
}): string | undefined {
  const from = opts.windowFrom;
  if (!from || !opts.openPeriods?.length) return undefined;
  const late = opts.openPeriods
    .map((p) => ({ ...p, start: opts.startDate && p.start < opts.startDate ? opts.startDate : p.start }))
    .filter((p) => p.start < from)
    .sort((a, b) => a.start.localeCompare(b.start) || a.clientId.localeCompare(b.clientId));
  if (late.length === 0) return undefined;
  const today = DateTime.fromJSDate(opts.now, { zone: opts.timeZone }).startOf('day');
  const needed = Math.ceil(today.diff(DateTime.fromISO(late[0]!.start, { zone: opts.timeZone }), 'days').days) + 1 + 4;
  const shown = late
    .slice(0, 5)
    .map((p) => `${p.clientId} (from ${p.start})`)
    .join(', ');
  const more = late.length > 5 ? ` and ${late.length - 5} more` : '';
  return (
    `${opts.connector}: the open billing period of client(s) ${shown}${more} starts before the window this source re-lists (from ${from}): ` +
    `${opts.sees} of entries dated before ${from} are not seen. Set reconcileDays: ${needed} or more on this source to cover it.`
  );
}
