/**
 * bench:ubl — e-invoices written and validated per second, against validation alone.
 *
 * Drafts of 1–12 lines (time, fee, expense) over VAT categories S (three rates), Z, E and AE, with
 * every 7th a credit note, are written by the `ubl` destination (UBL XML only) into a temporary
 * folder, then each document is checked with the official validation (UBL 2.1 XSD with xmllint,
 * EN 16931 and Peppol BIS 3 in SaxonJS). The baseline, measured in the same run, validates the
 * same documents already written: the ratio says what writing adds to the validation an access
 * point does anyway. Writing alone is shown too. Every document must have 0 fatal asserts, or the
 * bench exits 1.
 *
 * BENCH_UBL_DOCS (default 60) sets the number of documents, BENCH_UBL_ROUNDS (default 3) the
 * interleaved rounds (medians). Last line: one JSON object.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ublDestinationSchema } from '../connectors/ubl/config.schema';
import { ublDestination, ublFileName } from '../connectors/ubl/index';
import type { ClientConfig } from '../src/config/client.schema';
import type { InvoiceDraft } from '../src/domain/invoice';
import { dec } from '../src/domain/money';
import type { RatedLine } from '../src/domain/rated-line';
import { buildInvoiceDraft, type BillingItem } from '../src/stages/invoice-builder';
import { einvoiceAvailable, einvoiceValidator } from '../test/support/einvoice';
import { exampleBuyer, exampleSeller } from '../test/support/einvoice-parties';
import { client } from '../test/support/entries';
import Table from 'cli-table3';
import { median, round2 } from './support/report';

const DOCS = Number(process.env.BENCH_UBL_DOCS ?? 60);
const ROUNDS = Number(process.env.BENCH_UBL_ROUNDS ?? 3);
if (!einvoiceAvailable()) process.exit(1);

const vats = [
  { category: 'S', rate: 21 },
  { category: 'S', rate: 9 },
  { category: 'Z' },
  { category: 'E', exemptionReasonCode: 'VATEX-EU-132' },
  { category: 'AE' },
];

function draft(i: number): InvoiceDraft {
  const c = client({
    vat: { ...vats[i % vats.length]!, lines: [{ match: { kind: 'expense' }, category: 'S', rate: 21 }] },
    buyer: exampleBuyer,
    seller: exampleSeller,
  } as Partial<ClientConfig>);
  const n = 1 + (i % 12);
  const items: BillingItem[] = Array.from({ length: n }, (_, j) => {
    const kind: RatedLine['kind'] = j % 5 === 4 ? 'expense' : j % 7 === 6 ? 'fee' : 'time';
    const quantity = dec(((i * 7 + j * 3) % 40) + 1)
      .div(4)
      .toString();
    const unitPrice = dec(80 + ((i + j) % 9) * 5.5).toFixed(2);
    return {
      entryKey: `bench:${i}:${j}`,
      lines: [
        {
          sourceId: 'bench',
          externalId: `${i}:${j}`,
          piece: 0,
          kind,
          clientId: 'acme',
          currency: 'EUR',
          date: '2026-03-02',
          hoursRaw: quantity,
          quantity,
          unitPrice,
          amount: dec(quantity).times(unitPrice).toString(),
          rule: 'bench',
          label: '',
          worker: `Worker ${j}`,
          project: `Project ${i % 5}`,
          trace: [],
        },
      ],
      // Every 7th document credits more than it bills: a CreditNote.
      ...(i % 7 === 0 ? { correctionOf: `acme-2026-02-bench-${i}` } : {}),
    };
  });
  return buildInvoiceDraft({
    client: c,
    period: { start: '2026-03-01', end: '2026-03-31', label: '2026-03' },
    destinationId: 'bench',
    sequence: i + 1,
    items,
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'hb-bench-ubl-'));
const config = ublDestinationSchema.parse({ id: 'bench', kind: 'ubl', dir, formats: ['xml'] });
const ctx = { log: pino({ level: 'silent' }), now: new Date(), configDir: dir, previous: new Map() };
const drafts = Array.from({ length: DOCS }, (_, i) => draft(i));

// Compiling the stylesheets (or reading them from the cache) is set-up, not part of any run.
const validator = await einvoiceValidator();
await ublDestination.write(config, [drafts[0]!], ctx);
await validator.validate(readFileSync(path.join(dir, ublFileName(drafts[0]!.key)), 'utf8'));

let fatal = 0;
let creditNotes = 0;
async function validateAll(): Promise<void> {
  for (const d of drafts) {
    const report = await validator.validate(readFileSync(path.join(dir, ublFileName(d.key)), 'utf8'));
    fatal += report.fatal.length;
  }
}

// Write alone.
const t = performance.now();
const outcomes = await ublDestination.write(config, drafts, ctx);
const writeMs = performance.now() - t;
creditNotes = outcomes.filter((o) => o.status === 'written' && o.remoteType === 'credit-note').length;
const failedWrites = outcomes.filter((o) => o.status !== 'written').length;

// The first pass over the documents warms SaxonJS and the JIT up; it is not measured.
await validateAll();

// Baseline (validation alone of the documents written) and written + validated (what a sync to
// an access point costs), interleaved over ROUNDS rounds in alternating order; medians.
const validateRuns: number[] = [];
const bothRuns: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const measureValidation = async () => {
    const t0 = performance.now();
    await validateAll();
    validateRuns.push(performance.now() - t0);
  };
  const measureBoth = async () => {
    const t0 = performance.now();
    await ublDestination.write(config, drafts, ctx);
    await validateAll();
    bothRuns.push(performance.now() - t0);
  };
  if (round % 2 === 0) {
    await measureValidation();
    await measureBoth();
  } else {
    await measureBoth();
    await measureValidation();
  }
}
const validateMs = median(validateRuns);
const bothMs = median(bothRuns);
rmSync(dir, { recursive: true, force: true });

// The shared table's rows/s are whole numbers, too coarse at about a document a second: this
// table keeps two decimals, and the ratios are of the exact rates.
const rate = (ms: number) => DOCS / (ms / 1000);
const plain = !process.stdout.isTTY;
const table = new Table({
  head: ['run', 'documents', 'seconds', 'documents/s', 'ratio (vs validation alone)', 'goal', 'met?'],
  ...(plain ? { style: { head: [], border: [] } } : {}),
});
const GOAL = 0.9;
table.push(
  ['baseline: validation alone', DOCS, (validateMs / 1000).toFixed(2), rate(validateMs).toFixed(2), 'baseline', '', ''],
  [
    'written + validated',
    DOCS,
    (bothMs / 1000).toFixed(2),
    rate(bothMs).toFixed(2),
    round2(validateMs / bothMs),
    `≥ ${GOAL}`,
    validateMs / bothMs >= GOAL ? 'yes' : 'NO',
  ],
  ['written only', DOCS, (writeMs / 1000).toFixed(2), rate(writeMs).toFixed(2), round2(validateMs / writeMs), '', ''],
  ['documents', { colSpan: 6, content: `${DOCS} (${creditNotes} credit notes), 1–12 lines, VAT S/Z/E/AE` }],
  ['fatal asserts', { colSpan: 6, content: `${fatal} over every pass (must be 0)` }],
  ['rounds', { colSpan: 6, content: `${ROUNDS}, interleaved, medians; after one unmeasured validation pass` }],
);
console.log(table.toString());
const result = {
  bench: 'ubl',
  documents: DOCS,
  creditNotes,
  writtenValidatedPerSec: round2(DOCS / (bothMs / 1000)),
  validatedPerSec: round2(DOCS / (validateMs / 1000)),
  writtenPerSec: round2(DOCS / (writeMs / 1000)),
  ratioWrittenValidatedVsValidation: round2(validateMs / bothMs),
  ratioWrittenVsValidation: round2(validateMs / writeMs),
  fatalAsserts: fatal,
  failedWrites,
};
console.log(JSON.stringify(result));
if (fatal > 0 || failedWrites > 0) process.exit(1);
