import { DateTime } from 'luxon';
import type { MapResult, Problem, RawRecord } from '../../src/connectors/contract';
import { decimalOf, toMapResult } from '../../src/http/entry';
import { anchoredEnd } from '../../src/domain/time-entry';
import type { KimaiConfig } from './config.schema';
import type { KimaiCustomer, KimaiRawRecord } from './types';

const API_FIELD: Record<string, string> = {
  externalId: 'id',
  date: 'begin',
  start: 'begin',
  end: 'end',
  durationSeconds: 'duration',
  worker: 'user',
  client: 'project.customer.name',
  project: 'project.name',
  task: 'activity.name',
  sourceRate: 'hourlyRate',
};

function named<T extends { name?: unknown }>(v: unknown): T | undefined {
  return v && typeof v === 'object' && typeof (v as T).name === 'string' && (v as T).name !== '' ? (v as T) : undefined;
}

/**
 * Kimai timesheet (GET /api/timesheets?full=true, https://www.kimai.org/documentation/rest-api.html)
 * → TimeEntry. `duration` (seconds) is authoritative, as for every source: the entry starts at
 * `begin` and ends `duration` later (Kimai's rounding rules may make `duration` differ from
 * end − begin); Kimai's own begin/end stay in provenance.sourceTimes. A timesheet without `end`
 * is a running timer and is skipped. `exported: true` (already exported/invoiced in Kimai) →
 * billedAtSource; `billable: false` → non-billable.
 */
export function kimaiToTimeEntry(record: RawRecord, config: KimaiConfig, fetchedAt: Date): MapResult {
  const raw = record.data as KimaiRawRecord | undefined;
  const e = raw?.entry;
  if (!e || typeof e !== 'object') return { kind: 'invalid', problems: [{ reason: 'record is not a Kimai timesheet' }] };
  const externalId = e.id === undefined || e.id === null ? '' : String(e.id);
  if (e.end === null || e.end === undefined || e.end === '')
    return { kind: 'skip', reason: `running timer (Kimai timesheet ${externalId})` };

  const problems: Problem[] = [];
  const begin = DateTime.fromISO(String(e.begin ?? ''), { setZone: true });
  const end = DateTime.fromISO(String(e.end), { setZone: true });
  if (!begin.isValid)
    problems.push({
      field: 'start',
      column: 'begin',
      value: e.begin,
      reason: 'expected an ISO 8601 date-time such as 2019-03-14T10:00:00+0100',
    });
  if (!end.isValid)
    problems.push({ field: 'end', column: 'end', value: e.end, reason: 'expected an ISO 8601 date-time such as 2019-03-14T11:00:00+0100' });
  else if (begin.isValid && end < begin)
    problems.push({ field: 'end', column: 'end', value: e.end, reason: `ends before it begins (${String(e.begin)})` });
  const seconds = e.duration;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
    problems.push({
      field: 'durationSeconds',
      column: 'duration',
      value: seconds,
      reason: 'duration must be a non-negative whole number of seconds',
    });
  }
  const user = e.user && typeof e.user === 'object' ? e.user : undefined;
  const userName = user ? user.alias || user.username : undefined;
  if (!user || !userName)
    problems.push({ field: 'worker', column: 'user', value: e.user, reason: 'entry has no user name (is full=true sent?)' });
  const project = named<{ name: string; customer?: unknown }>(e.project);
  const customer = named<KimaiCustomer>(project?.customer);
  if (!customer)
    problems.push({
      field: 'client',
      column: 'project.customer.name',
      value: e.project,
      reason: 'entry has no customer (is full=true sent?)',
    });
  if (problems.length > 0) return { kind: 'invalid', problems, externalId: externalId || undefined };

  const startIso = begin.toUTC().toISO({ suppressMilliseconds: true })!;
  const billable = e.billable !== false;
  // hourlyRate is the per-hour price; a fixed-rate entry has none that `sourceRate` rules could use.
  const hasFixed = typeof e.fixedRate === 'number' && e.fixedRate > 0;
  const rate = billable && !hasFixed ? decimalOf(e.hourlyRate) : undefined;
  return toMapResult(
    {
      sourceId: config.id,
      externalId,
      worker: { id: String(user!.id), name: userName! },
      client: customer!.name,
      project: project?.name || undefined,
      task: named<{ name: string }>(e.activity)?.name || undefined,
      tags: Array.isArray(e.tags) ? e.tags.filter((t): t is string => typeof t === 'string' && t !== '') : [],
      date: begin.toISODate()!,
      start: startIso,
      end: anchoredEnd(startIso, seconds as number),
      durationSeconds: seconds as number,
      breakSeconds: 0,
      timeZone: config.timeZone,
      billable,
      approved: null,
      billedAtSource: e.exported === true,
      notes: e.description || undefined,
      sourceRate: rate,
      sourceCurrency: rate ? (config.currency ?? (customer!.currency || undefined)) : undefined,
      extras: [],
      provenance: {
        apiId: externalId,
        url: `${config.baseUrl.replace(/\/+$/, '')}/timesheets/${externalId}`,
        fetchedAt: fetchedAt.toISOString(),
        sourceTimes: {
          duration: { field: 'duration', value: String(seconds) },
          start: { field: 'begin', value: String(e.begin) },
          end: { field: 'end', value: String(e.end) },
        },
      },
    },
    API_FIELD,
  );
}
