import { DateTime } from 'luxon';
import type { MapResult, Problem, RawRecord } from '../../src/connectors/contract';
import { decimalOf, toMapResult } from '../../src/http/entry';
import { anchoredEnd } from '../../src/domain/time-entry';
import type { HarvestConfig } from './config.schema';
import type { HarvestRawRecord } from './types';

/** Harvest wall-clock times: "3:00pm", "8:05 AM" (12-hour accounts) or "15:00" (24-hour accounts). */
export function parseWallClock(text: string): { hour: number; minute: number } | null {
  const m = /^\s*(\d{1,2}):(\d{2})\s*([ap]\.?m\.?)?\s*$/i.exec(text);
  if (!m) return null;
  let hour = Number(m[1]);
  const minute = Number(m[2]);
  const meridiem = m[3]?.toLowerCase().replace(/\./g, '');
  if (minute > 59) return null;
  if (meridiem) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (meridiem === 'pm' ? 12 : 0);
  } else if (hour > 23) return null;
  return { hour, minute };
}

/** YYYY-MM-DD naming a real day. */
export function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

const API_FIELD: Record<string, string> = {
  externalId: 'id',
  date: 'spent_date',
  durationSeconds: 'hours',
  worker: 'user',
  client: 'client',
  project: 'project',
  task: 'task',
  start: 'started_time',
  end: 'ended_time',
  sourceRate: 'billable_rate',
  costRate: 'cost_rate',
};

/**
 * Harvest time entry → TimeEntry. `hours` is the authoritative duration ("Number of (decimal
 * time) hours tracked in this time entry", https://help.getharvest.com/api-v2/timesheets-api/timesheets/time-entries/)
 * and is what is billed. started_time/ended_time, when the account tracks them, are wall-clock
 * display times of the user's zone on `spent_date` and may disagree with it (the documented
 * example has `hours: 2.11` with 3:00pm–5:00pm): the entry starts at started_time and ends
 * `hours` later; the source's own values are kept in provenance.sourceTimes.
 */
export function harvestToTimeEntry(record: RawRecord, config: HarvestConfig, fetchedAt: Date): MapResult {
  const raw = record.data as HarvestRawRecord | undefined;
  const e = raw?.entry;
  if (!e || typeof e !== 'object') {
    return { kind: 'invalid', problems: [{ reason: 'record is not a Harvest time entry' }] };
  }
  const externalId = e.id === undefined || e.id === null ? '' : String(e.id);
  if (e.is_running) return { kind: 'skip', reason: `running timer (Harvest time entry ${externalId})` };

  const problems: Problem[] = [];
  const zone = raw.userTimeZone ?? config.timeZone;
  if (typeof e.hours !== 'number' || !Number.isFinite(e.hours) || e.hours < 0) {
    problems.push({ field: 'durationSeconds', column: 'hours', value: e.hours, reason: 'hours must be a non-negative number' });
  }
  const dateOk = isCalendarDate(e.spent_date);
  if (!dateOk) {
    problems.push({ field: 'date', column: 'spent_date', value: e.spent_date, reason: 'spent_date must be a date as YYYY-MM-DD' });
  }
  if (!e.client?.name) problems.push({ field: 'client', column: 'client.name', value: e.client, reason: 'entry has no client' });
  if (!e.user?.name) problems.push({ field: 'worker', column: 'user.name', value: e.user, reason: 'entry has no user' });

  let start: string | undefined;
  let end: string | undefined;
  // luxon only when there are wall-clock times: a zoned DateTime costs ~100 µs, most entries have none.
  const hasTimes = Boolean(e.started_time || e.ended_time);
  const day = dateOk && hasTimes ? DateTime.fromISO(e.spent_date, { zone }) : null;
  if (day?.isValid) {
    const at = (column: 'started_time' | 'ended_time') => {
      const text = e[column];
      if (text === null || text === undefined || text === '') return undefined;
      const t = parseWallClock(String(text));
      if (!t) {
        problems.push({
          field: column === 'started_time' ? 'start' : 'end',
          column,
          value: text,
          reason: 'expected a time like 3:00pm or 15:00',
        });
        return undefined;
      }
      return day.set({ hour: t.hour, minute: t.minute, second: 0, millisecond: 0 });
    };
    // ended_time is read only to check it: Harvest's wall-clock times are display values (whole
    // minutes) and may disagree with `hours`, the tracked duration, which is billed. The interval
    // is anchored at started_time and lasts `hours`; both source values stay in provenance.
    const s = at('started_time');
    at('ended_time');
    if (s) start = s.toUTC().toISO({ suppressMilliseconds: true })!;
  }
  if (problems.length > 0) return { kind: 'invalid', problems, externalId: externalId || undefined };
  const durationSeconds = Math.round(e.hours * 3600);
  if (start !== undefined) end = anchoredEnd(start, durationSeconds);
  const stated = (field: 'started_time' | 'ended_time') => {
    const v = e[field];
    return v === null || v === undefined || v === '' ? undefined : { field, value: String(v) };
  };

  return toMapResult(
    {
      sourceId: config.id,
      externalId,
      worker: { id: String(e.user.id), name: e.user.name },
      client: e.client.name,
      project: e.project?.name || undefined,
      task: e.task?.name || undefined,
      tags: [],
      date: e.spent_date,
      start,
      end,
      durationSeconds,
      breakSeconds: 0,
      timeZone: zone,
      billable: e.billable === true,
      approved: e.approval_status ? e.approval_status === 'approved' : null,
      billedAtSource: e.is_billed === true,
      notes: e.notes || undefined,
      sourceRate: e.billable ? decimalOf(e.billable_rate) : undefined,
      sourceCurrency: config.currency,
      costRate: decimalOf(e.cost_rate),
      extras: [],
      provenance: {
        apiId: externalId,
        url: `${config.baseUrl.replace(/\/+$/, '')}/time_entries/${externalId}`,
        fetchedAt: fetchedAt.toISOString(),
        sourceTimes: hasTimes
          ? { duration: { field: 'hours', value: String(e.hours) }, start: stated('started_time'), end: stated('ended_time') }
          : undefined,
      },
    },
    API_FIELD,
  );
}
