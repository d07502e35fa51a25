import { DateTime } from 'luxon';
import { ymdOf } from './date.parser';
import { remember } from '../util/remember';

const MS_PER_DAY = 86_400_000;

/**
 * Wall-clock time in one IANA zone → instant, without a luxon object per row.
 *
 * Per local date the clock caches the UTC offset at that midnight and at the next; when they
 * are equal no transition happens that day and the instant is plain arithmetic. On the few
 * days a DST transition falls on, every conversion goes through luxon, which resolves gaps
 * (02:30 on the spring-forward day moves forward) and overlaps (02:30 on the fall-back day
 * takes the first, summer-time offset) — the same answers as the slow path everywhere.
 */
export class ZoneClock {
  private readonly offsets = new Map<number, number>();
  /** Conversions on transition days (luxon costs tens of microseconds; shifts repeat the same times). */
  private readonly slow = new Map<number, number>();

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

  /** Epoch milliseconds of local `seconds` after midnight of `epochDay` (seconds may exceed a day). */
  instantMs(epochDay: number, seconds: number): number {
    const day = epochDay + Math.floor(seconds / 86_400);
    const s = seconds - (day - epochDay) * 86_400;
    const off = this.dayOffset(day);
    if (!Number.isNaN(off)) return day * MS_PER_DAY + s * 1000 - off * 60_000;
    const k = day * 86_400 + s;
    let ms = this.slow.get(k);
    if (ms === undefined) {
      const { year, month, day: d } = ymdOf(day);
      const hour = Math.floor(s / 3600);
      const minute = Math.floor((s % 3600) / 60);
      const second = s % 60;
      ms = remember(this.slow, k, DateTime.fromObject({ year, month, day: d, hour, minute, second }, { zone: this.zone }).toMillis(), 100_000);
    }
    return ms;
  }
}
