import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { expectWithMessage, describeIf } from '../support/runner';
import { z } from 'zod';
import pino, { type Logger } from 'pino';
import { Writable } from 'node:stream';
import type {
  ConnectorContext,
  Cursor,
  MapResult,
  RawRecord,
  ReadOptions,
  SourceConnector,
  SourcePage,
} from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import type { TimeEntry } from '../../src/domain/time-entry';
import { dec, roundHalfUp } from '../../src/domain/money';
import { ClientSchema } from '../../src/config/client.schema';
import { compileRates, ratesConfigSchema, type CompiledRates } from '../../src/rates/index';

/**
 * The conformance suite every API source passes. A connector's test file calls
 * `describeSourceConformance(name, harness)` with a harness that drives a fake of its API
 * (a local node:http server or nock). The suite never needs the ledger: it checks what the
 * connector hands the runtime (pages, cursors, deletions, reconcile windows, map results).
 */
export interface ListingFault {
  status: number;
  headers?: Record<string, string>;
  /** Consecutive listing requests that get this answer. */
  times: number;
  /** Listing requests let through before the fault starts. */
  after?: number;
}

export interface SourceHarness<C extends { id: string; kind: string }> {
  connector: SourceConnector<C>;
  /**
   * Starts the fake with its seed data: at least 5 valid, finished entries dated within the last
   * 20 days (so they lie in the default reconciliation window), last edited over an hour ago.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Config (YAML-shaped input) pointed at the fake: small pages (≤ 2) so listings span pages, fast retries. */
  config(opts?: { badCredentials?: boolean }): unknown;
  /** The secret values in config(), which must never appear in logs, cursors or errors. */
  secretValues(): string[];
  /** Edits one seeded entry in a way its TimeEntry shows (duration or notes); returns its id. */
  editEntry(): Promise<string>;
  /**
   * Edits only the duration of one seeded entry, as a user editing the hours in the vendor's UI
   * (Harvest `hours`, Toggl `duration`/`seconds`, Clockify `timeInterval.duration`): the start
   * and end times the API sends stay exactly as they were. Returns its id and the new duration.
   * Every API source (mode 'incremental') must provide it; a snapshot source whose duration is
   * its start–end span tests the equivalent in its own tests.
   */
  editDurationOnly?(): Promise<{ externalId: string; durationSeconds: number }>;
  /**
   * Adds the vendor's documented example record(s) (built from the example payload on the docs
   * page, cited in the harness) to the fake. Returns the page and, per record, the billed
   * duration in seconds the docs imply (null: documented as not billable or already invoiced).
   * Required of every API source, like editDurationOnly.
   */
  addDocumentedExample?(): Promise<{ docs: string; records: Array<{ externalId: string; billedSeconds: number | null }> }>;
  /** Deletes one seeded entry; returns its id. */
  deleteEntry(): Promise<string>;
  /** Adds a malformed record; returns its id and the canonical field the problem must name. */
  addInvalidEntry(): Promise<{ externalId: string; field: string }>;
  failListing(fault: ListingFault): void;
  clearFaults(): void;
  /** Listing requests the fake has answered (all statuses). */
  listingRequests(): number;
}

interface ReadResult {
  pages: SourcePage[];
  records: RawRecord[];
  ids: string[];
  finalCursor: Cursor | null;
  deleted: string[];
  reconcile: Array<{ from: string | null; to: string | null }>;
}

function logCapture(): { log: Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { log: pino({ level: 'trace' }, stream), text: () => chunks.join('') };
}

/**
 * A small rate card priced through the real rate engine: 100.00 an hour, hours to 4 decimals, no
 * time rounding, bands or minimums, so a line's quantity is its billed duration (seconds / 3600
 * to 4 places) and its amount that × 100.00.
 */
const PRICING_CLIENT = ClientSchema.parse({
  id: 'conformance',
  name: 'Conformance',
  currency: 'EUR',
  timeZone: 'UTC',
  destination: 'files',
});
const HOURLY = '100.00';
let pricingRates: CompiledRates | undefined;
function conformanceRates(): CompiledRates {
  if (!pricingRates) {
    const card = ratesConfigSchema.parse({
      rulesets: { conformance: { base: [{ id: 'flat', hourly: HOURLY }], rounding: { quantityDecimals: 4 } } },
    });
    const { rates, issues } = compileRates(card, [PRICING_CLIENT]);
    if (issues.length > 0) throw new Error(issues.map((i) => i.message).join('; '));
    pricingRates = rates;
  }
  return pricingRates;
}

export interface Priced {
  /** Per entry: billed hours and amount (rounded to cents, as its invoice line), or null when excluded. */
  lines: Map<string, { quantity: string; amount: string } | null>;
  /** The sum of the line amounts: the invoice total. */
  total: string;
}

export function priceEntries(entries: TimeEntry[]): Priced {
  const outcomes = conformanceRates().price(
    entries.map((entry) => ({
      entry: { ...entry, clientId: PRICING_CLIENT.id },
      client: { id: PRICING_CLIENT.id, currency: 'EUR', timeZone: PRICING_CLIENT.timeZone },
    })),
  );
  const lines = new Map<string, { quantity: string; amount: string } | null>();
  let total = dec(0);
  for (const o of outcomes) {
    if (!o.ok) throw new Error(`entry ${o.externalId} could not be priced: ${o.reason}`);
    if (o.lines.length === 0) {
      lines.set(o.externalId, null);
      continue;
    }
    const quantity = o.lines.reduce((q, l) => q.plus(l.quantity), dec(0));
    const amount = roundHalfUp(
      o.lines.reduce((a, l) => a.plus(l.amount), dec(0)),
      2,
    );
    lines.set(o.externalId, { quantity: quantity.toFixed(4), amount: amount.toFixed(2) });
    total = total.plus(amount);
  }
  return { lines, total: total.toFixed(2) };
}

/** What the card bills for a duration: hours to 4 decimals and their amount to the cent. */
export function expectedLine(seconds: number): { quantity: string; amount: string } {
  const quantity = roundHalfUp(dec(seconds).div(3600), 4);
  return { quantity: quantity.toFixed(4), amount: roundHalfUp(quantity.times(HOURLY), 2).toFixed(2) };
}

/** An entry with a start bills start → start + duration: its end is that instant. */
export function expectAnchored(e: TimeEntry): void {
  if (e.start === undefined) return;
  expectWithMessage(e.end, `entry ${e.externalId} has a start, so it has the end of its billed interval`).toBeDefined();
  expectWithMessage((Date.parse(e.end!) - Date.parse(e.start)) / 1000, `entry ${e.externalId}: end − start is the billed duration`).toBe(
    e.durationSeconds,
  );
}

function recordId(connectorMap: (r: RawRecord) => MapResult, r: RawRecord): string {
  if (r.ref.id) return r.ref.id;
  const m = connectorMap(r);
  if (m.kind === 'entry') return m.entry.externalId;
  return m.kind === 'invalid' && m.externalId ? m.externalId : JSON.stringify(r.ref);
}

export function describeSourceConformance<C extends { id: string; kind: string }>(name: string, harness: SourceHarness<C>): void {
  describeReconcileWindowConformance(name, harness);
  describe(`${name} source conformance`, () => {
    let logs: ReturnType<typeof logCapture>;
    const ctx = (now = new Date()): ConnectorContext => ({ log: logs.log, now, configDir: process.cwd() });
    const parse = (input: unknown): C => harness.connector.configSchema.parse(input);
    const mapper = (config: C) => (r: RawRecord) => harness.connector.map(r, config, ctx());

    async function readAll(
      config: C,
      cursors: Record<string, Cursor | undefined> = {},
      now = new Date(),
      sink?: SourcePage[],
    ): Promise<ReadResult> {
      const pages: SourcePage[] = sink ?? [];
      for await (const page of harness.connector.read(config, { cursors }, ctx(now))) pages.push(page);
      return summarise(config, pages);
    }
    function summarise(config: C, pages: SourcePage[]): ReadResult {
      const records = pages.flatMap((p) => p.records);
      const last = pages.at(-1);
      return {
        pages,
        records,
        ids: records.map((r) => recordId(mapper(config), r)),
        finalCursor: last ? last.cursor : null,
        deleted: pages.flatMap((p) => p.deletedExternalIds ?? []),
        reconcile: pages.flatMap((p) => (p.reconcile ? [p.reconcile] : [])),
      };
    }
    const cursorsOf = (r: ReadResult): Record<string, Cursor | undefined> => {
      const last = r.pages.at(-1);
      return last && r.finalCursor ? { [last.stream]: r.finalCursor } : {};
    };
    // Snapshot sources (a spreadsheet) fetch everything in one call; API sources page.
    const firstFaultAfter = harness.connector.mode === 'snapshot' ? 0 : 1;
    const stable = (m: MapResult) =>
      m.kind === 'entry' ? JSON.stringify({ ...m.entry, provenance: { ...m.entry.provenance, fetchedAt: '' } }) : m.kind;

    beforeEach(async () => {
      logs = logCapture();
      await harness.start();
    });
    afterEach(async () => {
      harness.clearFaults();
      await harness.stop();
    });

    it('Given the connector spec, when its config is parsed, then it is valid, has a JSON Schema and marks every secret', () => {
      const schema = harness.connector.configSchema;
      const config = parse(harness.config());
      expect(config.kind).toBe(harness.connector.kind);
      expect(() => z.toJSONSchema(schema, { io: 'input' })).not.toThrow();
      expect(harness.connector.secretFields.length).toBeGreaterThan(0);
      for (const path of harness.connector.secretFields) {
        const value = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], config);
        expectWithMessage(typeof value, `secret field ${path} is present in the config`).toBe('string');
        expect(harness.secretValues()).toContain(value);
      }
      expect(() => parse({ ...(harness.config() as object), unknownKey: 1 })).toThrow();
    });

    it('Given valid credentials, when checked, then the check passes and names the connector', async () => {
      const result = await harness.connector.check(parse(harness.config()), ctx());
      expect(result.ok).toBe(true);
      expect(result.message).toContain(harness.connector.kind);
    });

    it('Given credentials the API answers with 401, when checked, then the result is an auth failure naming the connector', async () => {
      const result = await harness.connector.check(parse(harness.config({ badCredentials: true })), ctx());
      expect(result).toMatchObject({ ok: false, category: 'auth' });
      expect(result.message).toContain(harness.connector.kind);
      expect(result.message).toMatch(/check/i);
      for (const s of harness.secretValues()) expect(result.message).not.toContain(s);
    });

    it('Given a full read, when read again incrementally from the final cursor, then no entry is duplicated and nothing unchanged comes back changed', async () => {
      const config = parse(harness.config());
      const full = await readAll(config);
      expect(full.ids.length).toBeGreaterThanOrEqual(5);
      expect(new Set(full.ids).size).toBe(full.ids.length);
      expect(full.pages.length).toBeGreaterThan(1);
      const before = new Map(full.records.map((r, i) => [full.ids[i]!, stable(harness.connector.map(r, config, ctx()))]));

      const again = await readAll(config, cursorsOf(full));
      expect(new Set(again.ids).size).toBe(again.ids.length);
      again.records.forEach((r, i) => {
        // Re-listed only to reconcile: identical content, so the ledger sees it as unchanged.
        expect(stable(harness.connector.map(r, config, ctx()))).toBe(before.get(again.ids[i]!));
      });
      if (again.records.length > 0) expect(again.reconcile.length).toBeGreaterThan(0);

      const text = logs.text() + JSON.stringify(full.pages.map((p) => p.cursor)) + JSON.stringify(again.pages.map((p) => p.cursor));
      for (const s of harness.secretValues()) expectWithMessage(text, 'a secret leaked into logs or cursors').not.toContain(s);
    });

    it('Given an entry edited after a full read, when read incrementally, then the edit shows up as a changed entry', async () => {
      const config = parse(harness.config());
      const full = await readAll(config);
      const id = await harness.editEntry();
      const oldRecord = full.records[full.ids.indexOf(id)];
      expect(oldRecord).toBeDefined();
      const again = await readAll(config, cursorsOf(full));
      const idx = again.ids.indexOf(id);
      expectWithMessage(idx, 'the edited entry is in the incremental read').toBeGreaterThanOrEqual(0);
      expect(stable(harness.connector.map(again.records[idx]!, config, ctx()))).not.toBe(
        stable(harness.connector.map(oldRecord!, config, ctx())),
      );
    });

    const entriesOf = (config: C, r: ReadResult): TimeEntry[] =>
      r.records.flatMap((rec) => {
        const m = harness.connector.map(rec, config, ctx());
        return m.kind === 'entry' ? [m.entry] : [];
      });

    it("Given an API source, then its harness can edit only a duration and serves the vendor's documented example", () => {
      // Every API source, present and future, is held to the two duration cases below.
      if (harness.connector.mode === 'snapshot') return;
      expectWithMessage(typeof harness.editDurationOnly, 'harness.editDurationOnly').toBe('function');
      expectWithMessage(typeof harness.addDocumentedExample, 'harness.addDocumentedExample').toBe('function');
    });

    it('Given an entry whose duration is edited at the source and whose times are not, when read incrementally and priced, then its line and the total change by the edit', async () => {
      if (!harness.editDurationOnly) return;
      const config = parse(harness.config());
      const full = await readAll(config);
      const before = entriesOf(config, full);
      before.forEach(expectAnchored);
      const pricedBefore = priceEntries(before);

      const edit = await harness.editDurationOnly();
      const oldEntry = before.find((e) => e.externalId === edit.externalId);
      expectWithMessage(oldEntry, 'the edited entry was in the full read').toBeDefined();
      expect(edit.durationSeconds).not.toBe(oldEntry!.durationSeconds);
      const oldLine = pricedBefore.lines.get(edit.externalId);
      expectWithMessage(oldLine, 'the edited entry is billable').toBeTruthy();

      const again = await readAll(config, cursorsOf(full));
      const changed = entriesOf(config, again).find((e) => e.externalId === edit.externalId);
      expectWithMessage(changed, 'the edited entry is in the incremental read').toBeDefined();
      expectAnchored(changed!);
      expectWithMessage(changed!.start, 'the start is where it was').toBe(oldEntry!.start);
      expectWithMessage(changed!.durationSeconds, 'the edited duration is the billed one').toBe(edit.durationSeconds);

      const after = before.map((e) => (e.externalId === edit.externalId ? changed! : e));
      const pricedAfter = priceEntries(after);
      const newLine = pricedAfter.lines.get(edit.externalId)!;
      expect(newLine).toEqual(expectedLine(edit.durationSeconds));
      expect(newLine).not.toEqual(oldLine);
      expect(dec(pricedAfter.total).minus(pricedBefore.total).toFixed(2)).toBe(dec(newLine.amount).minus(oldLine!.amount).toFixed(2));
    });

    it("Given the vendor's documented example payload, when read, mapped and priced, then each record bills the documented duration", async () => {
      if (!harness.addDocumentedExample) return;
      const config = parse(harness.config());
      const example = await harness.addDocumentedExample();
      expect(example.docs).toMatch(/^https:\/\//);
      expect(example.records.length).toBeGreaterThan(0);
      const full = await readAll(config);
      const entries = entriesOf(config, full);
      const priced = priceEntries(entries);
      for (const want of example.records) {
        const e = entries.find((x) => x.externalId === want.externalId);
        expectWithMessage(e, `documented record ${want.externalId} maps to an entry`).toBeDefined();
        expectAnchored(e!);
        const line = priced.lines.get(want.externalId);
        if (want.billedSeconds === null) {
          expectWithMessage(line, `documented record ${want.externalId} is not billed`).toBeNull();
        } else {
          expectWithMessage(e!.durationSeconds, `documented record ${want.externalId}: billed duration`).toBe(want.billedSeconds);
          expectWithMessage(line, `documented record ${want.externalId}: line`).toEqual(expectedLine(want.billedSeconds));
        }
      }
    });

    it('Given an entry deleted after a full read, when read incrementally, then the deletion is reported or covered by a reconcile window', async () => {
      const config = parse(harness.config());
      const full = await readAll(config);
      const id = await harness.deleteEntry();
      const oldRecord = full.records[full.ids.indexOf(id)]!;
      const old = harness.connector.map(oldRecord, config, ctx());
      expect(old.kind).toBe('entry');
      const date = old.kind === 'entry' ? old.entry.date : '';
      const again = await readAll(config, cursorsOf(full));
      expect(again.ids).not.toContain(id);
      const reported = again.deleted.includes(id);
      const covered = again.reconcile.some((w) => (w.from === null || w.from <= date) && (w.to === null || date <= w.to));
      expect(reported || covered).toBe(true);
    });

    it('Given a 429 with Retry-After mid-listing, when read, then the wait is honoured and every entry arrives once', async () => {
      const config = parse(harness.config());
      const startCalls = harness.listingRequests();
      const baseline = await readAll(config);
      const baselineCalls = harness.listingRequests() - startCalls;
      const requestsBefore = harness.listingRequests();
      harness.failListing({ status: 429, headers: { 'Retry-After': '1' }, times: 1, after: firstFaultAfter });
      const throttled = await readAll(config);
      expect([...throttled.ids].sort()).toEqual([...baseline.ids].sort());
      // The 429 was really served, and the listing went on after it.
      expect(harness.listingRequests() - requestsBefore).toBe(baselineCalls + 1);
    });

    it('Given one 5xx mid-pagination, when read, then it is retried and no page is lost or repeated', async () => {
      const config = parse(harness.config());
      const baseline = await readAll(config);
      harness.failListing({ status: 502, times: 1, after: firstFaultAfter });
      const retried = await readAll(config);
      expect(retried.ids).toEqual(baseline.ids);
    });

    it('Given a persistent 5xx mid-pagination, when the read fails and is resumed from the last cursor, then no page is lost or repeated', async () => {
      const config = parse(harness.config());
      const baseline = await readAll(config);
      harness.failListing({ status: 503, times: 1000, after: firstFaultAfter });
      const partial: SourcePage[] = [];
      const err = await readAll(config, {}, new Date(), partial).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConnectorError);
      expect((err as ConnectorError).retryable).toBe(true);
      // An API source yielded its first page before failing; a snapshot source fails before any.
      if (harness.connector.mode === 'snapshot') expect(partial).toHaveLength(0);
      else expect(partial.length).toBeGreaterThan(0);
      harness.clearFaults();
      const first = summarise(config, partial);
      const rest = await readAll(config, cursorsOf(first));
      const ids = [...first.ids, ...rest.ids];
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual([...baseline.ids].sort());
    });

    it('Given a malformed record, when mapped, then it comes back invalid with the field and a reason, and the rest still map', async () => {
      const config = parse(harness.config());
      const bad = await harness.addInvalidEntry();
      const full = await readAll(config);
      const results = full.records.map((r) => harness.connector.map(r, config, ctx()));
      const idx = full.ids.indexOf(bad.externalId);
      expect(idx).toBeGreaterThanOrEqual(0);
      const result = results[idx]!;
      expect(result.kind).toBe('invalid');
      if (result.kind === 'invalid') {
        expect(result.problems.some((p) => p.field === bad.field && p.reason.length > 0)).toBe(true);
      }
      expect(results.filter((r) => r.kind === 'entry').length).toBeGreaterThanOrEqual(5);
    });
  });
}

/**
 * Incremental sources find some changes (for Clockify and Toggl's Reports API: every edit and
 * deletion; for Harvest: deletions) only by re-listing a window. The window is a documented
 * setting (`reconcileDays`) whose default covers the longest billing period (a month) plus a
 * margin, and a read warns when a client's open period (ReadOptions.openPeriods) starts before
 * it, naming the client, the dates and the setting to raise.
 */
function describeReconcileWindowConformance<C extends { id: string; kind: string }>(name: string, harness: SourceHarness<C>): void {
  describeIf(harness.connector.mode === 'incremental')(`${name} source conformance: the re-listed window`, () => {
    const ctx = (): ConnectorContext => ({ log: pino({ level: 'silent' }), now: new Date(), configDir: process.cwd() });
    const parse = (input: unknown): C => harness.connector.configSchema.parse(input);
    const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
    async function read(config: C, options: Partial<ReadOptions> = {}): Promise<SourcePage[]> {
      const pages: SourcePage[] = [];
      for await (const p of harness.connector.read(config, { cursors: {}, ...options }, ctx())) pages.push(p);
      return pages;
    }
    /** A full read, then the incremental read a later run makes from its final cursor. */
    async function incremental(config: C, options: Partial<ReadOptions> = {}): Promise<SourcePage[]> {
      const full = await read(config);
      const last = full.at(-1);
      return read(config, { ...options, cursors: last?.cursor ? { [last.stream]: last.cursor } : {} });
    }
    const windowWarnings = (pages: SourcePage[]) => pages.flatMap((p) => p.warnings ?? []).filter((w) => w.includes('reconcileDays'));

    beforeEach(() => harness.start());
    afterEach(async () => {
      harness.clearFaults();
      await harness.stop();
    });

    it('Given the connector spec, when its config is parsed with defaults, then reconcileDays is a documented setting whose default covers a month plus a margin', () => {
      const config = parse(harness.config()) as C & { reconcileDays?: number };
      expect(config.reconcileDays).toBeGreaterThanOrEqual(35);
      const json = z.toJSONSchema(harness.connector.configSchema, { io: 'input' }) as {
        properties?: Record<string, { description?: string; default?: unknown }>;
      };
      // The description says what the default covers.
      expect(json.properties?.reconcileDays?.description ?? '').toMatch(/month/);
      expect(json.properties?.reconcileDays?.default).toBe(config.reconcileDays);
    });

    it('Given a full read, when read incrementally with the defaults, then the window re-listed reaches back over a month-long open period plus a margin', async () => {
      const pages = await incremental(parse(harness.config()));
      const windows = pages.flatMap((p) => (p.reconcile ? [p.reconcile] : []));
      expect(windows.length).toBeGreaterThan(0);
      // 31 days of the longest period, plus at least 2 of the margin (zones may move "today" by one).
      for (const w of windows) expect(w.from === null || w.from <= daysAgo(33)).toBe(true);
    });

    it('Given a client whose open period starts before the re-listed window, when read incrementally, then one warning names the client, the dates and reconcileDays, and the read is complete', async () => {
      const config = parse({ ...(harness.config() as object), reconcileDays: 5 });
      const start = daysAgo(40);
      const pages = await incremental(config, {
        openPeriods: [
          { clientId: 'conformance-client', start },
          { clientId: 'inside-client', start: daysAgo(1) },
        ],
      });
      const warnings = windowWarnings(pages);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(harness.connector.kind);
      expect(warnings[0]).toContain(`conformance-client (from ${start})`);
      expect(warnings[0]).not.toContain('inside-client');
      expect(warnings[0]).toMatch(/reconcileDays: \d+ or more/);
      expect(pages.at(-1)?.cursor).toBeTruthy();
    });

    it('Given every open period inside the re-listed window, when read incrementally, then there is no window warning', async () => {
      const pages = await incremental(parse(harness.config()), { openPeriods: [{ clientId: 'conformance-client', start: daysAgo(20) }] });
      expect(windowWarnings(pages)).toEqual([]);
    });
  });
}
