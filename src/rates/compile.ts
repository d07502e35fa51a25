import type Decimal from 'decimal.js';
import { dec } from '../domain/money';
import type { ConfigIssue } from '../config/issues';
import type { ClientConfig } from '../config/client.schema';
import { WEEKDAYS, dateText, decimalText, hhmmToMinutes, type MatchConfig, type RatesConfig, type RulesetConfig } from './config.schema';
import { HolidayCalendar, checkHolidayPlace } from './holidays';
import { type ZoneDays, dateToDayNum } from './zone-days';
import { toScaled } from './scaled';

/*
 * Config → compiled, index-friendly structures. Everything the hot path needs is precomputed
 * here: lower-cased matchers, specificity, day numbers for effective dates, band edges and the
 * per-segment surcharge masks.
 */

export type Dim = 'task' | 'project' | 'worker' | 'role' | 'tags' | 'source' | 'client';

/** Precedence of match fields: a rule matching on a heavier field set is more specific. */
export const SPECIFICITY: Record<Dim, number> = { task: 64, project: 32, worker: 16, role: 8, tags: 4, source: 2, client: 1 };
export const DIM_ORDER: Dim[] = ['task', 'project', 'worker', 'role', 'tags', 'source', 'client'];

export interface CMatch {
  client?: string;
  project?: string;
  task?: string;
  worker?: string;
  role?: string;
  tags?: string[];
  source?: string;
  spec: number;
  text: string;
}

export interface CBase {
  id: string;
  idx: number;
  path: Array<string | number>;
  match: CMatch;
  fromDay: number;
  untilDay: number;
  fromText?: string;
  untilText?: string;
  kind: 'hourly' | 'fixed' | 'markup' | 'source';
  /** hourly/fixed price text, or the markup factor ('1' for source: the entry's own rate). */
  value: string;
}

export interface CPayRate {
  match: CMatch;
  fromDay: number;
  untilDay: number;
  rate: string;
  idx: number;
}

export interface CAdd {
  id: string;
  label: string;
  bit: number;
  kind: 'surcharge' | 'overtime';
  pct: Decimal | null;
  abs: Decimal | null;
  /** "+40%" or "+5.00/h". */
  valueText: string;
  days: number; // bitmask over weekday 1..7, 0 = any
  daysText?: string;
  band?: { from: number; to: number; text: string };
  dates?: Array<{ from: number; until: number; text: string }>;
  holiday?: boolean;
  match?: CMatch;
  blockMs: number;
  onlyIf?: { startsBefore?: number; endsAfter?: number; text: string };
  per?: 'day' | 'week';
  afterMs?: number;
  afterText?: string;
}

export interface CRuleset {
  name: string;
  path: Array<string | number>;
  /** The base rules in precedence order (more specific first, then config order): matching keeps it, so no sort per entry. */
  base: CBase[];
  payRates: CPayRate[];
  /** Surcharges (bits 0..n-1) then overtime rules. */
  adds: CAdd[];
  surcharges: CAdd[];
  overtime: CAdd[];
  stacking: 'max' | 'sum';
  holidays?: HolidayCalendar;
  holidayText?: string;
  weekStart: number; // 1..7
  minShiftMs: number;
  minShiftText?: string;
  minInvoice?: string;
  breakPosition: 'middle' | 'start' | 'end';
  statutory: Array<{ afterMs: number; ms: number; text: string }>;
  timeRounding?: { incMs: number; direction: 'up' | 'down' | 'nearest'; scope: 'entry' | 'day' | 'line'; incrementMinutes: number };
  qDp: number;
  pDp: number;
  extras: Map<string, { line: 'fee' | 'expense'; unitPrice?: string; label?: string; taxType?: string }>;
  nonBillable: Array<{ id: string; project?: RegExp; task?: RegExp; match?: CMatch; reason?: string }>;
  edgeMinutes: number[];
  /** Per band segment: mask of surcharges active in it (surcharges without a band: all). */
  segMask: number[];
  /** Mask of surcharges without a time band (used when an entry has no start/end). */
  noBandMask: number;
  /** Some surcharge is limited to date ranges (their trace depends on the date). */
  hasDates: boolean;
  zones: Map<string, ZoneDays>;
}

export const MAX_ADDS = 30;
const NEG_INF = -1e9;
const POS_INF = 1e9;

export function norm(s: string | undefined): string | undefined {
  return s === undefined ? undefined : s.trim().toLowerCase();
}

export function compileMatch(m: MatchConfig | undefined): CMatch {
  const out: CMatch = { spec: 0, text: '' };
  if (!m) return out;
  const parts: string[] = [];
  for (const d of DIM_ORDER) {
    const v = (m as Record<string, unknown>)[d];
    if (v === undefined) continue;
    out.spec += SPECIFICITY[d];
    if (d === 'tags') {
      out.tags = (v as string[]).map((t) => t.trim().toLowerCase()).sort();
      parts.push(`tags=${out.tags.join('+')}`);
    } else {
      (out as unknown as Record<string, string>)[d] = (v as string).trim().toLowerCase();
      parts.push(`${d}=${v as string}`);
    }
  }
  out.text = parts.length ? parts.join(', ') : 'any entry';
  return out;
}

function sameMatch(a: CMatch, b: CMatch): boolean {
  return (
    a.spec === b.spec &&
    a.client === b.client &&
    a.project === b.project &&
    a.task === b.task &&
    a.worker === b.worker &&
    a.role === b.role &&
    a.source === b.source &&
    (a.tags ?? []).join('\u0000') === (b.tags ?? []).join('\u0000')
  );
}

function globToRegExp(glob: string): RegExp {
  const esc = glob
    .trim()
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*');
  return new RegExp(`^${esc}$`, 'i');
}

const WEEKSTART: Record<string, number> = { monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6, sunday: 7 };

function hoursToMs(text: string): number {
  return Number(dec(text).times(3_600_000).toDecimalPlaces(0).toFixed(0));
}

export function compileRuleset(name: string, rs: RulesetConfig, clientIds: Set<string>, issues: ConfigIssue[]): CRuleset {
  const path: Array<string | number> = ['rates', 'rulesets', name];
  const pDp = rs.rounding.unitPriceDecimals;
  const qDp = rs.rounding.quantityDecimals;

  const checkClient = (m: MatchConfig | undefined, p: Array<string | number>) => {
    if (m?.client !== undefined && !clientIds.has(m.client)) {
      issues.push({
        path: [...p, 'match', 'client'],
        message: `unknown client id "${m.client}": expected one of ${[...clientIds].join(', ') || '(no clients configured)'}`,
      });
    }
  };
  const window = (from: string | Date | undefined, until: string | Date | undefined, p: Array<string | number>) => {
    const f = from === undefined ? undefined : dateText(from);
    const u = until === undefined ? undefined : dateText(until);
    const fromDay = f ? dateToDayNum(f) : NEG_INF;
    const untilDay = u ? dateToDayNum(u) : POS_INF;
    if (fromDay > untilDay) issues.push({ path: [...p, 'until'], message: `until (${u}) is before from (${f})` });
    return { fromDay, untilDay, fromText: f, untilText: u };
  };

  const base: CBase[] = rs.base.map((r, i) => {
    const p = [...path, 'base', i];
    checkClient(r.match, p);
    const w = window(r.from, r.until, p);
    const kind = r.hourly !== undefined ? 'hourly' : r.fixed !== undefined ? 'fixed' : r.markup !== undefined ? 'markup' : 'source';
    const value = kind === 'source' ? '1' : decimalText((r.hourly ?? r.fixed ?? r.markup)!);
    if ((kind === 'hourly' || kind === 'fixed') && dec(value).decimalPlaces() > pDp) {
      issues.push({ path: [...p, kind], message: `${kind} rate ${value} has more than ${pDp} decimals (rounding.unitPriceDecimals)` });
    }
    return { id: r.id, idx: i, path: p, match: compileMatch(r.match), kind, value, ...w };
  });

  // Two rules with the same match and overlapping dates tie for every entry they match.
  const seenIds = new Map<string, number>();
  for (const b of base) {
    const prev = seenIds.get(b.id);
    if (prev !== undefined) issues.push({ path: [...b.path, 'id'], message: `duplicate base rule id "${b.id}" (also base[${prev}])` });
    else seenIds.set(b.id, b.idx);
    for (const a of base) {
      if (a.idx >= b.idx) break;
      if (sameMatch(a.match, b.match) && a.fromDay <= b.untilDay && b.fromDay <= a.untilDay) {
        issues.push({
          path: b.path,
          message: `base rule "${b.id}" ties with "${a.id}" (base[${a.idx}]): both match ${b.match.text} and are in force on the same dates; make one more specific or separate their from/until`,
        });
      }
    }
  }

  const payRates: CPayRate[] = rs.payRates.map((r, i) => {
    const p = [...path, 'payRates', i];
    checkClient(r.match, p);
    const w = window(r.from, r.until, p);
    return { match: compileMatch(r.match), rate: decimalText(r.rate), idx: i, fromDay: w.fromDay, untilDay: w.untilDay };
  });

  const adds: CAdd[] = [];
  const edges = new Set<number>();
  const bitOf = () => adds.length;
  rs.surcharges.forEach((s, i) => {
    const p = [...path, 'surcharges', i];
    checkClient(s.match, p);
    let band: CAdd['band'];
    if (s.time) {
      const from = hhmmToMinutes(s.time.from);
      const to = hhmmToMinutes(s.time.to);
      if (from === to)
        issues.push({
          path: [...p, 'time'],
          message: `band from and to are both ${s.time.from}: expected two different times (use no time band for all day)`,
        });
      if (from === 1440) issues.push({ path: [...p, 'time', 'from'], message: 'band cannot start at 24:00: expected 00:00–23:59' });
      band = { from, to, text: `${s.time.from}–${s.time.to}` };
      if (from > 0 && from < 1440) edges.add(from);
      if (to > 0 && to < 1440) edges.add(to);
    }
    const pctText = s.percent !== undefined ? decimalText(s.percent) : undefined;
    const absText = s.amount !== undefined ? decimalText(s.amount) : undefined;
    let days = 0;
    for (const d of s.days ?? []) days |= 1 << (WEEKDAYS.indexOf(d) + 1);
    adds.push({
      id: s.id,
      label: s.label ?? s.id,
      bit: bitOf(),
      kind: 'surcharge',
      pct: pctText !== undefined ? dec(pctText) : null,
      abs: absText !== undefined ? dec(absText) : null,
      valueText: pctText !== undefined ? `+${pctText}%` : `+${absText}/h`,
      days,
      daysText: s.days?.join(', '),
      band,
      dates: s.dates?.map((d) => {
        const f = dateText(d.from);
        const u = dateText(d.until);
        if (f > u) issues.push({ path: [...p, 'dates'], message: `date range ${f}..${u} ends before it starts` });
        return { from: dateToDayNum(f), until: dateToDayNum(u), text: f === u ? f : `${f}..${u}` };
      }),
      holiday: s.holiday,
      match: s.match ? compileMatch(s.match) : undefined,
      blockMs: (s.blockMinutes ?? 0) * 60_000,
      onlyIf: s.onlyIf
        ? {
            startsBefore: s.onlyIf.startsBefore ? hhmmToMinutes(s.onlyIf.startsBefore) : undefined,
            endsAfter: s.onlyIf.endsAfter ? hhmmToMinutes(s.onlyIf.endsAfter) : undefined,
            text: [
              s.onlyIf.startsBefore ? `starts before ${s.onlyIf.startsBefore}` : '',
              s.onlyIf.endsAfter ? `ends after ${s.onlyIf.endsAfter}` : '',
            ]
              .filter(Boolean)
              .join(' or '),
          }
        : undefined,
    });
    if (s.holiday !== undefined && !rs.holidays) {
      issues.push({ path: [...p, 'holiday'], message: 'holiday surcharge needs a holidays calendar on the ruleset (holidays.country)' });
    }
  });
  const surchargeCount = adds.length;
  for (const [i, o] of (rs.overtime?.rules ?? []).entries()) {
    const pctText = o.percent !== undefined ? decimalText(o.percent) : undefined;
    const absText = o.amount !== undefined ? decimalText(o.amount) : undefined;
    const afterText = decimalText(o.afterHours);
    void i;
    adds.push({
      id: o.id,
      label: o.label ?? o.id,
      bit: bitOf(),
      kind: 'overtime',
      pct: pctText !== undefined ? dec(pctText) : null,
      abs: absText !== undefined ? dec(absText) : null,
      valueText: pctText !== undefined ? `+${pctText}%` : `+${absText}/h`,
      days: 0,
      blockMs: 0,
      per: o.per,
      afterMs: hoursToMs(afterText),
      afterText,
    });
  }
  if (adds.length > MAX_ADDS) {
    issues.push({
      path: [...path, 'surcharges'],
      message: `at most ${MAX_ADDS} surcharges and overtime rules per ruleset, got ${adds.length}`,
    });
    adds.length = MAX_ADDS;
  }

  const edgeMinutes = [...edges].sort((a, b) => a - b);
  const bounds = [0, ...edgeMinutes, 1440];
  const segMask: number[] = [];
  let noBandMask = 0;
  for (const a of adds) if (a.kind === 'surcharge' && !a.band) noBandMask |= 1 << a.bit;
  for (let sIdx = 0; sIdx < bounds.length - 1; sIdx++) {
    const lo = bounds[sIdx]!;
    let mask = noBandMask;
    for (const a of adds) {
      if (a.kind !== 'surcharge' || !a.band) continue;
      const { from, to } = a.band;
      const inBand = from < to ? lo >= from && lo < to : lo >= from || lo < to;
      if (inBand) mask |= 1 << a.bit;
    }
    segMask.push(mask);
  }

  let holidays: HolidayCalendar | undefined;
  let holidayText: string | undefined;
  if (rs.holidays) {
    const bad = checkHolidayPlace(rs.holidays.country, rs.holidays.region);
    if (bad) issues.push({ path: [...path, 'holidays', bad.field], message: bad.message });
    else {
      holidays = new HolidayCalendar({
        country: rs.holidays.country,
        region: rs.holidays.region,
        types: rs.holidays.types,
        add: rs.holidays.add.map((a) => ({ date: dateText(a.date), name: a.name })),
        remove: rs.holidays.remove.map(dateText),
      });
      holidayText = `${rs.holidays.country.toUpperCase()}${rs.holidays.region ? `-${rs.holidays.region.toUpperCase()}` : ''}`;
    }
  }

  const t = rs.rounding.time;
  const extras = new Map<string, { line: 'fee' | 'expense'; unitPrice?: string; label?: string; taxType?: string }>();
  rs.extras.forEach((x, i) => {
    if (extras.has(x.kind)) issues.push({ path: [...path, 'extras', i, 'kind'], message: `extra kind "${x.kind}" is configured twice` });
    extras.set(x.kind, {
      line: x.line,
      unitPrice: x.unitPrice !== undefined ? decimalText(x.unitPrice) : undefined,
      label: x.label,
      taxType: x.taxType,
    });
  });
  rs.nonBillable.forEach((n, i) => {
    checkClient(n.match, [...path, 'nonBillable', i]);
  });

  const minShift = rs.minimums?.shiftHours !== undefined ? decimalText(rs.minimums.shiftHours) : undefined;
  // Unit prices are compared as scaled integers; make sure the configured precision can hold them.
  void toScaled;
  return {
    name,
    path,
    base: base.sort((x, y) => y.match.spec - x.match.spec || x.idx - y.idx),
    payRates,
    adds,
    surcharges: adds.slice(0, surchargeCount),
    overtime: adds.slice(surchargeCount),
    stacking: rs.stacking,
    holidays,
    holidayText,
    weekStart: WEEKSTART[rs.overtime?.weekStart ?? 'monday']!,
    minShiftMs: minShift ? hoursToMs(minShift) : 0,
    minShiftText: minShift,
    minInvoice: rs.minimums?.invoiceAmount !== undefined ? decimalText(rs.minimums.invoiceAmount) : undefined,
    breakPosition: rs.breaks.position,
    statutory: rs.breaks.statutory
      .map((s) => ({
        afterMs: hoursToMs(decimalText(s.afterHours)),
        ms: s.minutes * 60_000,
        text: `${s.minutes} min after ${decimalText(s.afterHours)} h`,
      }))
      .sort((a, b) => a.afterMs - b.afterMs),
    timeRounding: t
      ? { incMs: t.incrementMinutes * 60_000, direction: t.direction, scope: t.scope, incrementMinutes: t.incrementMinutes }
      : undefined,
    qDp,
    pDp,
    extras,
    nonBillable: rs.nonBillable.map((n) => ({
      id: n.id,
      project: n.project ? globToRegExp(n.project) : undefined,
      task: n.task ? globToRegExp(n.task) : undefined,
      match: n.match ? compileMatch(n.match) : undefined,
      reason: n.reason,
    })),
    edgeMinutes,
    segMask,
    noBandMask,
    hasDates: adds.some((a) => a.dates !== undefined),
    zones: new Map(),
  };
}

/** Assigns every configured client to its ruleset and reports clients that have none. */
export function assignClients(config: RatesConfig, clients: ClientConfig[], issues: ConfigIssue[]): Map<string, string> {
  const clientIds = new Set(clients.map((c) => c.id));
  const byClient = new Map<string, string>();
  let fallback: string | undefined;
  for (const [name, rs] of Object.entries(config.rulesets)) {
    if (!rs.clients) {
      if (fallback)
        issues.push({
          path: ['rates', 'rulesets', name, 'clients'],
          message: `only one ruleset may omit clients (default ruleset); "${fallback}" already does`,
        });
      else fallback = name;
      continue;
    }
    rs.clients.forEach((c, i) => {
      if (!clientIds.has(c)) {
        issues.push({
          path: ['rates', 'rulesets', name, 'clients', i],
          message: `unknown client id "${c}": expected one of ${[...clientIds].join(', ') || '(no clients configured)'}`,
        });
      } else if (byClient.has(c)) {
        issues.push({
          path: ['rates', 'rulesets', name, 'clients', i],
          message: `client "${c}" is already priced by ruleset "${byClient.get(c)}"`,
        });
      } else byClient.set(c, name);
    });
  }
  for (const c of clients) {
    if (byClient.has(c.id)) continue;
    if (fallback) byClient.set(c.id, fallback);
    else
      issues.push({
        path: ['rates', 'rulesets'],
        message: `client "${c.id}" is not priced by any ruleset: add it to a ruleset's clients or add a ruleset without clients`,
      });
  }
  return byClient;
}
