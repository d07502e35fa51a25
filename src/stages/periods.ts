import { DateTime } from 'luxon';
import type { ClientConfig, PeriodConfig } from '../config/client.schema';
import type { OpenPeriod } from '../connectors/contract';
import type { BillingPeriod } from '../domain/invoice';

const WEEKDAY = { monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6, sunday: 7 } as const;

const periods = new WeakMap<PeriodConfig, Map<string, BillingPeriod>>();

/**
 * The billing period that contains a local date (YYYY-MM-DD, already in the client's zone).
 * Memoised per period config and date: assembly asks for every entry, and a few hundred
 * distinct dates cover them all.
 */
export function periodOf(date: string, config: PeriodConfig): BillingPeriod {
  let byDate = periods.get(config);
  if (!byDate) {
    byDate = new Map();
    periods.set(config, byDate);
  }
  let period = byDate.get(date);
  if (!period) {
    period = computePeriod(date, config);
    byDate.set(date, period);
  }
  return { ...period };
}

function computePeriod(date: string, config: PeriodConfig): BillingPeriod {
  const d = DateTime.fromISO(date, { zone: 'utc' });
  if (!d.isValid) throw new Error(`invalid date ${date}`);
  switch (config.unit) {
    case 'day':
      return { start: date, end: date, label: date };
    case 'week': {
      const ws = WEEKDAY[config.weekStart];
      const start = d.minus({ days: (d.weekday - ws + 7) % 7 });
      const end = start.plus({ days: 6 });
      const label = ws === 1 ? `${start.weekYear}-W${String(start.weekNumber).padStart(2, '0')}` : `wk${start.toISODate()}`;
      return { start: start.toISODate()!, end: end.toISODate()!, label };
    }
    case 'two-weeks': {
      const anchor = DateTime.fromISO(config.anchor, { zone: 'utc' });
      const days = Math.round(d.diff(anchor, 'days').days);
      const index = Math.floor(days / 14);
      const start = anchor.plus({ days: index * 14 });
      return { start: start.toISODate()!, end: start.plus({ days: 13 }).toISODate()!, label: `2w${start.toISODate()}` };
    }
    case 'month': {
      const start = d.startOf('month');
      return { start: start.toISODate()!, end: d.endOf('month').toISODate()!, label: start.toFormat('yyyy-MM') };
    }
  }
}

export function addDays(date: string, days: number): string {
  return DateTime.fromISO(date, { zone: 'utc' }).plus({ days }).toISODate()!;
}

/** Deterministic invoice key: client, period, destination, sequence. Also the idempotency key/reference. */
export function invoiceKey(clientId: string, periodLabel: string, destinationId: string, sequence: number): string {
  return `${clientId}-${periodLabel}-${destinationId}-${sequence}`;
}

/**
 * Each client's open billing period: the one containing the run's date in the client's zone.
 * Sources that see edits only by re-listing a window compare their window with these.
 */
export function openPeriodsOf(clients: ReadonlyArray<Pick<ClientConfig, 'id' | 'timeZone' | 'period'>>, now: Date): OpenPeriod[] {
  return clients.map((c) => {
    const today = DateTime.fromJSDate(now, { zone: c.timeZone }).toISODate()!;
    return { clientId: c.id, start: periodOf(today, c.period).start };
  });
}
