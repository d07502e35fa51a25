import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { itIf } from '../support/runner';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../src/config/loader';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { runSync, type SyncResult } from '../../src/runners/inline.runner';
import { invoicesReport } from '../../src/reports/reports';
import { dec } from '../../src/domain/money';
import { destinationConnectorMap } from '../../src/runners/registry';

/**
 * The conformance suite every destination passes. A destination's test file calls
 * `describeDestinationConformance(name, harness)` with a harness over the destination (a fake
 * of its API, or its directory). Each case runs the whole inline pipeline (`runSync`) over a
 * small CSV and a fresh embedded ledger, and checks what the destination holds afterwards:
 * what finance would see.
 *
 * Every invoice here is client `acme`, EUR, one month, 100.00 an hour; keys are
 * `acme-2026-03-dest-<n>`. Cases a destination cannot take part in (it has no approval step,
 * or its harness cannot inject a fault) are skipped where the harness leaves the hook out.
 */
export interface RemoteDocument {
  id: string;
  type: 'invoice' | 'credit-note';
  status: string;
  /** Sum of the line amounts as the destination holds them, in ledger terms (a credit note's is negative). */
  net: string;
  lines: number;
}

export interface DestinationHarness {
  /** The connector kind under test: its declared capabilities are checked against its members and this harness. */
  kind?: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The `destinations:` list item (YAML, starting `  - id: dest`), with `taxType` on every line when given. */
  destinationYaml(opts: { taxType?: string }): string;
  /** Environment the YAML's `${VAR}` references need (obviously fake secrets). */
  env(): Record<string, string>;
  /** A tax type and its rate the destination applies (for the tax read-back case); absent: the destination computes no tax. */
  tax?: { taxType: string; rate: string };
  /** Live documents (not deleted or voided) the destination holds for this invoice key. */
  documents(key: string): Promise<RemoteDocument[]>;
  /** Write requests (creates, updates, deletes) the destination has received so far. */
  writes(): number;
  /** Finance approves the document in the accounting package. Absent: the destination has no approval step. */
  approve?(key: string): Promise<void>;
  /** The next write is committed, but its answer never arrives. */
  loseNextAnswer?(): void;
  /** The next `times` write requests fail before they are processed, as the vendor answers them (5xx, or 429 with its headers). */
  failNextWrites?(kind: '5xx' | '429', times: number): void;
  /** Every write that carries this invoice key is refused by the destination (a validation error). */
  refuse?(key: string): void;
  clearFaults(): void;
  /** YAML the destination needs besides its own section: top-level keys (e.g. `seller:`) and keys of each client (indented 4 spaces). */
  extraYaml?: { top?: string; client?: string };
}

const log = pino({ level: 'silent' });
export const CSV_HEADER = 'date,start,end,worker,client,project';
const HEADER = CSV_HEADER;

/** The pipeline every case runs: one CSV source (columns CSV_HEADER), client acme (and globex), `hourly` an hour, destination `dest`. */
export function pipelineYaml(
  csv: string,
  destinationYaml: string,
  opts: { secondClient?: boolean; hourly?: string; unitPriceDecimals?: 4; extra?: { top?: string; client?: string } } = {},
): string {
  const client = (id: string, name: string) => `  - id: ${id}
    name: ${name}
    match: [${name.split(' ')[0]}]
    currency: EUR
    timeZone: Europe/Amsterdam
    period: { unit: month }
    destination: dest
    lines: { groupBy: [worker, project] }
${opts.extra?.client ?? ''}`;
  return `version: 1
${opts.extra?.top ?? ''}sources:
  - id: sheet
    kind: csv
    path: ${csv}
    delimiter: ","
    timeZone: Europe/Amsterdam
    locale: { decimal: ".", dateFormat: yyyy-MM-dd }
    columns: { date: date, start: start, end: end, worker: worker, client: client, project: project }
    externalId: { derive: [date, start, worker, client, project] }
clients:
${client('acme', 'Acme Ltd')}${opts.secondClient ? client('globex', 'Globex GmbH') : ''}rates:
  rulesets:
    standard:
      clients: [acme${opts.secondClient ? ', globex' : ''}]
      base:
        - id: hourly
          match: {}
          hourly: ${opts.hourly ?? '100.00'}
${opts.unitPriceDecimals ? `      rounding: { unitPriceDecimals: ${opts.unitPriceDecimals} }\n` : ''}destinations:
${destinationYaml}
`;
}

export function describeDestinationConformance(name: string, harness: DestinationHarness): void {
  describe(`${name} destination conformance`, () => {
    let dir: string;
    let ledger: Ledger;
    let csv: string;
    let configFile: string;

    const key = (n: number) => `acme-2026-03-dest-${n}`;
    const writeRows = (rows: string[]) => writeFileSync(csv, `${[HEADER, ...rows].join('\n')}\n`);
    const sync = (): Promise<SyncResult> => runSync({ config: loadConfig(configFile, harness.env()), ledger, log });
    const configure = (opts: { taxType?: string; secondClient?: boolean } = {}) =>
      writeFileSync(
        configFile,
        pipelineYaml(csv, harness.destinationYaml({ taxType: opts.taxType }), { ...opts, extra: harness.extraYaml }),
      );
    /** Ledger total and the destination's own figure, per live invoice. */
    const ledgerInvoices = async () =>
      (await invoicesReport(ledger, { clientId: 'acme' })).map((r) => ({ key: r.key, status: r.status, total: r.net, error: r.error }));

    beforeAll(() => harness.start());
    afterAll(() => harness.stop());
    beforeEach(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'hb-dest-conf-'));
      csv = path.join(dir, 'hours.csv');
      configFile = path.join(dir, 'hourbridge.yaml');
      configure();
      ledger = await openLedger({ dataDir: 'memory://' });
    });
    afterEach(async () => {
      harness.clearFaults();
      await ledger?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const base = ['2026-03-02,09:00,17:00,Ann,Acme,Web', '2026-03-03,09:00,13:00,Bob,Acme,Web'];

    itIf(!!harness.kind)(
      'Given its declared capabilities Then the connector has the members they name and the harness exercises them',
      () => {
        const connector = destinationConnectorMap().get(harness.kind!);
        expect(connector).toBeDefined();
        const caps = connector!.capabilities;
        expect(caps.batchSize).toBeGreaterThanOrEqual(1);
        expect(caps.unitPriceDecimals.length).toBeGreaterThan(0);
        expect(caps.statusReadBack.includes('poll')).toBe(typeof connector!.pollStatuses === 'function');
        expect(caps.statusReadBack.includes('webhook')).toBe(connector!.webhook !== undefined);
        // A destination whose status comes back can be approved at the package: the approval cases must run.
        if (caps.statusReadBack.length > 0) expect(typeof harness.approve).toBe('function');
        if (caps.tax === 'computed') expect(harness.tax).toBeDefined();
        if (caps.idempotency !== 'overwrite') expect(typeof harness.loseNextAnswer).toBe('function');
        if (caps.rateLimit) expect(typeof harness.failNextWrites).toBe('function');
        if (caps.statusReadBack.length > 0) expect(connector!.statusMap).toBeDefined();
      },
    );

    it('Given new hours When synced Then the destination holds one draft per invoice with the ledger total; a re-sync with no change writes nothing', async () => {
      writeRows(base);
      const first = await sync();
      expect(first.summary).toMatchObject({ invoicesDrafted: 1, pushed: 1, pushFailed: 0 });
      expect(first.alerts).toEqual([]);
      expect((await harness.documents(key(1))).map((d) => [d.type, d.net, d.lines])).toEqual([['invoice', '1200.00', 2]]);
      const writes = harness.writes();
      const second = await sync();
      expect(second.summary).toMatchObject({ invoicesDrafted: 0, invoicesUpdated: 0, pushed: 0, pushFailed: 0 });
      expect(harness.writes()).toBe(writes);
    }, 120_000);

    it('Given a pushed draft When a row is edited Then the same document is updated in place; When every row goes Then the draft is deleted at the destination', async () => {
      writeRows(base);
      await sync();
      const [before] = await harness.documents(key(1));
      writeRows(['2026-03-02,09:00,18:00,Ann,Acme,Web', base[1]!]);
      const edited = await sync();
      expect(edited.summary).toMatchObject({ invoicesUpdated: 1, pushed: 1 });
      expect((await harness.documents(key(1))).map((d) => [d.id, d.net])).toEqual([[before!.id, '1300.00']]);
      writeRows([]);
      await sync();
      const deletes = harness.kind ? destinationConnectorMap().get(harness.kind)?.capabilities.deleteEmptied !== false : true;
      if (deletes) expect(await harness.documents(key(1))).toEqual([]);
    }, 120_000);

    itIf(!!harness.loseNextAnswer)(
      'Given the destination commits a create but its answer is lost When synced (and again) Then there is one document for the invoice',
      async () => {
        writeRows(base);
        harness.loseNextAnswer!();
        await sync();
        await sync();
        expect(await harness.documents(key(1))).toHaveLength(1);
        expect((await ledgerInvoices()).map((i) => [i.key, i.status])).toEqual([[key(1), 'pushed']]);
      },
      120_000,
    );

    for (const kind of ['5xx', '429'] as const) {
      itIf(!!harness.failNextWrites)(
        `Given the destination answers ${kind} twice When synced Then the write is retried within the run and the invoice is written once`,
        async () => {
          writeRows(base);
          harness.failNextWrites!(kind, 2);
          const result = await sync();
          expect(result.summary).toMatchObject({ pushed: 1, pushFailed: 0 });
          expect(await harness.documents(key(1))).toHaveLength(1);
        },
        120_000,
      );
    }

    itIf(!!harness.refuse)(
      'Given two clients in one batch and the destination refuses one invoice When synced Then the other is written and the refusal is stored on the refused one only',
      async () => {
        configure({ secondClient: true });
        writeRows([...base, '2026-03-04,09:00,12:00,Cy,Globex,Ops']);
        harness.refuse!('globex-2026-03-dest-1');
        const result = await sync();
        expect(result.summary).toMatchObject({ pushed: 1, pushFailed: 1 });
        expect(await harness.documents(key(1))).toHaveLength(1);
        expect(await harness.documents('globex-2026-03-dest-1')).toEqual([]);
        const stored = await ledger.rows<{ key: string; status: string; error: string | null }>(
          sql`SELECT key, status, last_error AS error FROM invoices ORDER BY key`,
        );
        expect(stored.map((r) => [r.key, r.status, r.error !== null])).toEqual([
          [key(1), 'pushed', false],
          ['globex-2026-03-dest-1', 'failed', true],
        ]);
        expect(result.alerts.filter((a) => a.includes('globex'))).toHaveLength(1);
      },
      120_000,
    );

    itIf(!!harness.approve)(
      'Given finance approved the invoice When a row changes Then the approved document is untouched and the change is a correction on the next invoice',
      async () => {
        writeRows(base);
        await sync();
        await harness.approve!(key(1));
        writeRows(['2026-03-02,09:00,18:00,Ann,Acme,Web', base[1]!]);
        const result = await sync();
        expect(result.summary).toMatchObject({ corrections: 1, pushFailed: 0 });
        expect((await harness.documents(key(1))).map((d) => d.net)).toEqual(['1200.00']);
        // Credit 8 h, bill 9 h of Ann: +100.00.
        expect((await harness.documents(key(2))).map((d) => [d.type, d.net])).toEqual([['invoice', '100.00']]);
      },
      120_000,
    );

    itIf(!!harness.approve)(
      'Given finance approved the invoice When rows are deleted Then the negative correction is written as a credit note, not a failure, and later runs stay quiet',
      async () => {
        writeRows(base);
        await sync();
        await harness.approve!(key(1));
        writeRows([base[0]!]);
        const result = await sync();
        expect(result.summary).toMatchObject({ corrections: 1, pushFailed: 0 });
        expect(result.alerts).toEqual([]);
        expect((await harness.documents(key(2))).map((d) => [d.type, d.net])).toEqual([['credit-note', '-400.00']]);
        const again = await sync();
        expect(again.summary).toMatchObject({ pushed: 0, pushFailed: 0 });
        expect(again.alerts).toEqual([]);
      },
      120_000,
    );

    it('Given taxed lines where the destination computes tax When synced Then the totals read back equal the ledger to the cent and no total alert fires', async () => {
      configure({ taxType: harness.tax?.taxType });
      writeRows(['2026-03-02,09:00,16:45,Ann,Acme,Web', '2026-03-03,09:00,10:15,Bob,Acme,Web']);
      const result = await sync();
      expect(result.alerts).toEqual([]);
      const [doc] = await harness.documents(key(1));
      expect(doc!.net).toBe('900.00');
      const [row] = await ledger.rows<{ total: string; remoteTotal: string; remoteTax: string | null; remoteGross: string | null }>(sql`
        SELECT total::text AS total, remote_total::text AS "remoteTotal", remote_tax::text AS "remoteTax", remote_gross::text AS "remoteGross" FROM invoices WHERE key = ${key(1)}`);
      expect(dec(row!.remoteTotal).eq(row!.total)).toBe(true);
      if (harness.tax) {
        // Tax per line, rounded, then summed: 775.00 × r and 125.00 × r.
        const rate = dec(harness.tax.rate);
        const tax = dec(775).times(rate).toDecimalPlaces(2).plus(dec(125).times(rate).toDecimalPlaces(2));
        expect(dec(row!.remoteTax!).toFixed(2)).toBe(tax.toFixed(2));
        expect(dec(row!.remoteGross!).toFixed(2)).toBe(dec(900).plus(tax).toFixed(2));
      }
    }, 120_000);
  });
}
