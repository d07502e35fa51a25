import { DateTime } from 'luxon';
import type { MapResult, Problem, RawRecord } from '../../src/connectors/contract';
import { toMapResult } from '../../src/http/entry';
import { dec } from '../../src/domain/money';
import { anchoredEnd } from '../../src/domain/time-entry';
import type { TogglConfig } from './config.schema';
import type { TogglRawRecord } from './types';

const API_FIELD: Record<string, string> = {
  date: 'start',
  start: 'start',
  end: 'stop',
  durationSeconds: 'seconds',
  client: 'client_name',
  worker: 'username',
};

export function centsToDecimal(cents: number | null | undefined): string | undefined {
  if (typeof cents !== 'number' || !Number.isFinite(cents)) return undefined;
  return dec(cents).div(100).toFixed();
}

export function togglToTimeEntry(record: RawRecord, config: TogglConfig, fetchedAt: Date): MapResult {
  const raw = record.data as TogglRawRecord | undefined;
  if (!raw?.entry) return { kind: 'invalid', problems: [{ reason: 'record is not a Toggl time entry' }] };
  const e = raw.entry;
  const externalId = String(e.id);
  const seconds = raw.via === 'report' ? raw.entry.seconds : raw.entry.duration;
  if (typeof seconds === 'number' && seconds < 0) return { kind: 'skip', reason: `running timer (Toggl time entry ${externalId})` };
  if (!e.stop) return { kind: 'skip', reason: `running timer (Toggl time entry ${externalId})` };

  const problems: Problem[] = [];
  const start = DateTime.fromISO(String(e.start ?? ''), { setZone: true });
  const stop = DateTime.fromISO(String(e.stop), { setZone: true });
  if (!start.isValid) problems.push({ field: 'start', column: 'start', value: e.start, reason: 'expected an ISO 8601 instant' });
  if (!stop.isValid) problems.push({ field: 'end', column: 'stop', value: e.stop, reason: 'expected an ISO 8601 instant' });
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    problems.push({
      field: 'durationSeconds',
      column: raw.via === 'report' ? 'seconds' : 'duration',
      value: seconds,
      reason: 'expected a number of seconds',
    });
  }
  const client = raw.via === 'report' ? raw.row.client_name : raw.entry.client_name;
  if (!client)
    problems.push({ field: 'client', column: 'client_name', reason: 'entry has no client (no project, or a project without a client)' });
  const userName = raw.via === 'report' ? raw.row.username : (raw.userName ?? raw.entry.user_name);
  const userId = raw.via === 'report' ? raw.row.user_id : raw.entry.user_id;
  if (!userName) problems.push({ field: 'worker', column: 'username', value: userId, reason: 'entry has no user name' });
  if (problems.length > 0) return { kind: 'invalid', problems, externalId };

  // The duration is authoritative (https://engineering.toggl.com/docs/tracking: an entry is
  // created from `start` and `duration`; a Reports rounding setting can round `seconds` too):
  // the entry starts at `start` and ends `seconds` later; Toggl's own `stop` stays in provenance.
  const durationField = raw.via === 'report' ? 'seconds' : 'duration';
  const durationSeconds = Math.round(seconds as number);
  const startIso = start.toUTC().toISO({ suppressMilliseconds: true })!;
  const billable = (raw.via === 'report' ? raw.row.billable : raw.entry.billable) === true;
  const rate = raw.via === 'report' && billable ? centsToDecimal(raw.row.hourly_rate_in_cents) : undefined;
  return toMapResult(
    {
      sourceId: config.id,
      externalId,
      worker: { id: String(userId), name: userName! },
      client: client!,
      project: (raw.via === 'report' ? raw.row.project_name : raw.entry.project_name) || undefined,
      task: (raw.via === 'report' ? raw.row.task_name : raw.entry.task_name) || undefined,
      tags: ((raw.via === 'report' ? raw.row.tag_names : raw.entry.tags) ?? []).filter(Boolean),
      date: start.setZone(config.timeZone).toISODate()!,
      start: startIso,
      end: anchoredEnd(startIso, durationSeconds),
      durationSeconds,
      breakSeconds: 0,
      timeZone: config.timeZone,
      billable,
      approved: null,
      billedAtSource: false,
      notes: (raw.via === 'report' ? raw.row.description : raw.entry.description) || undefined,
      sourceRate: rate,
      sourceCurrency: rate && raw.via === 'report' && raw.row.currency ? raw.row.currency : undefined,
      extras: [],
      provenance: {
        apiId: externalId,
        fetchedAt: fetchedAt.toISOString(),
        sourceTimes: {
          duration: { field: durationField, value: String(seconds) },
          start: { field: 'start', value: String(e.start) },
          end: { field: 'stop', value: String(e.stop) },
        },
      },
    },
    API_FIELD,
  );
}
