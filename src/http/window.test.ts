import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { instantsOf, splitWindow, windowForRun } from './window';
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
    expect(windowForRun({ now: NOW, timeZone: 'UTC', synced: false, startDate: '2023-06-01', defaultHistoryDays: 365, reconcileDays: 35 })).toEqual({ from: '2023-06-01', to: '2024-03-21' });
    expect(windowForRun({ now: NOW, timeZone: 'UTC', synced: false, defaultHistoryDays: 10, reconcileDays: 35 })).toEqual({ from: '2024-03-10', to: '2024-03-21' });
    expect(windowForRun({ now: NOW, timeZone: 'UTC', synced: true, startDate: '2024-03-01', defaultHistoryDays: 10, reconcileDays: 35 })).toEqual({ from: '2024-03-01', to: '2024-03-21' });
  });

  it('Given any window and span, when split, then the parts are contiguous, cover it exactly and respect the span', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 800 }), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 1, max: 60 }), (offset, length, span) => {
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
      }),
    );
  });

  it('Given a local date range, when turned into instants, then it spans local midnight to local end of day', () => {
    expect(instantsOf({ from: '2024-03-01', to: '2024-03-02' }, 'Europe/Amsterdam')).toEqual({ start: '2024-02-29T23:00:00.000Z', end: '2024-03-02T22:59:59.999Z' });
  });
});
