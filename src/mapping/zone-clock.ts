import { DateTime } from 'luxon';
import { ymdOf } from './date.parser';
import { remember } from '../util/remember';

const MS_PER_DAY = 86_400_000;

/**
 * Wall-clock time in one IANA zone → instant, without a luxon object per row.
 *
 * Per local date the clock caches the UTC offset at that midnight and at the next; when they
 * are equal no transition happens that day and the instant is plain arithmetic. On the few
 * days a DST transition falls on, conversions are worked out from the zone's offsets (through
 * luxon) and cached.
 *
 * The rules on those days are RFC 5545's (§3.3.5, the ones calendars and Temporal's
 * "compatible" disambiguation use):
 * - a wall-clock time that occurs twice (the repeated hour of the autumn change) is its
 *   **first** occurrence: 02:30 on 2026-10-25 in Europe/Amsterdam is 02:30 summer time
 *   (00:30 UTC), not 02:30 winter time an hour later;
 * - a wall-clock time that does not occur (the hour skipped in spring) is read with the offset
 *   before the gap: 02:30 on 2026-03-29 in Europe/Amsterdam is 01:30 UTC, which the clocks
 *   show as 03:30 summer time.
 * `instantAfterMs` is the other half, for the end of a shift: the first moment after the
 * start at which the clock shows the end time (which can be the second occurrence).
 */
export class ZoneClock {
  private readonly offsets = new Map<number, number>();
  /** Both occurrences of wall-clock times on transition days (luxon costs tens of microseconds; shifts repeat the same times). */
  private readonly slow = new Map<number, Occurrences>();

  constructor(readonly zone: string) {}

  /** Offsets at local midnight by day: each is needed twice (as a day's start and as the day before's end). */
  private readonly midnights = new Map<number, number>();

  private offsetAtMidnight(epochDay: number): number {
    let off = this.midnights.get(epochDay);
    if (off === undefined) {
      const { year, month, day } = ymdOf(epochDay);
      off = remember(this.midnights, epochDay, DateTime.fromObject({ year, month, day }, { zone: this.zone }).offset, 100_000);
    }
    return off;
  }

  /** Offset in minutes valid for the whole local day, or NaN on a transition day. */
  private dayOffset(epochDay: number): number {
    let off = this.offsets.get(epochDay);
    if (off === undefined) {
      const a = this.offsetAtMidnight(epochDay);
      const b = this.offsetAtMidnight(epochDay + 1);
      off = remember(this.offsets, epochDay, a === b ? a : Number.NaN, 100_000);
    }
    return off;
  }

  /** UTC offset in minutes of the zone at an instant. */
  private offsetAt(ms: number): number {
    return DateTime.fromMillis(ms, { zone: this.zone }).offset;
  }

  /**
   * The instants a clock in the zone shows local `s` seconds after midnight of `day`, on a
   * transition day: one, two (overlap, earliest first), or none (gap: `gap` set, `first` read
   * with the offset before the gap). Worked out from the offsets a day either side, so a zone
   * whose change falls at midnight is handled like any other.
   */
  private occurrences(day: number, s: number): Occurrences {
    const k = day * 86_400 + s;
    const hit = this.slow.get(k);
    if (hit !== undefined) return hit;
    const local = day * MS_PER_DAY + s * 1000;
    const before = this.offsetAt(local - MS_PER_DAY);
    const after = this.offsetAt(local + MS_PER_DAY);
    const valid = [...new Set([before, after])]
      .map((off) => local - off * 60_000)
      .filter((ms) => local - this.offsetAt(ms) * 60_000 === ms)
      .sort((a, b) => a - b);
    const occ: Occurrences =
      valid.length === 0
        ? { first: local - before * 60_000, second: Number.NaN, gap: true }
        : { first: valid[0]!, second: valid.length > 1 ? valid[valid.length - 1]! : Number.NaN, gap: false };
    return remember(this.slow, k, occ, 100_000);
  }

  /** Normalises (epochDay, seconds ≥ 86400) to the local day the time falls on. */
  private static split(epochDay: number, seconds: number): [day: number, s: number] {
    const day = epochDay + Math.floor(seconds / 86_400);
    return [day, seconds - (day - epochDay) * 86_400];
  }

  /**
   * Epoch milliseconds of local `seconds` after midnight of `epochDay` (seconds may exceed a
   * day): the first occurrence of a repeated time, a skipped time read with the offset before
   * the gap.
   */
  instantMs(epochDay: number, seconds: number): number {
    const [day, s] = ZoneClock.split(epochDay, seconds);
    const off = this.dayOffset(day);
    if (!Number.isNaN(off)) return day * MS_PER_DAY + s * 1000 - off * 60_000;
    return this.occurrences(day, s).first;
  }

  /**
   * The first instant after `afterMs` at which a clock in the zone shows local `seconds` after
   * midnight of `epochDay` (seconds may exceed a day), or NaN when that wall-clock time falls
   * at or before `afterMs`. On the autumn night this is the second occurrence of a repeated
   * time when the first is not after `afterMs` (a shift 02:45 summer time → 02:15 winter time).
   */
  instantAfterMs(afterMs: number, epochDay: number, seconds: number): number {
    const [day, s] = ZoneClock.split(epochDay, seconds);
    const off = this.dayOffset(day);
    if (!Number.isNaN(off)) {
      const ms = day * MS_PER_DAY + s * 1000 - off * 60_000;
      return ms > afterMs ? ms : Number.NaN;
    }
    const occ = this.occurrences(day, s);
    if (occ.first > afterMs) return occ.first;
    return occ.second > afterMs ? occ.second : Number.NaN;
  }

  /** The local time does not occur on that day (the hour the clocks skip in spring). */
  isSkipped(epochDay: number, seconds: number): boolean {
    const [day, s] = ZoneClock.split(epochDay, seconds);
    return Number.isNaN(this.dayOffset(day)) && this.occurrences(day, s).gap;
  }
}

interface Occurrences {
  first: number;
  /** The later occurrence of a repeated time; NaN when the time occurs once (or not at all). */
  second: number;
  /** The time does not occur: `first` is read with the offset before the gap. */
  gap: boolean;
}
