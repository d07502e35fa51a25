import { createHash } from 'node:crypto';
import type { ClientConfig } from '../config/client.schema';
import type { ConfigIssue } from '../config/issues';
import { dec, roundHalfUp } from '../domain/money';
import type { BilledLine, RatedLine, TraceStep } from '../domain/rated-line';
import type { EntryExtra, TimeEntry } from '../domain/time-entry';
import type { CompiledRates, CompileResult, PricingInput, PricingOutcome, QuantityRounding } from './contract';
import type { RatesConfig } from './config.schema';
import { assignClients, compileMatch, compileRuleset, norm, type CAdd, type CBase, type CMatch, type CRuleset } from './compile';
import { DAY_MS, ZoneDays, localMinutes, type DayInfo } from './zone-days';
import { isoInstantOf } from '../mapping/date.parser';
import { divHalfUp, formatScaled, parseIsoUtc, POW10, scaledProduct, toScaled } from './scaled';
import { remember } from '../util/remember';

/*
 * The rate engine. Pure: the same inputs give the same outcomes in any order (overtime is
 * counted in chronological order after sorting, caches only memoise pure functions).
 *
 * Per entry: ruleset → non-billable checks → breaks → split into pieces at local midnight and
 * band edges (client zone) → time rounding (scope entry) → block counting → [per batch]
 * overtime → minimum per shift → merge equal neighbours → quantities (cumulative half-up
 * rounding, so the pieces' quantities add up to the rounded entry) → unit price per
 * (base rate, surcharge set) → exact amount = quantity × unit price.
 */

const WEEKDAY_NAMES = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

interface ClientPlan {
  rs: CRuleset;
  memo: RulesetMemo;
  client: string;
}

interface EntryDims {
  client: string;
  project?: string;
  task?: string;
  workerId?: string;
  workerName: string;
  role?: string;
  tags: ReadonlySet<string>;
  source: string;
}

interface BaseRate {
  id: number;
  /** Memo per surcharge mask, and per trace context: both pure functions of their key. */
  prices: Map<number, PriceInfo>;
  traces: Map<number | string, TraceStep[]>;
  rule: CBase;
  rateInt: number;
  rateText: string;
  step: TraceStep;
}

interface Piece {
  /** Start instant (ms); for date-only entries the local midnight of the date. */
  s: number;
  /** Billed length (ms) after rounding, blocks, overtime splits. */
  len: number;
  /** Worked length (ms) before rounding. */
  raw: number;
  day: DayInfo;
  /** Band segment, -1 when the entry has no start/end. */
  seg: number;
  mask: number;
  blocked: number;
  base: BaseRate;
  kind: 'time' | 'minimum' | 'fixed';
}

interface Work {
  index: number;
  input: PricingInput;
  rs: CRuleset;
  memo: RulesetMemo;
  zd: ZoneDays;
  matchMask: number;
  onlyIfMask: number;
  entryMask: number;
  startMs: number;
  shiftDay: DayInfo;
  workerKey: string;
  pieces: Piece[];
  /** Replaced, never mutated (withStep): NO_STEPS is shared. */
  steps: TraceStep[];
  netMs: number;
}

/**
 * Trace steps and texts that depend only on a few numbers (a break length, a shift length, a
 * rounding) are built once per ruleset and shared: they are immutable values, and building
 * their sentences per entry (plus the garbage that leaves behind) was most of the cost of
 * pricing a million entries. Every map is bounded: cleared when it grows past MEMO_LIMIT.
 */
const MEMO_LIMIT = 10_000;
/** Instants (ISO text ↔ ms) of a year of quarter hours fit. */
const INSTANT_MEMO_LIMIT = 50_000;

interface RulesetMemo {
  breakSteps: Map<number, TraceStep>;
  statutorySteps: Map<number, TraceStep>;
  roundingSteps: Map<number, TraceStep>;
  minShiftSteps: Map<number, TraceStep>;
  excluded: Map<object, string>;
  extras: Map<string, { amount: string; trace: TraceStep[] }>;
  /** Quantity text per scaled quantity (the ruleset fixes the decimals). */
  quantityText: Map<number, string>;
  /** Matching base rules per set of matches (baseCandidates). */
  candidates: Map<number, CBase[]>;
  /** Which entry dimensions any match of the ruleset refers to. */
  dims: DimUse;
  /** Entry steps + first piece trace, concatenated once per distinct combination (a trie on step identity). */
  concat: ConcatNode;
  concatSize: number;
}

interface ConcatNode {
  next: Map<TraceStep, ConcatNode>;
  withTrace: Map<TraceStep[], TraceStep[]>;
}

/**
 * Stores a freshly made memo value and returns it. Callers look up with `map.get` themselves and
 * build the value inline on a miss: a `make` closure per call allocated a closure (and a context
 * for the captured variables) on every hit, which showed up in the allocation profile.
 */
function memoSet<K, V>(map: Map<K, V>, key: K, v: V, limit = MEMO_LIMIT): V {
  return remember(map, key, v, limit);
}

/** `[...steps, step]` at exact size: entries have at most three steps, and push (or spread) would grow the array to 17 slots. */
function withStep(steps: TraceStep[], step: TraceStep): TraceStep[] {
  if (steps.length === 0) return [step];
  if (steps.length === 1) return [steps[0]!, step];
  return [...steps, step];
}

const NO_STEPS: TraceStep[] = [];
/** Frozen: a Work starts with it, and code that pushes must have replaced it (addPiece) first. */
const NO_PIECES = Object.freeze([]) as unknown as Piece[];

/** The first piece makes a one-slot array: most entries have one or two, and a push on [] grows it to 17 slots. */
function addPiece(w: Work, p: Piece): void {
  if (w.pieces.length === 0) w.pieces = [p];
  else w.pieces.push(p);
}

/**
 * The base rules matching the entry, in precedence order (most specific first, then config
 * order) as resolveBase expects. The list is shared per set of matching rules (a bit each):
 * read-only, and one fewer array per entry.
 */
function baseCandidates(rs: CRuleset, memo: RulesetMemo, dims: EntryDims): CBase[] {
  const rules = rs.base;
  if (rules.length > 30) return matchingRules(rules, dims);
  let bits = 0;
  for (let i = 0; i < rules.length; i++) if (matches(rules[i]!.match, dims)) bits |= 1 << i;
  return memo.candidates.get(bits) ?? memoSet(memo.candidates, bits, pickRules(rules, bits));
}

function matchingRules(rules: CBase[], dims: EntryDims): CBase[] {
  return rules.filter((b) => matches(b.match, dims));
}

function pickRules(rules: CBase[], bits: number): CBase[] {
  return rules.filter((_, i) => bits & (1 << i));
}

const NO_TAGS: ReadonlySet<string> = new Set();

interface DimUse {
  project: boolean;
  task: boolean;
  worker: boolean;
  role: boolean;
  tags: boolean;
  source: boolean;
}

function dimsUsed(rs: CRuleset): DimUse {
  const use: DimUse = { project: false, task: false, worker: false, role: false, tags: false, source: false };
  const add = (m: CMatch | undefined) => {
    if (!m) return;
    if (m.project !== undefined) use.project = true;
    if (m.task !== undefined) use.task = true;
    if (m.worker !== undefined) use.worker = true;
    if (m.role !== undefined) use.role = true;
    if (m.tags !== undefined) use.tags = true;
    if (m.source !== undefined) use.source = true;
  };
  for (const b of rs.base) add(b.match);
  for (const a of rs.adds) add(a.match);
  for (const nb of rs.nonBillable) add(nb.match);
  return use;
}

class PriceFailure {
  constructor(
    readonly reason: string,
    readonly field?: string,
  ) {}
}

interface PriceInfo {
  unitInt: number;
  unitText: string;
  rule: string;
  label: string;
  applied: CAdd[];
  suppressedBy?: CAdd;
  /** Amount text per scaled quantity (memo). */
  amounts: Map<number, string>;
}

function matches(m: CMatch, d: EntryDims): boolean {
  if (m.client !== undefined && m.client !== d.client) return false;
  if (m.project !== undefined && m.project !== d.project) return false;
  if (m.task !== undefined && m.task !== d.task) return false;
  if (m.worker !== undefined && m.worker !== d.workerId && m.worker !== d.workerName) return false;
  if (m.role !== undefined && m.role !== d.role) return false;
  if (m.source !== undefined && m.source !== d.source) return false;
  if (m.tags) for (const t of m.tags) if (!d.tags.has(t)) return false;
  return true;
}

function hoursText(ms: number): string {
  const min = Math.round(ms / 60_000);
  return `${Math.floor(min / 60)}:${String(min % 60).padStart(2, '0')} h`;
}

function roundMs(ms: number, inc: number, dir: 'up' | 'down' | 'nearest'): number {
  if (dir === 'up') return Math.ceil(ms / inc) * inc;
  if (dir === 'down') return Math.floor(ms / inc) * inc;
  return Math.floor((ms + inc / 2) / inc) * inc;
}

/** Exposed for property tests: the pieces [start, end) of [a, b) split at local midnight and band edges. */
export function splitInterval(zd: ZoneDays, a: number, b: number): Array<{ s: number; e: number; day: DayInfo; seg: number }> {
  const out: Array<{ s: number; e: number; day: DayInfo; seg: number }> = [];
  let t = a;
  while (t < b) {
    const day = zd.at(t);
    const seg = segmentAt(day, t);
    const e = Math.min(segmentEnd(day, seg), b);
    out.push({ s: t, e, day, seg });
    t = e;
  }
  return out;
}

/** The band segment of `day` that instant `t` falls in (segments are bounded by day.edgeMs). */
function segmentAt(day: DayInfo, t: number): number {
  const edges = day.edgeMs;
  let seg = 0;
  while (seg + 1 < edges.length && edges[seg + 1]! <= t) seg++;
  return seg;
}

/** Where segment `seg` of `day` ends: the next band edge, or the end of the day. */
function segmentEnd(day: DayInfo, seg: number): number {
  return seg + 1 < day.edgeMs.length ? day.edgeMs[seg + 1]! : day.endMs;
}

export class RateEngine implements CompiledRates {
  readonly hash: string;
  private readonly rulesets = new Map<string, CRuleset>();
  private readonly clientRuleset: Map<string, string>;
  private readonly baseCache = new Map<string, BaseRate>();
  /** Base rates of hourly and fixed rules: one per rule object. */
  private readonly plainBase = new Map<CBase, BaseRate>();
  private readonly memos = new Map<CRuleset, RulesetMemo>();
  private readonly hoursRawText = new Map<number, string>();
  /**
   * Instant (ms) per ISO text: entries of a run share their start/end strings (the mappers cache
   * them), so a lookup on the string's cached hash is cheaper than parsing it again.
   */
  private readonly instants = new Map<string, number>();

  private instant(text: string): number {
    return this.instants.get(text) ?? memoSet(this.instants, text, parseIsoUtc(text), INSTANT_MEMO_LIMIT);
  }

  /** Trimmed, lower-cased names (project, role, worker…): few distinct ones, looked up instead of re-normalised per entry. */
  private readonly normed = new Map<string, string>();

  private norm(s: string | undefined): string | undefined {
    return s === undefined ? undefined : (this.normed.get(s) ?? memoSet(this.normed, s, s.trim().toLowerCase()));
  }

  /** Per configured client id: its ruleset, memo and lower-cased id (one lookup per entry instead of three). */
  private readonly plans = new Map<string, ClientPlan>();

  private plan(clientId: string): ClientPlan | undefined {
    let plan = this.plans.get(clientId);
    if (plan === undefined) {
      const rs = this.rulesetFor(clientId);
      if (!rs) return undefined;
      // Bounded: only ids with a ruleset, i.e. configured clients, get a plan.
      plan = { rs, memo: this.memo(rs), client: clientId.toLowerCase() };
      this.plans.set(clientId, plan);
    }
    return plan;
  }

  /** Working state of entries without overtime, reused (see prepare); undefined until the first. */
  private soloWork: Work | undefined;

  /** Scratch dimensions of the entry being prepared (prepare is not re-entrant; nothing keeps them). */
  private readonly dims: EntryDims = {
    client: '',
    project: undefined,
    task: undefined,
    workerId: undefined,
    workerName: '',
    role: undefined,
    tags: NO_TAGS,
    source: '',
  };
  private nextBaseId = 0;

  constructor(config: RatesConfig, clients: ClientConfig[], issues: ConfigIssue[]) {
    const clientIds = new Set(clients.map((c) => c.id));
    for (const [name, rs] of Object.entries(config.rulesets)) {
      this.rulesets.set(name, compileRuleset(name, rs, clientIds, issues));
    }
    this.clientRuleset = assignClients(config, clients, issues);
    this.hash = createHash('sha256')
      .update(JSON.stringify({ v: 1, config, clients: clients.map((c) => [c.id, c.timeZone, c.currency]) }))
      .digest('hex');
  }

  private memo(rs: CRuleset): RulesetMemo {
    let m = this.memos.get(rs);
    if (!m) {
      m = {
        breakSteps: new Map(),
        statutorySteps: new Map(),
        roundingSteps: new Map(),
        minShiftSteps: new Map(),
        excluded: new Map(),
        extras: new Map(),
        quantityText: new Map(),
        candidates: new Map(),
        dims: dimsUsed(rs),
        concat: { next: new Map(), withTrace: new Map() },
        concatSize: 0,
      };
      this.memos.set(rs, m);
    }
    return m;
  }

  /** `[...steps, ...trace]`, shared between entries with the same (memoised) steps and trace. */
  private concatTrace(m: RulesetMemo, steps: TraceStep[], trace: TraceStep[]): TraceStep[] {
    let node = m.concat;
    for (const step of steps) {
      let next = node.next.get(step);
      if (!next) {
        if (m.concatSize >= MEMO_LIMIT) {
          m.concat = { next: new Map(), withTrace: new Map() };
          m.concatSize = 0;
          return [...steps, ...trace];
        }
        next = { next: new Map(), withTrace: new Map() };
        node.next.set(step, next);
        m.concatSize++;
      }
      node = next;
    }
    let out = node.withTrace.get(trace);
    if (!out) {
      out = [...steps, ...trace];
      node.withTrace.set(trace, out);
      m.concatSize++;
    }
    return out;
  }

  rulesetFor(clientId: string): CRuleset | undefined {
    const name = this.clientRuleset.get(clientId);
    return name === undefined ? undefined : this.rulesets.get(name);
  }

  private zoneDays(rs: CRuleset, zone: string): ZoneDays {
    let zd = rs.zones.get(zone);
    if (!zd) {
      zd = new ZoneDays(zone, rs.edgeMinutes);
      rs.zones.set(zone, zd);
    }
    return zd;
  }

  pricedWithNeighbours(clientId: string): boolean {
    return (this.rulesetFor(clientId)?.overtime.length ?? 0) > 0;
  }

  batchKey(input: PricingInput): string {
    const { entry, client } = input;
    const rs = this.rulesetFor(client.id);
    if (!rs || rs.overtime.length === 0) return `${client.id}|${entry.sourceId}:${entry.externalId}`;
    const zd = this.zoneDays(rs, client.timeZone);
    const day = entry.start ? zd.at(parseIsoUtc(entry.start)) : zd.byDate(entry.date);
    const weekStart = zd.byDayNum(day.dayNum - ((day.weekday - rs.weekStart + 7) % 7));
    return `${client.id}|${workerKey(entry)}|${weekStart.date}`;
  }

  quantityRounding(clientId: string): QuantityRounding | undefined {
    const t = this.rulesetFor(clientId)?.timeRounding;
    if (!t || t.scope === 'entry') return undefined;
    return { scope: t.scope, incrementMinutes: t.incrementMinutes, direction: t.direction };
  }

  invoiceAdjustments(clientId: string, period: { start: string; end: string }, lines: readonly BilledLine[]): RatedLine[] {
    const rs = this.rulesetFor(clientId);
    if (!rs?.minInvoice || lines.length === 0) return [];
    const total = roundHalfUp(
      lines.reduce((acc, l) => acc.plus(l.amount), dec(0)),
      2,
    );
    const shortfall = dec(rs.minInvoice).minus(total);
    if (shortfall.lte(0)) return [];
    const amount = shortfall.toFixed(2);
    return [
      {
        sourceId: 'hourbridge',
        externalId: `minimum:${clientId}:${period.start}`,
        piece: 0,
        kind: 'minimum',
        clientId,
        currency: lines[0]!.currency,
        date: period.end,
        hoursRaw: '0',
        quantity: '1',
        unitPrice: amount,
        amount,
        rule: 'minimum:invoice',
        label: 'Minimum invoice amount',
        worker: '',
        trace: [
          {
            rule: `${rs.name}.minimums.invoiceAmount`,
            kind: 'minimum',
            applied: true,
            detail: `invoice total ${total.toFixed(2)} is below the minimum ${dec(rs.minInvoice).toFixed(2)}: ${amount} added`,
            value: amount,
          },
        ],
      },
    ];
  }

  price(inputs: ReadonlyArray<PricingInput>): PricingOutcome[] {
    const outcomes: PricingOutcome[] = new Array(inputs.length);
    const works: Work[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!;
      try {
        const r = this.prepare(input, i);
        if ('ok' in r) outcomes[i] = r;
        // Without overtime an entry is priced on its own: finish it now, so its working state
        // dies young instead of surviving the whole batch (that survival was most of the GC cost).
        else if (r.rs.overtime.length === 0) outcomes[i] = this.finish(r);
        else works.push(r);
      } catch (err) {
        if (!(err instanceof PriceFailure)) throw err;
        outcomes[i] = {
          sourceId: input.entry.sourceId,
          externalId: input.entry.externalId,
          ok: false,
          reason: err.reason,
          field: err.field,
        };
      }
    }
    this.applyOvertime(works);
    for (const w of works) {
      try {
        outcomes[w.index] = this.finish(w);
      } catch (err) {
        if (!(err instanceof PriceFailure)) throw err;
        outcomes[w.index] = {
          sourceId: w.input.entry.sourceId,
          externalId: w.input.entry.externalId,
          ok: false,
          reason: err.reason,
          field: err.field,
        };
      }
    }
    return outcomes;
  }

  // ---- per entry -------------------------------------------------------------------------

  private prepare(input: PricingInput, index: number): Work | PricingOutcome {
    const { entry, client } = input;
    const plan = this.plan(client.id);
    if (!plan) throw new PriceFailure(`client "${client.id}" is not priced by any rate ruleset (rates.rulesets.*.clients)`, 'client');
    const { rs, memo } = plan;

    if (!entry.billable)
      return { sourceId: entry.sourceId, externalId: entry.externalId, ok: true, lines: [], excluded: 'marked non-billable in the source' };
    if (entry.billedAtSource)
      return {
        sourceId: entry.sourceId,
        externalId: entry.externalId,
        ok: true,
        lines: [],
        excluded: 'already invoiced in the source system',
      };

    // Only the dimensions some rule of the ruleset matches on are normalised (matches() reads
    // no other): lower-casing every name of every entry was a measurable share of the cost.
    // The object is the engine's scratch, overwritten per entry: no rule keeps it.
    const use = memo.dims;
    const dims = this.dims;
    dims.client = plan.client;
    dims.project = use.project ? this.norm(entry.project) : undefined;
    dims.task = use.task ? this.norm(entry.task) : undefined;
    dims.workerId = use.worker ? this.norm(entry.worker.id) : undefined;
    dims.workerName = use.worker ? this.norm(entry.worker.name)! : '';
    dims.role = use.role ? this.norm(entry.role) : undefined;
    dims.tags =
      use.tags && entry.tags !== undefined && entry.tags.length > 0 ? new Set(entry.tags.map((t) => t.trim().toLowerCase())) : NO_TAGS;
    dims.source = use.source ? entry.sourceId.toLowerCase() : '';
    for (const nb of rs.nonBillable) {
      if (nb.project && !nb.project.test(entry.project ?? '')) continue;
      if (nb.task && !nb.task.test(entry.task ?? '')) continue;
      if (nb.match && !matches(nb.match, dims)) continue;
      const excluded =
        memo.excluded.get(nb) ?? memoSet(memo.excluded, nb, `non-billable by rule "${nb.id}"${nb.reason ? `: ${nb.reason}` : ''}`);
      return { sourceId: entry.sourceId, externalId: entry.externalId, ok: true, lines: [], excluded };
    }

    const candidates = baseCandidates(rs, memo, dims);
    if (candidates.length === 0) {
      throw new PriceFailure(`no base rate in ruleset "${rs.name}" matches this entry (${describeDims(entry, client.id)})`);
    }

    const zd = this.zoneDays(rs, client.timeZone);
    let steps = NO_STEPS;
    const hasTimes = entry.start !== undefined;
    let a: number;
    let b: number;
    if (hasTimes) {
      // The duration is what is billed, anchored at the start: the priced interval is
      // start → start + duration, whatever `end` says (mappers set `end` to that instant; an
      // entry stored before they did may carry a source end that disagrees, e.g. Harvest's
      // display times). Time bands, surcharges and overtime are placed on this interval.
      a = this.instant(entry.start!);
      b = a + entry.durationSeconds * 1000;
    } else {
      a = 0;
      b = entry.durationSeconds * 1000;
    }
    const gross = b - a;
    const shiftDay = hasTimes ? zd.at(a) : zd.byDate(entry.date);

    // Breaks: recorded, else the statutory automatic break for the shift length.
    let brk = entry.breakSeconds * 1000;
    if (brk > 0) {
      const key = hasTimes ? brk : -1 - brk;
      steps = [memo.breakSteps.get(key) ?? memoSet(memo.breakSteps, key, breakStep(rs, brk, hasTimes))];
    } else if (rs.statutory.length > 0) {
      let idx = rs.statutory.length - 1;
      while (idx >= 0 && !(gross > rs.statutory[idx]!.afterMs)) idx--;
      if (idx >= 0) {
        brk = rs.statutory[idx]!.ms;
        const key = hasTimes ? idx : -1 - idx;
        steps = [memo.statutorySteps.get(key) ?? memoSet(memo.statutorySteps, key, statutoryStep(rs, idx, hasTimes))];
      } else {
        // Keyed by the shift length in whole minutes: hoursText shows no finer.
        const key = 1e6 + Math.round(gross / 60_000);
        steps = [memo.statutorySteps.get(key) ?? memoSet(memo.statutorySteps, key, noStatutoryStep(rs, gross))];
      }
    }
    if (brk > gross) brk = gross;

    const baseAtStart = this.resolveBase(rs, candidates, shiftDay, entry, client);
    // Without overtime, price() finishes the entry right after prepare and nothing keeps its
    // working state: one reused object serves all such entries (one object fewer per entry).
    let work = rs.overtime.length === 0 ? this.soloWork : undefined;
    if (work === undefined) {
      work = {
        index,
        input,
        rs,
        memo,
        zd,
        matchMask: 0,
        onlyIfMask: 0,
        entryMask: 0,
        startMs: hasTimes ? a : shiftDay.startMs,
        shiftDay,
        workerKey: rs.overtime.length > 0 ? `${client.id}|${workerKey(entry)}` : '',
        pieces: NO_PIECES,
        steps,
        netMs: gross - brk,
      };
      if (rs.overtime.length === 0) this.soloWork = work;
    } else {
      // Every field, as in the literal above.
      work.index = index;
      work.input = input;
      work.rs = rs;
      work.memo = memo;
      work.zd = zd;
      work.matchMask = 0;
      work.onlyIfMask = 0;
      work.entryMask = 0;
      work.startMs = hasTimes ? a : shiftDay.startMs;
      work.shiftDay = shiftDay;
      work.workerKey = '';
      work.pieces = NO_PIECES;
      work.steps = steps;
      work.netMs = gross - brk;
    }

    if (baseAtStart.rule.kind === 'fixed') {
      work.pieces = [
        {
          s: work.startMs,
          len: gross - brk,
          raw: gross - brk,
          day: shiftDay,
          seg: -1,
          mask: 0,
          blocked: 0,
          base: baseAtStart,
          kind: 'fixed',
        },
      ];
      return work;
    }

    // Entry-level surcharge filters: match and shift conditions.
    let matchMask = 0;
    let onlyIfMask = 0;
    for (const s of rs.surcharges) {
      const bit = 1 << s.bit;
      if (!s.match || matches(s.match, dims)) matchMask |= bit;
      if (!s.onlyIf) onlyIfMask |= bit;
      else if (hasTimes) {
        const startMin = minutesInDay(zd, shiftDay, a);
        const endDay = zd.at(b > a ? b - 1 : b);
        const endMin = endDay.dayNum > shiftDay.dayNum ? 1440 + (b - endDay.startMs) / 60_000 : minutesInDay(zd, shiftDay, b);
        const { startsBefore, endsAfter } = s.onlyIf;
        if ((startsBefore !== undefined && startMin < startsBefore) || (endsAfter !== undefined && endMin > endsAfter)) onlyIfMask |= bit;
      }
    }
    work.matchMask = matchMask;
    work.onlyIfMask = onlyIfMask;
    work.entryMask = matchMask & onlyIfMask;

    // Worked intervals after the break: [x1, y1), and [x2, y2) when the break splits the shift.
    let x1 = a;
    let y1 = b - brk;
    let x2 = 0;
    let y2 = 0;
    if (hasTimes && brk !== 0) {
      if (rs.breakPosition === 'start') {
        x1 = a + brk;
        y1 = b;
      } else if (rs.breakPosition === 'middle') {
        y1 = a + Math.floor((gross - brk) / 2);
        x2 = y1 + brk;
        y2 = b;
      }
    }

    let lastDay = shiftDay.dayNum;
    let lastBase = baseAtStart;
    if (hasTimes) {
      // Split at local midnight and band edges (as splitInterval, without its temporary objects).
      for (let k = 0; k < 2; k++) {
        let t = k === 0 ? x1 : x2;
        const y = k === 0 ? y1 : y2;
        while (t < y) {
          const day = zd.at(t);
          const seg = segmentAt(day, t);
          const e = Math.min(segmentEnd(day, seg), y);
          if (day.dayNum !== lastDay) {
            lastDay = day.dayNum;
            lastBase = this.resolveBase(rs, candidates, day, entry, client);
          }
          const mask = this.dayMask(rs, day) & rs.segMask[seg]! & work.entryMask;
          addPiece(work, { s: t, len: e - t, raw: e - t, day, seg, mask, blocked: 0, base: lastBase, kind: 'time' });
          t = e;
        }
      }
    } else if (gross - brk > 0) {
      const mask = this.dayMask(rs, shiftDay) & rs.noBandMask & work.entryMask;
      work.pieces = [
        {
          s: shiftDay.startMs,
          len: gross - brk,
          raw: gross - brk,
          day: shiftDay,
          seg: -1,
          mask,
          blocked: 0,
          base: baseAtStart,
          kind: 'time',
        },
      ];
    }

    this.roundTime(work);
    this.countBlocks(work);
    return work;
  }

  private resolveBase(rs: CRuleset, candidates: CBase[], day: DayInfo, entry: TimeEntry, client: PricingInput['client']): BaseRate {
    let best: CBase | undefined;
    for (const c of candidates) {
      if (day.dayNum < c.fromDay || day.dayNum > c.untilDay) continue;
      if (!best) best = c;
      else if (c.match.spec === best.match.spec) {
        throw new PriceFailure(
          `base rules "${best.id}" and "${c.id}" tie for this entry on ${day.date} (equally specific: ${best.match.text} / ${c.match.text}); make one more specific`,
        );
      } else break;
    }
    if (!best) {
      const names = candidates.map((c) => `"${c.id}"${inForce(c.fromText, c.untilText)}`).join(', ');
      throw new PriceFailure(`no base rate in ruleset "${rs.name}" is in force on ${day.date}; matching rules: ${names}`, 'date');
    }
    return this.baseRate(rs, best, day, entry, client);
  }

  /** Base rates are few; cache them so the hot path allocates no Decimal or text per entry. */
  private baseRate(rs: CRuleset, rule: CBase, day: DayInfo, entry: TimeEntry, client: PricingInput['client']): BaseRate {
    // A source's rate is billed as it stands, never converted: one in another currency than the
    // client's invoices cannot be priced (checked before the cache, whose key has no currency).
    if (
      rule.kind === 'source' &&
      entry.sourceRate !== undefined &&
      entry.sourceCurrency !== undefined &&
      entry.sourceCurrency.toUpperCase() !== client.currency.toUpperCase()
    ) {
      throw new PriceFailure(
        `base rule "${rule.id}" bills the source's rate, but the source gives it in ${entry.sourceCurrency.toUpperCase()} (${entry.sourceRate} per hour) and client "${client.id}" is invoiced in ${client.currency}; rates are not converted: set the rate in ${client.currency} at the source, or give this client a base rule with an hourly rate`,
        'sourceCurrency',
      );
    }
    if (rule.kind === 'hourly' || rule.kind === 'fixed') {
      let hit = this.plainBase.get(rule);
      if (!hit) {
        hit = this.makeBaseRate(rs, rule, day, entry);
        this.plainBase.set(rule, hit);
      }
      return hit;
    }
    // The rate depends on the entry: its source rate, or its cost/pay rate for markup.
    const key =
      rule.kind === 'source'
        ? `${rs.name}|${rule.idx}|source|${entry.sourceRate ?? ''}`
        : `${rs.name}|${rule.idx}|${entry.costRate ?? ''}|${entry.costRate === undefined ? `${day.dayNum}|${entry.worker.id ?? ''}|${entry.worker.name}|${entry.role ?? ''}|${entry.project ?? ''}|${entry.task ?? ''}|${entry.tags.join(',')}|${entry.sourceId}` : ''}`;
    let hit = this.baseCache.get(key);
    if (!hit) {
      hit = remember(this.baseCache, key, this.makeBaseRate(rs, rule, day, entry), 50_000);
    }
    return hit;
  }

  private makeBaseRate(rs: CRuleset, rule: CBase, day: DayInfo, entry: TimeEntry): BaseRate {
    const period = inForce(rule.fromText, rule.untilText);
    const why = `(most specific match: ${rule.match.text}${period})`;
    const make = (rate: string, kind: 'base' | 'markup', detail: (rateText: string) => string): BaseRate => {
      const rateInt = toScaled(rate, rs.pDp);
      const rateText = formatScaled(rateInt, rs.pDp);
      return {
        id: this.nextBaseId++,
        prices: new Map(),
        traces: new Map(),
        rule,
        rateInt,
        rateText,
        step: { rule: rule.id, kind, applied: true, detail: detail(rateText), value: rateText },
      };
    };
    if (rule.kind === 'hourly' || rule.kind === 'fixed') {
      return make(rule.value, 'base', (t) => `base rate ${rule.kind === 'fixed' ? `fixed ${t} per shift` : `${t} per hour`} ${why}`);
    }
    if (rule.kind === 'source') {
      if (entry.sourceRate === undefined) {
        throw new PriceFailure(`base rule "${rule.id}" bills the source's rate, but the entry carries none (sourceRate)`, 'sourceRate');
      }
      return make(
        roundHalfUp(dec(entry.sourceRate), rs.pDp).toFixed(rs.pDp),
        'base',
        (t) => `base rate ${t} per hour, as the source system rates this entry ${why}`,
      );
    }
    let pay = entry.costRate;
    let from = "the entry's cost rate";
    if (pay === undefined) {
      const dims: EntryDims = {
        client: '',
        workerId: norm(entry.worker.id),
        workerName: norm(entry.worker.name)!,
        role: norm(entry.role),
        project: norm(entry.project),
        task: norm(entry.task),
        tags: new Set(entry.tags.map((t) => t.toLowerCase())),
        source: entry.sourceId.toLowerCase(),
      };
      let best: (typeof rs.payRates)[number] | undefined;
      for (const p of rs.payRates) {
        if (day.dayNum < p.fromDay || day.dayNum > p.untilDay) continue;
        if (!matches({ ...p.match, client: undefined }, dims)) continue;
        if (!best || p.match.spec > best.match.spec) best = p;
      }
      if (!best) {
        throw new PriceFailure(
          `markup rule "${rule.id}" needs a pay rate: the entry has no costRate and no payRates entry of ruleset "${rs.name}" matches worker/role`,
          'costRate',
        );
      }
      pay = best.rate;
      from = `pay rate for ${best.match.text} (payRates[${best.idx}])`;
    }
    const payText = pay;
    return make(
      roundHalfUp(dec(payText).times(rule.value), rs.pDp).toFixed(rs.pDp),
      'markup',
      (t) => `bill rate ${t} per hour = ${from} ${payText} × markup ${rule.value} ${why}`,
    );
  }

  private dayMask(rs: CRuleset, day: DayInfo): number {
    // The hit path stays apart from makeDayMask: its closure would allocate a context per call.
    return day.dayMask ?? this.makeDayMask(rs, day);
  }

  private makeDayMask(rs: CRuleset, day: DayInfo): number {
    const holiday = rs.holidays ? rs.holidays.nameOf(day.date) : null;
    let mask = 0;
    for (const s of rs.surcharges) {
      if (s.days !== 0 && (s.days & (1 << day.weekday)) === 0) continue;
      if (s.dates && !s.dates.some((r) => day.dayNum >= r.from && day.dayNum <= r.until)) continue;
      if (s.holiday !== undefined && (holiday !== null) !== s.holiday) continue;
      mask |= 1 << s.bit;
    }
    day.holiday = holiday;
    day.dayMask = mask;
    return mask;
  }

  /** Per-entry time rounding: the difference is taken from / added to the end of the shift. */
  private roundTime(w: Work): void {
    const t = w.rs.timeRounding;
    if (t?.scope !== 'entry' || w.pieces.length === 0) return;
    const total = w.netMs;
    const rounded = roundMs(total, t.incMs, t.direction);
    // The step is a function of the net time alone (the ruleset fixes increment and direction).
    const roundingSteps = w.memo.roundingSteps;
    w.steps = withStep(w.steps, roundingSteps.get(total) ?? memoSet(roundingSteps, total, roundingStep(t, total, rounded)));
    if (rounded === total) return;
    let delta = rounded - total;
    if (delta > 0) {
      w.pieces[w.pieces.length - 1]!.len += delta;
    } else {
      for (let i = w.pieces.length - 1; i >= 0 && delta < 0; i--) {
        const p = w.pieces[i]!;
        const take = Math.min(p.len, -delta);
        p.len -= take;
        delta += take;
      }
    }
  }

  /** Block counting: a surcharge with blockMinutes covers only whole blocks of its time per entry. */
  private countBlocks(w: Work): void {
    for (const s of w.rs.surcharges) {
      if (s.blockMs === 0) continue;
      const bit = 1 << s.bit;
      let total = 0;
      for (const p of w.pieces) if (p.mask & bit) total += p.len;
      let allowed = Math.floor(total / s.blockMs) * s.blockMs;
      if (allowed === total) continue;
      const out: Piece[] = [];
      for (const p of w.pieces) {
        if (!(p.mask & bit) || p.len === 0) {
          out.push(p);
        } else if (allowed >= p.len) {
          allowed -= p.len;
          out.push(p);
        } else if (allowed > 0) {
          const [first, second] = splitPiece(p, allowed);
          second.mask &= ~bit;
          second.blocked |= bit;
          allowed = 0;
          out.push(first, second);
        } else {
          out.push({ ...p, mask: p.mask & ~bit, blocked: p.blocked | bit });
        }
      }
      w.pieces = out;
    }
  }

  // ---- per batch -------------------------------------------------------------------------

  /** Overtime: hours beyond daily/weekly thresholds, per worker, in chronological order. */
  private applyOvertime(works: Work[]): void {
    const withOt = works.filter((w) => w.rs.overtime.length > 0);
    if (withOt.length === 0) return;
    withOt.sort(
      (x, y) =>
        x.startMs - y.startMs ||
        cmp(x.input.entry.sourceId, y.input.entry.sourceId) ||
        cmp(x.input.entry.externalId, y.input.entry.externalId),
    );
    const counters = new Map<string, number>();
    for (const w of withOt) {
      const rs = w.rs;
      const weekStart = w.shiftDay.dayNum - ((w.shiftDay.weekday - rs.weekStart + 7) % 7);
      const keys = rs.overtime.map((o) => (o.per === 'day' ? `${w.workerKey}|d|${w.shiftDay.dayNum}` : `${w.workerKey}|w|${weekStart}`));
      const out: Piece[] = [];
      for (const p of w.pieces) {
        if (p.kind === 'fixed') {
          for (const k of new Set(keys)) counters.set(k, (counters.get(k) ?? 0) + p.len);
          out.push(p);
          continue;
        }
        const before = keys.map((k) => counters.get(k) ?? 0);
        const cuts = new Set<number>();
        rs.overtime.forEach((o, i) => {
          const off = o.afterMs! - before[i]!;
          if (off > 0 && off < p.len) cuts.add(off);
        });
        let rest = p;
        let done = 0;
        for (const cut of [...cuts].sort((x, y) => x - y)) {
          const [first, second] = splitPiece(rest, cut - done);
          out.push(this.markOvertime(first, rs.overtime, before, done));
          done = cut;
          rest = second;
        }
        out.push(this.markOvertime(rest, rs.overtime, before, done));
        for (const k of new Set(keys)) counters.set(k, (counters.get(k) ?? 0) + p.len);
      }
      w.pieces = out;
    }
  }

  private markOvertime(p: Piece, rules: CAdd[], before: number[], offset: number): Piece {
    rules.forEach((o, i) => {
      if (before[i]! + offset >= o.afterMs! && p.len > 0) p.mask |= 1 << o.bit;
    });
    return p;
  }

  // ---- lines -----------------------------------------------------------------------------

  private finish(w: Work): PricingOutcome {
    const { entry, client } = w.input;
    const rs = w.rs;
    const memo = w.memo;
    let pieces = w.pieces;
    for (const p of pieces) {
      if (p.len <= 0) {
        pieces = pieces.filter((q) => q.len > 0);
        break;
      }
    }

    // Minimum per shift (call-out): the shortfall is billed at the base rate of the shift start.
    if (rs.minShiftMs > 0 && pieces.length > 0 && pieces[0]!.kind !== 'fixed') {
      const billed = pieces.reduce((s, p) => s + p.len, 0);
      if (billed < rs.minShiftMs) {
        const first = pieces[0]!;
        const last = pieces[pieces.length - 1]!;
        pieces.push({
          s: last.s + last.raw,
          len: rs.minShiftMs - billed,
          raw: 0,
          day: first.day,
          seg: -1,
          mask: 0,
          blocked: 0,
          base: first.base,
          kind: 'minimum',
        });
        // Not memoised: it names the base rate, and call-out minimums are rare.
        w.steps = withStep(w.steps, {
          rule: `${rs.name}.minimums.shiftHours`,
          kind: 'minimum',
          applied: true,
          detail: `shift billed ${hoursText(billed)}, below the minimum of ${rs.minShiftText} h per shift: ${hoursText(rs.minShiftMs - billed)} added at the base rate ${first.base.rateText}`,
          value: hoursText(rs.minShiftMs - billed),
        });
      } else {
        // Keyed by whole minutes: hoursText shows no finer.
        const key = Math.round(billed / 60_000);
        w.steps = withStep(
          w.steps,
          memo.minShiftSteps.get(key) ??
            memoSet(memo.minShiftSteps, key, {
              rule: `${rs.name}.minimums.shiftHours`,
              kind: 'minimum',
              applied: false,
              detail: `shift billed ${hoursText(billed)}, not below the minimum of ${rs.minShiftText} h`,
            }),
        );
      }
    }

    // Merge neighbours that price the same on the same date (band edges that changed nothing).
    if (pieces.length > 1) pieces = mergePieces(pieces);

    // Exact size: one line per piece and per extra (a push would grow the array to 17 slots).
    const extras = entry.extras;
    const lines: RatedLine[] = new Array(pieces.length + (extras === undefined ? 0 : extras.length));
    const qDp = rs.qDp;
    const qScale = POW10[qDp]!;
    let cum = 0;
    let qCum = 0;
    for (let n = 0; n < pieces.length; n++) {
      const p = pieces[n]!;
      let q: number;
      if (p.kind === 'fixed') q = qScale;
      else {
        cum += p.len;
        const qc = divHalfUp(cum * qScale, 3_600_000);
        q = qc - qCum;
        qCum = qc;
      }
      const info = p.kind === 'fixed' ? this.fixedInfo(p.base) : this.priceInfo(rs, p.base, p.mask);
      let trace = p.kind === 'fixed' ? fixedTrace(p.base) : this.traceFor(w, p, info);
      if (n === 0 && w.steps.length > 0) trace = this.concatTrace(memo, w.steps, trace);
      const hasTimes = entry.start !== undefined && p.kind !== 'minimum';
      lines[n] = {
        sourceId: entry.sourceId,
        externalId: entry.externalId,
        piece: n,
        kind: p.kind === 'fixed' ? 'fee' : 'time',
        clientId: client.id,
        currency: client.currency,
        date: p.day.date,
        start: hasTimes ? isoInstantOf(p.s) : undefined,
        end: hasTimes ? isoInstantOf(p.s + p.raw) : undefined,
        hoursRaw: this.hoursRawText.get(p.raw) ?? memoSet(this.hoursRawText, p.raw, formatScaled(divHalfUp(p.raw, 360), 4)),
        quantity: memo.quantityText.get(q) ?? memoSet(memo.quantityText, q, formatScaled(q, qDp)),
        unitPrice: info.unitText,
        amount: info.amounts.get(q) ?? memoSet(info.amounts, q, scaledProduct(q, qDp, info.unitInt, rs.pDp)),
        rule: p.kind === 'minimum' ? `${info.rule}+minimum` : info.rule,
        label: p.kind === 'minimum' ? `${info.label} (minimum ${rs.minShiftText} h per shift)` : info.label,
        worker: entry.worker.name,
        project: entry.project,
        task: entry.task,
        role: entry.role,
        trace,
      };
    }

    if (extras !== undefined && extras.length > 0) {
      const firstDate = pieces[0]?.day.date ?? w.shiftDay.date;
      for (let i = 0; i < extras.length; i++) lines[pieces.length + i] = this.extraLine(w, extras[i]!, i, pieces.length + i, firstDate);
    }

    if (lines.length === 0) {
      return {
        sourceId: entry.sourceId,
        externalId: entry.externalId,
        ok: true,
        lines,
        excluded: w.netMs === 0 ? 'no worked time after breaks' : 'no billable time after rounding',
      };
    }
    return { sourceId: entry.sourceId, externalId: entry.externalId, ok: true, lines };
  }

  private extraLine(w: Work, x: EntryExtra, i: number, piece: number, firstDate: string): RatedLine {
    const { entry, client } = w.input;
    const rs = w.rs;
    const conf = rs.extras.get(x.kind);
    const unit = x.unitPrice ?? conf?.unitPrice;
    if (unit === undefined) {
      throw new PriceFailure(
        `extra "${x.kind}" has no unit price: give it one in the source or configure rates.rulesets.${rs.name}.extras kind "${x.kind}"`,
        `extras[${i}].unitPrice`,
      );
    }
    // Decimal arithmetic and the trace sentence depend only on these: computed once per combination.
    const key = `${x.kind}\u0000${x.quantity}\u0000${x.unitPrice === undefined ? '' : `s${x.unitPrice}`}\u0000${unit}`;
    let priced = w.memo.extras.get(key);
    if (priced === undefined) {
      const amount = dec(x.quantity).times(unit);
      priced = memoSet(w.memo.extras, key, {
        amount: amount.toFixed(Math.max(amount.decimalPlaces(), 2)),
        trace: [
          {
            rule: `extra:${x.kind}`,
            kind: 'extra' as const,
            applied: true,
            detail: `${x.quantity} × ${unit} ${x.unitPrice !== undefined ? '(unit price from the source)' : `(unit price from rates.rulesets.${rs.name}.extras)`}`,
            value: amount.toFixed(2),
          },
        ],
      });
    }
    return {
      sourceId: entry.sourceId,
      externalId: entry.externalId,
      piece,
      kind: conf?.line ?? 'expense',
      clientId: client.id,
      currency: client.currency,
      date: firstDate,
      hoursRaw: '0',
      quantity: x.quantity,
      unitPrice: unit,
      amount: priced.amount,
      rule: `extra:${x.kind}`,
      label: conf?.label ?? x.description ?? x.kind,
      taxType: x.taxType ?? conf?.taxType,
      worker: entry.worker.name,
      project: entry.project,
      task: entry.task,
      role: entry.role,
      trace: priced.trace,
    };
  }

  private fixedInfo(base: BaseRate): PriceInfo {
    let info = base.prices.get(-1);
    if (!info) {
      info = {
        unitInt: base.rateInt,
        unitText: base.rateText,
        rule: base.rule.id,
        label: ' (fixed rate per shift)',
        applied: [],
        amounts: new Map(),
      };
      base.prices.set(-1, info);
    }
    return info;
  }

  private priceInfo(rs: CRuleset, base: BaseRate, mask: number): PriceInfo {
    // The hit path stays apart from makePriceInfo: its closures would allocate a context per call.
    return base.prices.get(mask) ?? this.makePriceInfo(rs, base, mask);
  }

  private makePriceInfo(rs: CRuleset, base: BaseRate, mask: number): PriceInfo {
    const baseDec = dec(base.rateText);
    const active = rs.adds.filter((a) => mask & (1 << a.bit));
    const inc = (a: CAdd) => (a.pct ? baseDec.times(a.pct).div(100) : a.abs!);
    let applied = active;
    let suppressedBy: CAdd | undefined;
    if (rs.stacking === 'max' && active.length > 1) {
      let best = active[0]!;
      for (const a of active) if (inc(a).gt(inc(best))) best = a;
      applied = [best];
      suppressedBy = best;
    }
    let unit = baseDec;
    for (const a of applied) unit = unit.plus(inc(a));
    const unitText = roundHalfUp(unit, rs.pDp).toFixed(rs.pDp);
    const info: PriceInfo = {
      unitInt: toScaled(unitText, rs.pDp),
      unitText,
      rule: [base.rule.id, ...applied.map((a) => a.id)].join('+'),
      label: applied.length ? ` (${applied.map((a) => `${a.label} ${a.valueText}`).join(', ')})` : '',
      applied,
      suppressedBy,
      amounts: new Map(),
    };
    base.prices.set(mask, info);
    return info;
  }

  /** The trace of one piece; memoised on everything it depends on (it never names the date). */
  private traceFor(w: Work, p: Piece, info: PriceInfo): TraceStep[] {
    const key = traceKey(w, p, w.rs);
    // The hit path stays apart from makeTrace: its closures would allocate a context per call.
    return p.base.traces.get(key) ?? this.makeTrace(w, p, info, key);
  }

  private makeTrace(w: Work, p: Piece, info: PriceInfo, key: number | string): TraceStep[] {
    const rs = w.rs;
    const cache = p.base.traces;
    const trace = [p.base.step];
    for (const a of rs.adds) {
      const bit = 1 << a.bit;
      const isApplied = info.applied.includes(a);
      let applied = false;
      let detail: string;
      if (p.kind === 'minimum') {
        if (a.kind === 'overtime') continue;
        detail = 'not applied to minimum call-out hours (billed at the base rate)';
      } else if (isApplied) {
        applied = true;
        detail =
          a.kind === 'overtime'
            ? `applies: beyond ${a.afterText} h per ${a.per} for this worker`
            : `applies: ${describeConditions(a, p, rs)}`;
      } else if (p.mask & bit) {
        detail = `not applied: stacking "max" takes only the highest surcharge (${info.suppressedBy?.id} ${info.suppressedBy?.valueText})`;
      } else if (a.kind === 'overtime') {
        detail = `not applied: within the first ${a.afterText} h per ${a.per} for this worker`;
      } else if (!(w.matchMask & bit)) {
        detail = `skipped: the entry does not match ${a.match!.text}`;
      } else if (!(w.onlyIfMask & bit)) {
        detail = w.input.entry.start
          ? `skipped: the shift neither ${a.onlyIf!.text}`
          : 'skipped: the entry has no start/end time to check the shift condition';
      } else if (a.days !== 0 && !(a.days & (1 << p.day.weekday))) {
        detail = `skipped: ${WEEKDAY_NAMES[p.day.weekday]} is not one of ${a.daysText}`;
      } else if (a.dates && !a.dates.some((r) => p.day.dayNum >= r.from && p.day.dayNum <= r.until)) {
        detail = `skipped: the date is outside ${a.dates.map((d) => d.text).join(', ')}`;
      } else if (a.holiday === true && p.day.holiday === null) {
        detail = `skipped: not a public holiday (${rs.holidayText})`;
      } else if (a.holiday === false && p.day.holiday !== null) {
        detail = `skipped: ${p.day.holiday} is a public holiday`;
      } else if (a.band && p.seg === -1) {
        detail = `skipped: the entry has no start/end time, so the ${a.band.text} band cannot apply`;
      } else if (a.band && p.blocked & bit) {
        detail = `skipped: beyond the last whole ${a.blockMs / 60000}-min block of ${a.id} time in this shift`;
      } else if (a.band) {
        detail = `skipped: this piece lies outside the ${a.band.text} band`;
      } else if (p.blocked & bit) {
        detail = `skipped: beyond the last whole ${a.blockMs / 60000}-min block of ${a.id} time in this shift`;
      } else {
        detail = 'skipped';
      }
      trace.push({ rule: a.id, kind: a.kind, applied, detail, value: a.valueText });
    }
    if (p.kind === 'minimum')
      trace.push({
        rule: 'minimum',
        kind: 'minimum',
        applied: true,
        detail: `call-out minimum of ${rs.minShiftText} h per shift`,
        value: rs.minShiftText,
      });
    return remember(cache, key, trace, 10_000);
  }
}

const KIND_NO: Record<Piece['kind'], number> = { time: 0, minimum: 1, fixed: 2 };

/**
 * Memo key of a piece's trace: everything it depends on. With at most 8 surcharge/overtime
 * bits and no date-dependent wording, every part fits in one exact integer (46 bits), which
 * avoids building a string per piece; otherwise the text key (never equal to a number).
 */
function traceKey(w: Work, p: Piece, rs: CRuleset): number | string {
  const dayMask = p.day.dayMask;
  if (rs.adds.length <= 8 && !(rs.hasDates || p.day.holiday) && dayMask !== undefined) {
    return (
      ((((((p.mask * 256 + p.blocked) * 4 + KIND_NO[p.kind]) * 8 + p.day.weekday) * 256 + dayMask) * 2 + (p.seg === -1 ? 1 : 0)) * 256 +
        w.matchMask) *
        256 +
      w.onlyIfMask
    );
  }
  return `${p.mask}|${p.blocked}|${p.kind}|${p.day.weekday}|${p.day.dayMask}|${p.seg === -1 ? -1 : 0}|${w.matchMask}|${w.onlyIfMask}|${rs.hasDates || p.day.holiday ? p.day.dayNum : ''}`;
}

function roundingStep(t: NonNullable<CRuleset['timeRounding']>, total: number, rounded: number): TraceStep {
  if (rounded === total)
    return {
      rule: 'rounding',
      kind: 'rounding',
      applied: false,
      detail: `${hoursText(total)} is already a multiple of ${t.incrementMinutes} min`,
    };
  const detail = `${hoursText(total)} rounded ${t.direction === 'nearest' ? 'to the nearest' : t.direction} ${t.incrementMinutes} min → ${hoursText(rounded)}`;
  const delta = rounded - total;
  return delta > 0
    ? {
        rule: 'rounding',
        kind: 'rounding',
        applied: true,
        detail: `${detail} (added to the last piece)`,
        value: `+${Math.round(delta / 60000)} min`,
      }
    : {
        rule: 'rounding',
        kind: 'rounding',
        applied: true,
        detail: `${detail} (taken from the end of the shift)`,
        value: `-${Math.round(-delta / 60000)} min`,
      };
}

function inForce(from?: string, until?: string): string {
  if (from && until) return `, in force ${from} to ${until}`;
  if (from) return `, in force from ${from}`;
  if (until) return `, in force until ${until}`;
  return '';
}

function fixedTrace(base: BaseRate): TraceStep[] {
  return [
    base.step,
    {
      rule: base.rule.id,
      kind: 'info',
      applied: false,
      detail: 'fixed rates are per shift: time bands, surcharges, overtime and minimums do not apply',
    },
  ];
}

function describeConditions(a: CAdd, p: Piece, rs: CRuleset): string {
  const parts: string[] = [];
  if (a.days) parts.push(`${WEEKDAY_NAMES[p.day.weekday]} is one of ${a.daysText}`);
  if (a.band) parts.push(`inside the ${a.band.text} band`);
  if (a.dates) parts.push(`date within ${a.dates.map((d) => d.text).join(', ')}`);
  if (a.holiday === true) parts.push(`public holiday: ${p.day.holiday} (${rs.holidayText})`);
  if (a.holiday === false) parts.push('not a public holiday');
  if (a.match) parts.push(`entry matches ${a.match.text}`);
  if (a.onlyIf) parts.push(`the shift ${a.onlyIf.text}`);
  if (a.blockMs) parts.push(`counted in whole ${a.blockMs / 60000}-min blocks`);
  return parts.length ? parts.join('; ') : 'always';
}

function mergeable(prev: Piece, p: Piece): boolean {
  return (
    prev.kind === p.kind &&
    prev.kind === 'time' &&
    prev.day === p.day &&
    prev.mask === p.mask &&
    prev.blocked === p.blocked &&
    prev.base === p.base &&
    prev.s + prev.raw === p.s &&
    prev.len === prev.raw
  );
}

/** Neighbours that price the same on the same date, merged (the input array when nothing merges). */
function mergePieces(pieces: Piece[]): Piece[] {
  let i = 1;
  while (i < pieces.length && !mergeable(pieces[i - 1]!, pieces[i]!)) i++;
  if (i === pieces.length) return pieces;
  const merged: Piece[] = pieces.slice(0, i - 1);
  merged.push(pieces[i - 1]!);
  for (; i < pieces.length; i++) {
    const p = pieces[i]!;
    const prev = merged[merged.length - 1]!;
    if (mergeable(prev, p)) {
      merged[merged.length - 1] = { ...prev, len: prev.len + p.len, raw: prev.raw + p.raw, seg: prev.seg === p.seg ? prev.seg : -2 };
    } else merged.push(p);
  }
  return merged;
}

function splitPiece(p: Piece, at: number): [Piece, Piece] {
  const rawFirst = Math.min(p.raw, at);
  return [
    { ...p, len: at, raw: rawFirst },
    { ...p, s: p.s + rawFirst, len: p.len - at, raw: p.raw - rawFirst },
  ];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function workerKey(entry: TimeEntry): string {
  return (entry.worker.id ?? entry.worker.name).trim().toLowerCase();
}

function minutesInDay(zd: ZoneDays, day: DayInfo, ms: number): number {
  // Elapsed minutes equal wall-clock minutes except on DST days; ask luxon only then.
  if (day.endMs - day.startMs === DAY_MS) return (ms - day.startMs) / 60_000;
  return localMinutes(zd.zone, ms);
}

function breakStep(rs: CRuleset, ms: number, hasTimes: boolean): TraceStep {
  return {
    rule: 'break',
    kind: 'break',
    applied: true,
    detail: `recorded break of ${hoursText(ms)} deducted (${breakWhere(rs, hasTimes)})`,
    value: hoursText(ms),
  };
}

function statutoryStep(rs: CRuleset, idx: number, hasTimes: boolean): TraceStep {
  const rule = rs.statutory[idx]!;
  return {
    rule: `${rs.name}.breaks.statutory`,
    kind: 'break',
    applied: true,
    detail: `no break recorded: statutory break of ${rule.text} deducted (${breakWhere(rs, hasTimes)})`,
    value: hoursText(rule.ms),
  };
}

function noStatutoryStep(rs: CRuleset, gross: number): TraceStep {
  return {
    rule: `${rs.name}.breaks.statutory`,
    kind: 'break',
    applied: false,
    detail: `no break recorded and the shift (${hoursText(gross)}) is too short for a statutory break`,
  };
}

function breakWhere(rs: CRuleset, hasTimes: boolean): string {
  if (!hasTimes) return 'from the stated duration';
  return rs.breakPosition === 'middle' ? 'taken in the middle of the shift' : `taken at the ${rs.breakPosition} of the shift`;
}

function describeDims(entry: TimeEntry, clientId: string): string {
  const parts = [`client=${clientId}`];
  if (entry.project) parts.push(`project=${entry.project}`);
  if (entry.task) parts.push(`task=${entry.task}`);
  parts.push(`worker=${entry.worker.id ?? entry.worker.name}`);
  if (entry.role) parts.push(`role=${entry.role}`);
  if (entry.tags?.length) parts.push(`tags=${entry.tags.join('+')}`);
  parts.push(`source=${entry.sourceId}`);
  return parts.join(', ');
}

export function compileRates(config: RatesConfig, clients: ClientConfig[]): CompileResult {
  const issues: ConfigIssue[] = [];
  const rates = new RateEngine(config, clients, issues);
  return { rates, issues };
}

export { compileMatch };
