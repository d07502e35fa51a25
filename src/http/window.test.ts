import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DEFAULT_RECONCILE_DAYS, instantsOf, splitWindow, windowForRun, windowWarning } from './window';
import { openPeriodsOf } from '../stages/periods';
import { cursorCeiling, previousDay, reconcileFrom } from './settings';

const NOW = new Date('2024-03-20T23:30:00Z'); // already 21 March in Amsterdam

describe('sync windows', () => {
  it('Given a run start, when the cursor ceiling is computed, then it lies the safety lag before it', () => {
    expect(cursorCeiling(NOW, 300).toISOString()).toBe('2024-03-20T23:25:00.000Z');
  });

  it('Given 35 reconcile days, when the window starts, then it counts today (in the zone) as day one', () => {
    expect(reconcileFrom(NOW, 'Europe/Amsterdam', 35)).toBe('2024-02-16');
    expect(reconcileFrom(NOW, 'UTC', 35)).toBe('2024-02-15');
  });

  it('Given an open draft older than the window, when the window starts, then it widens back to the draft', () => {
    expect(reconcileFrom(NOW, 'UTC', 35, '2024-01-03')).toBe('2024-01-03');
    expect(reconcileFrom(NOW, 'UTC', 35, '2024-03-01')).toBe('2024-02-15');
    expect(reconcileFrom(NOW, 'UTC', 0)).toBeNull();
    expect(reconcileFrom(NOW, 'UTC', 0, '2024-03-01')).toBe('2024-03-01');
  });

  it('Given a first sync, when windowed, then it lists from startDate (or the default history) to tomorrow', () => {
    expect(
      windowForRun({ now: NOW, timeZone: 'UTC', synced: false, startDate: '2023-06-01', defaultHistoryDays: 365, reconcileDays: 35 }),
    ).toEqual({ from: '2023-06-01', to: '2024-03-21' });
    expect(windowForRun({ now: NOW, timeZone: 'UTC', synced: false, defaultHistoryDays: 10, reconcileDays: 35 })).toEqual({
      from: '2024-03-10',
      to: '2024-03-21',
    });
    expect(
      windowForRun({ now: NOW, timeZone: 'UTC', synced: true, startDate: '2024-03-01', defaultHistoryDays: 10, reconcileDays: 35 }),
    ).toEqual({ from: '2024-03-01', to: '2024-03-21' });
  });

  it('Given any window and span, when split, then the parts are contiguous, cover it exactly and respect the span', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 800 }),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 1, max: 60 }),
        (offset, length, span) => {
          const from = new Date(Date.UTC(2023, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10);
          const to = new Date(Date.UTC(2023, 0, 1) + (offset + length) * 86_400_000).toISOString().slice(0, 10);
          const parts = splitWindow({ from, to }, span);
          if (parts[0]?.from !== from || parts.at(-1)?.to !== to) return false;
          for (let i = 0; i < parts.length; i++) {
            const p = parts[i]!;
            const days = (Date.parse(p.to) - Date.parse(p.from)) / 86_400_000 + 1;
            if (days < 1 || days > span) return false;
            if (i > 0 && previousDay(p.from) !== parts[i - 1]!.to) return false;
          }
          return true;
        },
      ),
    );
  });

  it('Given a local date range, when turned into instants, then it spans local midnight to local end of day', () => {
    expect(instantsOf({ from: '2024-03-01', to: '2024-03-02' }, 'Europe/Amsterdam')).toEqual({
      start: '2024-02-29T23:00:00.000Z',
      end: '2024-03-02T22:59:59.999Z',
    });
  });

  it('Given clients with month, week and day periods, when their open periods are computed, then each starts its period in the client zone', () => {
    const periods = openPeriodsOf(
      [
        { id: 'm', timeZone: 'Europe/Amsterdam', period: { unit: 'month' } },
        { id: 'w', timeZone: 'UTC', period: { unit: 'week', weekStart: 'monday' } },
        { id: 'd', timeZone: 'America/New_York', period: { unit: 'day' } },
      ],
      NOW,
    );
    // 23:30Z on 20 March is 21 March in Amsterdam and still 20 March in New York.
    expect(periods).toEqual([
      { clientId: 'm', start: '2024-03-01' },
      { clientId: 'w', start: '2024-03-18' },
      { clientId: 'd', start: '2024-03-20' },
    ]);
  });

  it('Given the default window, when any month-long open period is compared with it, then it is inside (no warning)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2020-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }), (now) => {
        const from = reconcileFrom(now, 'UTC', DEFAULT_RECONCILE_DAYS)!;
        const open = openPeriodsOf([{ id: 'm', timeZone: 'UTC', period: { unit: 'month' } }], now);
        return (
          windowWarning({ connector: 'x (x)', windowFrom: from, openPeriods: open, now, timeZone: 'UTC', sees: 'edits' }) === undefined
        );
      }),
    );
  });

  it('Given open periods before a short window, when warned, then the sentence names the clients, dates and a reconcileDays that covers them, and skips dates before startDate', () => {
    const open = [
      { clientId: 'acme', start: '2024-03-01' },
      { clientId: 'globex', start: '2024-03-18' },
      { clientId: 'initech', start: '2024-02-01' },
    ];
    const w = windowWarning({
      connector: 'clockify (c)',
      windowFrom: '2024-03-14',
      openPeriods: open,
      now: NOW,
      timeZone: 'UTC',
      sees: 'edits and deletions',
    });
    expect(w).toBe(
      'clockify (c): the open billing period of client(s) initech (from 2024-02-01), acme (from 2024-03-01) starts before the window this source re-lists (from 2024-03-14): ' +
        'edits and deletions of entries dated before 2024-03-14 are not seen. Set reconcileDays: 53 or more on this source to cover it.',
    );
    // 53 days back from 20 March (day one) reaches 28 January: covers 1 February with the margin.
    expect(reconcileFrom(NOW, 'UTC', 53)! <= '2024-02-01').toBe(true);
    // Nothing before startDate is read on purpose: only acme's gap from startDate on is reported.
    const clamped = windowWarning({
      connector: 'clockify (c)',
      windowFrom: '2024-03-14',
      openPeriods: open,
      now: NOW,
      timeZone: 'UTC',
      startDate: '2024-03-10',
      sees: 'edits',
    });
    expect(clamped).toContain('acme (from 2024-03-10), initech (from 2024-03-10)');
    expect(
      windowWarning({
        connector: 'x (x)',
        windowFrom: '2024-03-14',
        openPeriods: open,
        now: NOW,
        timeZone: 'UTC',
        startDate: '2024-03-14',
        sees: 'edits',
      }),
    ).toBeUndefined();
    expect(
      windowWarning({ connector: 'x (x)', windowFrom: null, openPeriods: open, now: NOW, timeZone: 'UTC', sees: 'edits' }),
    ).toBeUndefined();
  });
});
