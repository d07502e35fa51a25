import { DateTime } from 'luxon';

export const DAY_MS = 86_400_000;

/** One local calendar day in one zone, with the instants of its band edges. */
export interface DayInfo {
  /** Days since 1970-01-01 of the LOCAL date. */
  dayNum: number;
  date: string;
  /** 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** Instant of local midnight, and of the next local midnight. */
  startMs: number;
  endMs: number;
  /**
   * Instants of the ruleset's band edges on this day: edgeMs[0] = startMs, then one per edge
   * minute, monotonic (a wall time skipped by a DST jump collapses onto the next edge).
   * Segment s is [edgeMs[s], edgeMs[s+1]) with edgeMs[length] = endMs.
   */
  edgeMs: number[];
  /** Scratch for the engine: per-day surcharge mask and holiday name, filled lazily. */
  dayMask?: number;
  holiday?: string | null;
}

export function dayNumToDate(dayNum: number): string {
  return new Date(dayNum * DAY_MS).toISOString().slice(0, 10);
}

export function dateToDayNum(date: string): number {
  return Math.round(Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY_MS);
}

/**
 * Local-day table of one IANA zone, built lazily. Luxon is used only when a day is first seen
 * (a few hundred times per run); the hot path is plain arithmetic on epoch millis plus a Map
 * lookup, which keeps pricing a million entries cheap while staying DST-correct (a day is
 * exactly [local midnight, next local midnight), whatever its length).
 */
export class ZoneDays {
  private readonly days = new Map<number, DayInfo>();
  /** Offset (ms) of the most recently built day: a good first guess for the next lookup. */
  private lastOffsetMs = 0;

  constructor(
    readonly zone: string,
    /** Band edge minutes (sorted, unique, strictly between 0 and 1440). */
    private readonly edgeMinutes: number[],
  ) {}

  byDayNum(dayNum: number): DayInfo {
    let info = this.days.get(dayNum);
    if (!info) {
      info = this.build(dayNum);
      this.days.set(dayNum, info);
    }
    return info;
  }

  byDate(date: string): DayInfo {
    return this.byDayNum(dateToDayNum(date));
  }

  /** The local day containing instant `ms`. */
  at(ms: number): DayInfo {
    let info = this.byDayNum(Math.floor((ms + this.lastOffsetMs) / DAY_MS));
    // Offsets are far below a day, so at most a step or two corrects the guess.
    while (ms < info.startMs) info = this.byDayNum(info.dayNum - 1);
    while (ms >= info.endMs) info = this.byDayNum(info.dayNum + 1);
    return info;
  }

  private midnight(dayNum: number): number {
    const d = new Date(dayNum * DAY_MS);
    return DateTime.fromObject(
      { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() },
      { zone: this.zone },
    ).toMillis();
  }

  private build(dayNum: number): DayInfo {
    const startMs = this.midnight(dayNum);
    const endMs = this.midnight(dayNum + 1);
    const d = new Date(dayNum * DAY_MS);
    const edgeMs = [startMs];
    for (const minute of this.edgeMinutes) {
      const at = DateTime.fromObject(
        {
          year: d.getUTCFullYear(),
          month: d.getUTCMonth() + 1,
          day: d.getUTCDate(),
          hour: Math.floor(minute / 60),
          minute: minute % 60,
        },
        { zone: this.zone },
      ).toMillis();
      edgeMs.push(Math.min(endMs, Math.max(at, edgeMs[edgeMs.length - 1]!)));
    }
    this.lastOffsetMs = dayNum * DAY_MS - startMs;
    return { dayNum, date: dayNumToDate(dayNum), weekday: ((((dayNum + 3) % 7) + 7) % 7) + 1, startMs, endMs, edgeMs };
  }
}

/** Local "HH:MM" of an instant in a day (minutes since that day's midnight, wall-clock). */
export function localMinutes(zone: string, ms: number): number {
  const dt = DateTime.fromMillis(ms, { zone });
  return dt.hour * 60 + dt.minute;
}

export function formatLocal(zone: string, ms: number, withDate = true): string {
  return DateTime.fromMillis(ms, { zone }).toFormat(withDate ? 'yyyy-LL-dd HH:mm' : 'HH:mm');
}
