import { DateTime, Duration } from 'luxon';
import type { MapResult, Problem, RawRecord } from '../../src/connectors/contract';
import { toMapResult } from '../../src/http/entry';
import { dec } from '../../src/domain/money';
import { anchoredEnd } from '../../src/domain/time-entry';
import type { ClockifyConfig } from './config.schema';
import type { ClockifyRate, ClockifyRawRecord } from './types';

/** Clockify rates are in minor units (cents): 7550 → "75.5". */
export function rateFromMinor(rate: ClockifyRate | null | undefined): string | undefined {
  if (!rate || typeof rate.amount !== 'number' || !Number.isFinite(rate.amount)) return undefined;
  return dec(rate.amount).div(100).toFixed();
}

/** Report rows carry integer seconds, the time-entry API an ISO 8601 duration (PT7H30M). */
export function durationSeconds(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : null;
  if (typeof value === 'string' && value !== '') {
    const d = Duration.fromISO(value);
    return d.isValid ? Math.round(d.as('seconds')) : null;
  }
  return null;
}

const API_FIELD: Record<string, string> = {
  date: 'timeInterval.start',
  start: 'timeInterval.start',
  end: 'timeInterval.end',
  durationSeconds: 'timeInterval.duration',
  client: 'clientName',
  worker: 'userName',
  sourceRate: 'hourlyRate',
};

export function clockifyToTimeEntry(record: RawRecord, config: ClockifyConfig, fetchedAt: Date): MapResult {
  const raw = record.data as ClockifyRawRecord | undefined;
  const e = raw?.entry;
  if (!raw || !e || typeof e !== 'object') return { kind: 'invalid', problems: [{ reason: 'record is not a Clockify time entry' }] };
  const externalId = raw.via === 'report' ? raw.entry._id : raw.entry.id;
  const type = e.type ?? 'REGULAR';
  if (type !== 'REGULAR') return { kind: 'skip', reason: `${type} entry (only REGULAR time is billed)` };
  // Documented shape: timeInterval {start, end, duration}; end (and duration) null while the
  // timer runs (https://docs.clockify.me/#tag/Time-entry/operation/getTimeEntries, TimeIntervalDtoV1).
  // Anything else that does not fit is quarantined with the field, never skipped silently.
  const interval = e.timeInterval as Partial<ClockifyRawRecord['entry']['timeInterval']> | null | undefined;
  if (!interval || typeof interval !== 'object') {
    return {
      kind: 'invalid',
      externalId,
      problems: [
        { field: 'start', column: 'timeInterval', value: interval, reason: 'the entry has no timeInterval {start, end, duration}' },
      ],
    };
  }
  const noDuration = interval.duration === null || interval.duration === undefined || interval.duration === '';
  if ((interval.end === null || interval.end === undefined) && noDuration)
    return { kind: 'skip', reason: `running timer (Clockify time entry ${externalId})` };

  const zone = (raw.via === 'user' ? raw.userTimeZone : null) ?? config.timeZone;
  const problems: Problem[] = [];
  const start = DateTime.fromISO(String(interval.start ?? ''), { setZone: true });
  const end = DateTime.fromISO(String(interval.end ?? ''), { setZone: true });
  if (!start.isValid)
    problems.push({ field: 'start', column: 'timeInterval.start', value: interval.start, reason: 'expected an ISO 8601 instant' });
  if (interval.end === null || interval.end === undefined) {
    problems.push({
      field: 'end',
      column: 'timeInterval.end',
      value: interval.end,
      reason: `missing on an entry with a duration (${String(interval.duration)}): not a running timer`,
    });
  } else if (!end.isValid) {
    problems.push({ field: 'end', column: 'timeInterval.end', value: interval.end, reason: 'expected an ISO 8601 instant' });
  } else if (start.isValid && end < start) {
    problems.push({
      field: 'end',
      column: 'timeInterval.end',
      value: interval.end,
      reason: `ends before it starts (${String(interval.start)})`,
    });
  }
  const seconds = durationSeconds(interval.duration);
  if (noDuration) {
    problems.push({
      field: 'durationSeconds',
      column: 'timeInterval.duration',
      value: interval.duration,
      reason: 'missing on a finished entry',
    });
  } else if (seconds === null) {
    problems.push({
      field: 'durationSeconds',
      column: 'timeInterval.duration',
      value: interval.duration,
      reason: 'expected a non-negative duration: ISO 8601 (PT7H30M) or seconds',
    });
  }
  const clientName = raw.via === 'report' ? raw.entry.clientName : raw.entry.project?.clientName;
  if (!clientName)
    problems.push({
      field: 'client',
      column: raw.via === 'report' ? 'clientName' : 'project.clientName',
      reason: 'entry has no client (no project, or a project without a client)',
    });
  const userName = raw.via === 'report' ? raw.entry.userName : raw.userName;
  if (!userName) problems.push({ field: 'worker', column: 'userName', value: e.userId, reason: 'entry has no user name' });
  if (problems.length > 0) return { kind: 'invalid', problems, externalId };

  // timeInterval.duration is authoritative (a report with rounding on rounds it, not the
  // interval): the entry starts at timeInterval.start and ends `duration` later; Clockify's own
  // end stays in provenance. Only an entry without a duration is measured start → end.
  const startIso = start.toUTC().toISO({ suppressMilliseconds: true })!;
  const rate = e.billable ? rateFromMinor(e.hourlyRate) : undefined;
  return toMapResult(
    {
      sourceId: config.id,
      externalId,
      worker: { id: e.userId, name: userName! },
      client: clientName!,
      project: (raw.via === 'report' ? raw.entry.projectName : raw.entry.project?.name) || undefined,
      task: (raw.via === 'report' ? raw.entry.taskName : raw.entry.task?.name) || undefined,
      tags: (e.tags ?? []).map((t) => t.name).filter(Boolean),
      date: start.setZone(zone).toISODate()!,
      start: startIso,
      end: anchoredEnd(startIso, seconds!),
      durationSeconds: seconds!,
      breakSeconds: 0,
      timeZone: zone,
      billable: e.billable === true,
      approved: null,
      billedAtSource: false,
      notes: e.description || undefined,
      sourceRate: rate,
      sourceCurrency: rate && e.hourlyRate?.currency ? e.hourlyRate.currency : undefined,
      costRate: rateFromMinor(e.costRate),
      extras: [],
      provenance: {
        apiId: externalId,
        fetchedAt: fetchedAt.toISOString(),
        sourceTimes: {
          duration:
            interval.duration === null || interval.duration === undefined
              ? { field: 'timeInterval.end − timeInterval.start', value: `${seconds}s` }
              : { field: 'timeInterval.duration', value: String(interval.duration) },
          start: { field: 'timeInterval.start', value: String(interval.start) },
          end: { field: 'timeInterval.end', value: String(interval.end) },
        },
      },
    },
    API_FIELD,
  );
}
