import { DateTime, Duration } from 'luxon';
import type { MapResult, Problem, RawRecord } from '../../src/connectors/contract';
import { anchoredEnd, type SourceTimes, type StatedValue } from '../../src/domain/time-entry';
import { dec } from '../../src/domain/money';
import { toMapResult } from '../../src/http/entry';
import { compileDateFormat, isoDateOf, type DateFormat } from '../../src/mapping/date.parser';
import { parseDurationCell, parseDurationText } from '../../src/mapping/duration.parser';
import { compileBooleanParser, parseDecimalCell, type BooleanParser } from '../../src/mapping/number.parser';
import { parseTimeCell } from '../../src/mapping/time.parser';
import { ZoneClock } from '../../src/mapping/zone-clock';
import type { Cell } from '../../src/mapping/cells';
import type { RestConfig } from './config.schema';
import { isBlankValue, renderTemplate, resolvePointer } from './pointer';

/**
 * A record of a declarative REST source → TimeEntry, through the same value parsers as the
 * spreadsheet mapping (src/mapping: dates, times of day, durations, yes/no words, decimals) and
 * the same authoritative-duration rule as every API source: a mapped `duration` is what is
 * billed, anchored at `start` (end = start + duration); the record's own start/end, when mapped,
 * stay in provenance.sourceTimes. Without a duration, the start–end span is billed.
 *
 * Every problem names the canonical field, the pointer it was read from (`column`), the value
 * and what was expected — all of a record's problems, not just the first.
 */

type Spec = string | { path?: string; template?: string; value?: unknown; default?: unknown; [k: string]: unknown };

interface Read {
  /** Where the value came from, for messages: the pointer, the template, or "(constant)". */
  from: string;
  value: unknown;
}

function read(spec: Spec, data: unknown): Read {
  if (typeof spec === 'string') return { from: spec || '(the record)', value: resolvePointer(data, spec) };
  let r: Read;
  if (spec.path !== undefined) r = { from: spec.path || '(the record)', value: resolvePointer(data, spec.path) };
  else if (spec.template !== undefined) r = { from: spec.template, value: renderTemplate(data, spec.template) };
  else r = { from: '(constant)', value: spec.value };
  if (isBlankValue(r.value) && spec.default !== undefined) return { from: r.from, value: spec.default };
  return r;
}

function opt<T>(spec: Spec, key: string): T | undefined {
  return typeof spec === 'string' ? undefined : (spec[key] as T | undefined);
}

const DEFAULT_TRUTHY = ['yes', 'y', 'ja', 'j', 'true', 'waar', 'x', '1', 'ok', '✓', '✔'];
const DEFAULT_FALSY = ['no', 'n', 'nee', 'false', 'onwaar', '0', '-'];
const ISO_DATE = compileDateFormat('yyyy-MM-dd');

/** A JSON value as a spreadsheet cell: the parsers take text, numbers and booleans. */
function asCell(v: unknown): Cell | { object: true } {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return { object: true };
}

/** The local calendar day (epoch day) of an instant in a zone. */
function localDay(ms: number, zone: string): number {
  const local = DateTime.fromMillis(ms, { zone });
  return Math.round(Date.UTC(local.year, local.month - 1, local.day) / 86_400_000);
}

function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

interface Compiled {
  dateFormats: Map<string, DateFormat>;
  clock: ZoneClock;
  localDateFormat: DateFormat;
  booleans: Map<Spec, BooleanParser>;
}

const compiled = new WeakMap<RestConfig, Compiled>();

function compile(config: RestConfig): Compiled {
  let c = compiled.get(config);
  if (!c) {
    c = {
      dateFormats: new Map(),
      clock: new ZoneClock(config.timeZone),
      localDateFormat: compileDateFormat(config.locale.dateFormat),
      booleans: new Map(),
    };
    compiled.set(config, c);
  }
  return c;
}

/** The record's id as read for paging and de-duplication (undefined when it has none). */
export function recordId(config: RestConfig, data: unknown): string | undefined {
  const { value } = read(config.fields.externalId as Spec, data);
  if (isBlankValue(value) || typeof value === 'object') return undefined;
  return String(value).trim();
}

/** The reason a record is skipped by skipWhen, or undefined. */
export function skipReason(config: RestConfig, data: unknown): string | undefined {
  for (const rule of config.skipWhen) {
    const v = resolvePointer(data, rule.path);
    const hit = rule.blank !== undefined ? isBlankValue(v) === rule.blank : v === rule.equals;
    if (hit) {
      const what = rule.blank !== undefined ? `${rule.path} is ${rule.blank ? 'blank' : 'set'}` : `${rule.path} is ${shown(rule.equals)}`;
      return rule.reason ? `${rule.reason} (${what})` : `skipWhen: ${what}`;
    }
  }
  return undefined;
}

export function restToTimeEntry(record: RawRecord, config: RestConfig, fetchedAt: Date): MapResult {
  const data = record.data;
  const f = config.fields;
  const c = compile(config);
  const zone = config.timeZone;
  const problems: Problem[] = [];
  // The reason carries the value too: the quarantine keeps the reason and the raw record, and a
  // person reading it sees what was found beside what was expected.
  const problem = (field: string, r: Read, expected: string) =>
    problems.push({
      field,
      column: r.from,
      ...(r.value !== undefined ? { value: r.value } : {}),
      reason: `${isBlankValue(r.value) ? `no value (${shown(r.value)})` : `value ${shown(r.value)}`}: ${expected}`,
    });

  const externalId = recordId(config, data);
  if (externalId === undefined) {
    problem('externalId', read(f.externalId as Spec, data), 'expected an id (text or number): every record needs one');
  }
  const skip = skipReason(config, data);
  if (skip !== undefined) return { kind: 'skip', reason: externalId ? `${skip}: record ${externalId}` : skip };

  const text = (field: string, spec: Spec | undefined, required: boolean): string | undefined => {
    if (spec === undefined) return undefined;
    const r = read(spec, data);
    if (isBlankValue(r.value)) {
      if (required) problem(field, r, `expected a ${field} name: every record needs one`);
      return undefined;
    }
    if (typeof r.value === 'object') {
      problem(field, r, 'expected text or a number, not an object or a list (point at one of its fields)');
      return undefined;
    }
    const t = String(r.value).trim();
    const names = opt<Record<string, string>>(spec, 'map');
    return names && Object.hasOwn(names, t) ? names[t]! : t;
  };

  // --- date ---------------------------------------------------------------------------------
  let epochDay: number | undefined;
  if (f.date !== undefined) {
    const r = read(f.date as Spec, data);
    const format = opt<string>(f.date as Spec, 'format') ?? 'iso';
    if (isBlankValue(r.value)) problem('date', r, `expected a date (${format === 'iso' ? 'YYYY-MM-DD' : format})`);
    else if (typeof r.value !== 'string') problem('date', r, `expected a date as text (${format === 'iso' ? 'YYYY-MM-DD' : format})`);
    else if (format === 'iso') {
      const t = r.value.trim();
      if (/^\d{4}-\d{2}-\d{2}$/.test(t)) {
        const p = ISO_DATE.parse(t);
        if (p.ok) epochDay = p.value;
        else problem('date', r, `expected a date as YYYY-MM-DD: ${p.reason}`);
      } else {
        const dt = DateTime.fromISO(t, { zone });
        if (dt.isValid) epochDay = localDay(dt.toMillis(), zone);
        else problem('date', r, 'expected a date as YYYY-MM-DD or an ISO 8601 date-time');
      }
    } else {
      let df = c.dateFormats.get(format);
      if (!df) {
        df = compileDateFormat(format);
        c.dateFormats.set(format, df);
      }
      const p = df.parse(r.value);
      if (p.ok) epochDay = p.value;
      else problem('date', r, `expected a date: ${p.reason}`);
    }
  }

  // --- start / end ----------------------------------------------------------------------------
  const instant = (field: 'start' | 'end', spec: Spec | undefined): { ms: number; r: Read; timeOnly: boolean } | undefined => {
    if (spec === undefined) return undefined;
    const r = read(spec, data);
    if (isBlankValue(r.value)) return undefined;
    const format = opt<string>(spec, 'format') ?? 'iso';
    const v = r.value;
    if (format === 'unix' || format === 'unixMs') {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : Number.NaN;
      if (!Number.isFinite(n)) {
        problem(field, r, `expected ${format === 'unix' ? 'seconds' : 'milliseconds'} since 1970 as a number`);
        return undefined;
      }
      return { ms: Math.round(format === 'unix' ? n * 1000 : n), r, timeOnly: false };
    }
    if (typeof v !== 'string') {
      problem(
        field,
        r,
        format === 'iso' ? 'expected an ISO 8601 date-time as text' : 'expected a date and time, or a time of day, as text',
      );
      return undefined;
    }
    if (format === 'iso') {
      const dt = DateTime.fromISO(v.trim(), { zone });
      if (!dt.isValid || !/T|\s\d/.test(v.trim())) {
        problem(field, r, 'expected an ISO 8601 date-time such as 2026-03-02T09:00:00+01:00');
        return undefined;
      }
      return { ms: dt.toMillis(), r, timeOnly: false };
    }
    const p = parseTimeCell(v, config.locale.timeFormat, false, c.localDateFormat);
    if (!p.ok) {
      problem(field, r, `expected a date and time (${config.locale.dateFormat} HH:mm) or a time of day: ${p.reason}`);
      return undefined;
    }
    const day = p.value.epochDay ?? epochDay;
    if (day === undefined) {
      problem(field, r, 'is a time of day without a date: map fields.date, or point at a value holding date and time');
      return undefined;
    }
    return { ms: c.clock.instantMs(day, p.value.seconds), r, timeOnly: p.value.epochDay === undefined };
  };
  const start = instant('start', f.start as Spec | undefined);
  let end = instant('end', f.end as Spec | undefined);
  if (start && end?.timeOnly && end.ms <= start.ms) end = { ...end, ms: end.ms + 86_400_000 }; // over midnight
  if (epochDay === undefined && f.date === undefined && start) epochDay = localDay(start.ms, zone);
  if (epochDay === undefined && f.date === undefined && !start && !problems.some((p) => p.field === 'start')) {
    problem('date', read(f.start as Spec, data), 'expected a start date-time (it gives the date)');
  }

  // --- durations --------------------------------------------------------------------------------
  const duration = (field: string, spec: Spec | undefined): { seconds: number; r: Read } | undefined => {
    if (spec === undefined) return undefined;
    const r = read(spec, data);
    if (isBlankValue(r.value)) return undefined;
    const unit = opt<string>(spec, 'unit') ?? 'seconds';
    const cell = asCell(r.value);
    if (typeof cell === 'object' && cell !== null) {
      problem(field, r, `expected a duration in ${unit}, not an object or a list`);
      return undefined;
    }
    let p: { ok: true; value: number } | { ok: false; reason: string };
    if (unit === 'hours') p = parseDurationCell(cell as Cell, 'hours', false);
    else if (unit === 'text') p = typeof cell === 'string' ? parseDurationText(cell) : { ok: false, reason: 'not a duration text' };
    else if (unit === 'iso8601') {
      const d = typeof cell === 'string' ? Duration.fromISO(cell.trim()) : Duration.invalid('not text');
      p =
        d.isValid && d.as('seconds') >= 0
          ? { ok: true, value: Math.round(d.as('seconds')) }
          : { ok: false, reason: 'not an ISO 8601 duration' };
    } else {
      const n = parseDecimalCell(typeof cell === 'boolean' ? undefined : (cell as Cell), config.locale.decimal);
      const factor = unit === 'minutes' ? 60 : unit === 'milliseconds' ? 0.001 : 1;
      if (!n.ok) p = n;
      else if (n.value.startsWith('-')) p = { ok: false, reason: 'a duration cannot be negative' };
      else p = { ok: true, value: Math.round(Number(n.value) * factor) };
    }
    if (!p.ok) {
      const expected =
        unit === 'text' ? 'H:MM or decimal hours' : unit === 'iso8601' ? 'an ISO 8601 duration such as PT1H30M' : `a number of ${unit}`;
      problem(field, r, `expected ${expected} (${p.reason})`);
      return undefined;
    }
    return { seconds: p.value, r };
  };
  const dur = duration('durationSeconds', f.duration as Spec | undefined);
  const brk = duration('breakSeconds', f.break as Spec | undefined);
  if (f.duration !== undefined && dur === undefined && !problems.some((p) => p.field === 'durationSeconds')) {
    problem('durationSeconds', read(f.duration as Spec, data), 'expected a duration');
  }

  let durationSeconds = dur?.seconds;
  let startIso: string | undefined;
  let endIso: string | undefined;
  if (start) startIso = new Date(start.ms).toISOString().replace(/\.000Z$/, 'Z');
  if (durationSeconds === undefined && f.duration === undefined) {
    // No stated duration: the start–end span is billed.
    if (start && end) {
      const span = Math.round((end.ms - start.ms) / 1000);
      if (span <= 0) problem('end', end.r, `expected an end after the start (${start.r.from} ${shown(start.r.value)})`);
      else durationSeconds = span;
    } else if (start && !end && !problems.some((p) => p.field === 'end')) {
      problem('end', read(f.end as Spec, data), 'expected an end time (no duration is mapped); a running timer? add a skipWhen rule');
    }
  }
  if (startIso !== undefined && durationSeconds !== undefined) endIso = anchoredEnd(startIso, durationSeconds);
  if (brk && durationSeconds !== undefined && brk.seconds > durationSeconds)
    problem('breakSeconds', brk.r, 'expected a break no longer than the entry');

  // --- texts ----------------------------------------------------------------------------------
  const worker = text('worker', f.worker as Spec, true);
  const client = text('client', f.client as Spec, true);
  const workerId = text('workerId', f.workerId as Spec | undefined, false);
  const project = text('project', f.project as Spec | undefined, false);
  const task = text('task', f.task as Spec | undefined, false);
  const role = text('role', f.role as Spec | undefined, false);
  const notes = text('notes', f.notes as Spec | undefined, false);
  const sourceCurrency = text('sourceCurrency', f.sourceCurrency as Spec | undefined, false);
  if (sourceCurrency !== undefined && !/^[A-Z]{3}$/.test(sourceCurrency)) {
    problem('sourceCurrency', read(f.sourceCurrency as Spec, data), 'expected a three-letter currency code such as EUR');
  }

  // --- yes/no ---------------------------------------------------------------------------------
  const bool = (field: string, spec: Spec | undefined, fallback: boolean | null): boolean | null => {
    if (spec === undefined) return fallback;
    const r = read(spec, data);
    const negate = opt<boolean>(spec, 'negate') === true;
    const flip = (b: boolean) => (negate ? !b : b);
    const equals = opt<unknown[]>(spec, 'equals');
    const notEquals = opt<unknown[]>(spec, 'notEquals');
    if (equals)
      return flip(equals.some((e) => e === r.value || (r.value !== null && r.value !== undefined && String(e) === String(r.value))));
    if (notEquals)
      return flip(!notEquals.some((e) => e === r.value || (r.value !== null && r.value !== undefined && String(e) === String(r.value))));
    if (isBlankValue(r.value)) return flip(false); // a blank cell in a sheet reads as no, too
    let parser = c.booleans.get(spec);
    if (!parser) {
      parser = compileBooleanParser(opt<string[]>(spec, 'truthy') ?? DEFAULT_TRUTHY, opt<string[]>(spec, 'falsy') ?? DEFAULT_FALSY);
      c.booleans.set(spec, parser);
    }
    const cell = asCell(r.value);
    const p =
      typeof cell === 'object' && cell !== null ? { ok: false as const, reason: 'an object is not a yes/no value' } : parser(cell as Cell);
    if (!p.ok) {
      // The parser says "not a yes/no value (expected one of: …)": the expectation is the useful part.
      problem(field, r, p.reason.replace(/^not a yes\/no value \(expected (.*)\)$/, 'expected $1'));
      return fallback;
    }
    return flip(p.value);
  };
  const billable = bool('billable', f.billable as Spec | undefined, true) ?? true;
  const approved = bool('approved', f.approved as Spec | undefined, null);
  const billedAtSource = bool('billedAtSource', f.billedAtSource as Spec | undefined, false) ?? false;

  // --- decimals -------------------------------------------------------------------------------
  const decimal = (field: string, spec: Spec | undefined): string | undefined => {
    if (spec === undefined) return undefined;
    const r = read(spec, data);
    if (isBlankValue(r.value)) return undefined;
    const cell = asCell(r.value);
    if (typeof cell === 'boolean' || (typeof cell === 'object' && cell !== null)) {
      problem(field, r, 'expected a decimal number');
      return undefined;
    }
    const p = parseDecimalCell(cell as Cell, config.locale.decimal);
    if (!p.ok) {
      problem(field, r, `expected a decimal number (${p.reason})`);
      return undefined;
    }
    if (p.value.startsWith('-')) {
      problem(field, r, 'expected a rate that is not negative');
      return undefined;
    }
    const by = opt<number>(spec, 'divideBy');
    return by ? dec(p.value).div(by).toFixed() : p.value;
  };
  const sourceRate = decimal('sourceRate', f.sourceRate as Spec | undefined);
  const costRate = decimal('costRate', f.costRate as Spec | undefined);

  // --- tags -----------------------------------------------------------------------------------
  let tags: string[] = [];
  if (f.tags !== undefined) {
    const r = read(f.tags as Spec, data);
    const item = opt<string>(f.tags as Spec, 'item');
    if (Array.isArray(r.value)) {
      tags = r.value
        .map((t) => (item ? resolvePointer(t, item) : t))
        .filter((t) => !isBlankValue(t) && typeof t !== 'object')
        .map((t) => String(t).trim());
    } else if (typeof r.value === 'string') {
      tags = r.value
        .split(/[,;|]/)
        .map((t) => t.trim())
        .filter((t) => t.length > 0);
    } else if (!isBlankValue(r.value)) problem('tags', r, 'expected a list of texts, or one text separated by , ; or |');
  }

  if (problems.length > 0 || externalId === undefined || epochDay === undefined || durationSeconds === undefined) {
    return { kind: 'invalid', problems, ...(externalId ? { externalId } : {}) };
  }

  const stated = (r: Read | undefined): StatedValue | undefined =>
    r && !isBlankValue(r.value) ? { field: r.from, value: typeof r.value === 'string' ? r.value : JSON.stringify(r.value) } : undefined;
  const sourceTimes: SourceTimes | undefined =
    dur && (start || end) ? { duration: stated(dur.r)!, start: stated(start?.r), end: stated(end?.r) } : undefined;

  return toMapResult({
    sourceId: config.id,
    externalId,
    worker: { id: workerId, name: worker ?? '' },
    client: client ?? '',
    project,
    task,
    role,
    tags,
    date: isoDateOf(epochDay),
    start: startIso,
    end: endIso,
    durationSeconds,
    breakSeconds: brk?.seconds ?? 0,
    timeZone: zone,
    billable,
    approved,
    billedAtSource,
    notes,
    sourceRate,
    sourceCurrency,
    costRate,
    extras: [],
    provenance: {
      apiId: externalId,
      fetchedAt: fetchedAt.toISOString(),
      sourceTimes,
    },
  });
}
