import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { expectWithMessage } from '../support/runner';
import { z } from 'zod';
import pino, { type Logger } from 'pino';
import { Writable } from 'node:stream';
import type { ConnectorContext, Cursor, MapResult, RawRecord, SourceConnector, SourcePage } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';

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

function recordId(connectorMap: (r: RawRecord) => MapResult, r: RawRecord): string {
  if (r.ref.id) return r.ref.id;
  const m = connectorMap(r);
  if (m.kind === 'entry') return m.entry.externalId;
  return m.kind === 'invalid' && m.externalId ? m.externalId : JSON.stringify(r.ref);
}

export function describeSourceConformance<C extends { id: string; kind: string }>(name: string, harness: SourceHarness<C>): void {
  describe(`${name} source conformance`, () => {
    let logs: ReturnType<typeof logCapture>;
    const ctx = (now = new Date()): ConnectorContext => ({ log: logs.log, now, configDir: process.cwd() });
    const parse = (input: unknown): C => harness.connector.configSchema.parse(input);
    const mapper = (config: C) => (r: RawRecord) => harness.connector.map(r, config, ctx());

    async function readAll(config: C, cursors: Record<string, Cursor | undefined> = {}, now = new Date(), sink?: SourcePage[]): Promise<ReadResult> {
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
    const stable = (m: MapResult) => (m.kind === 'entry' ? JSON.stringify({ ...m.entry, provenance: { ...m.entry.provenance, fetchedAt: '' } }) : m.kind);

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
      expect(stable(harness.connector.map(again.records[idx]!, config, ctx()))).not.toBe(stable(harness.connector.map(oldRecord!, config, ctx())));
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
