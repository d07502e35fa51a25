import { z } from 'zod';
import { DateTime, IANAZone } from 'luxon';
import type { RetryPolicy } from './retry';

/** Config pieces every API source shares; each connector spreads them into its strict schema. */
export const retrySettings = z
  .strictObject({
    maxAttempts: z.number().int().min(1).max(20).default(5),
    baseDelayMs: z.number().int().min(0).default(500),
    maxDelayMs: z.number().int().min(0).default(30_000),
  })
  .describe('How often and how patiently failed calls are retried (429/5xx/network).');
export type RetrySettings = z.infer<typeof retrySettings>;

export const timeZoneName = z
  .string()
  .refine((tz) => IANAZone.isValidZone(tz), { message: 'expected an IANA time zone such as Europe/Amsterdam' });

export const windowSettings = {
  /**
   * Days re-listed every run to detect deletions (and, for sources without a changed-since
   * filter, edits), widened back to open drafts. 0 = off. The default, 35, covers the longest
   * billing period (a month) plus a margin; a run warns when a client's open period starts
   * before the window.
   */
  reconcileDays: z
    .number()
    .int()
    .min(0)
    .max(3660)
    .default(35)
    .describe(
      "Days re-listed every run (widened back to open drafts). Default 35: a month's billing period plus a margin; a run warns when a client's open period starts before the window.",
    ),
  /** Updated-since cursors stop this far before the run's start, so edits made during a run are re-read. */
  safetyLagSeconds: z.number().int().min(0).default(300),
};

export function retryPolicy(s: RetrySettings | undefined): Partial<RetryPolicy> {
  return s ? { maxAttempts: s.maxAttempts, baseDelayMs: s.baseDelayMs, maxDelayMs: s.maxDelayMs } : {};
}

/** Upper bound of an updated-since cursor: the run's start minus the safety lag. */
export function cursorCeiling(now: Date, safetyLagSeconds: number): Date {
  return new Date(now.getTime() - safetyLagSeconds * 1000);
}

/**
 * First date of the reconciliation window: `reconcileDays` back from today (in `timeZone`),
 * widened to `openSince` (earliest date on a still-open draft). null when reconciliation is off
 * and no draft is open.
 */
export function reconcileFrom(now: Date, timeZone: string, reconcileDays: number, openSince?: string): string | null {
  const today = DateTime.fromJSDate(now, { zone: timeZone }).startOf('day');
  const fromDays = reconcileDays > 0 ? today.minus({ days: reconcileDays - 1 }).toISODate() : null;
  if (openSince && (!fromDays || openSince < fromDays)) return openSince;
  return fromDays;
}

export function previousDay(date: string): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).minus({ days: 1 }).toISODate()!;
}
