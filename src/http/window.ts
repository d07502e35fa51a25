import { DateTime } from 'luxon';
import { reconcileFrom } from './settings';

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
