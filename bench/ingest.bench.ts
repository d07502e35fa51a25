/*
 * npm run bench:ingest — the spreadsheet ingest path on a generated 1,000,000-row Dutch CSV
 * (HOURBRIDGE_BENCH_ROWS to scale down), with the example config's mapping, clients and rate
 * cards. In one run it reports:
 *   1. raw csv-parse rows/s (stream parse, count records, the connector's parser options);
 *   2. Hourbridge parse + normalise + rate rows/s: the csv connector's read, normalisePage and
 *      rates.price per page, no ledger (goal ≥ 50 % of 1: pipelineVsRaw). Runs of 1 and 2
 *      alternate, 1 first and last (HOURBRIDGE_BENCH_PARSE_RUNS runs of 2, default 3), and the
 *      medians are compared: one allocation-heavy parse run varies by up to 2x here;
 *   3. ledger ingest rows/s into PostgreSQL (upsertEntries per batch as the pull stage writes
 *      them: consecutive pages up to LEDGER_BATCH_ENTRIES; fresh database) next to
 *   4. a raw COPY of the same rows (the columns the ledger stores, the JSON of each entry
 *      included) into a bare table without indexes in the same database, one COPY per batch,
 *      alternating which goes first on each batch (goal: ledgerVsCopy ≥ 0.5);
 *   5. ledger ingest into PGlite (on disk, as a user runs it) on the first
 *      HOURBRIDGE_BENCH_PGLITE_ROWS rows (default 200,000: PGlite is single-threaded WASM), in a
 *      child process of its own: PGlite alone holds ~850 MB resident once open (its WASM heap),
 *      which would hide what the streaming path itself uses;
 *   6. peak RSS of the run without PGlite (goal ≤ 512 MB: the file is streamed, never
 *      loaded), and the PGlite process's peak beside it.
 * Only the measured calls are timed (reading and mapping the CSV for 3–5 is not). Last line:
 * one JSON object with the figures. HOURBRIDGE_BENCH_POSTGRES=0 and HOURBRIDGE_BENCH_PGLITE_ROWS=0
 * skip the ledger runs; HOURBRIDGE_BENCH_PAGE sets the page size (default: the csv connector's).
 * The example config's csv source has parseThread: auto, so a file of 8 MiB or more (the
 * 1,000,000-row file is ~85 MB) is parsed on a worker thread beside the mapping, as a user's
 * would be; the report gives the main thread's busy time per row next to raw csv-parse's.
 */
import { fork } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import pg from 'pg';
import pino from 'pino';
import { csvSource } from '../connectors/csv/index';
import { CsvConfigSchema, type CsvConfig } from '../connectors/csv/config.schema';
import { PARSE_THREAD_MIN_BYTES } from '../connectors/csv/index';
import { loadConfig } from '../src/config/loader';
import type { SourceConfig } from '../src/config/schema';
import type { ConnectorContext, SourceConnector } from '../src/connectors/contract';
import type { TimeEntry } from '../src/domain/time-entry';
import { copyIn, openLedger, type Ledger } from '../src/ledger/db';
import { upsertEntries } from '../src/ledger/entries.repository';
import { CopyWriter } from '../src/ledger/copy-text';
import type { PricingInput } from '../src/rates/contract';
import { ClientResolver } from '../src/stages/clients';
import { LEDGER_BATCH_ENTRIES, normalisePage } from '../src/stages/pull.stage';
import { createTestDatabase, postgresAvailable } from '../test/support/services';
import { writeCsvFile } from './support/csv-file';
import { DUTCH_HEADER, dutchHoursRow } from './support/dutch-hours';
import { median, perSec, printTable, round2, timed, type BenchRow } from './support/report';
import { RssSampler, processPeakRssMb } from './support/rss';

const CHILD = process.env.HOURBRIDGE_BENCH_CHILD;
const ROWS = Number(process.env.HOURBRIDGE_BENCH_ROWS ?? 1_000_000);
/** Pipeline runs (each between two raw runs); the medians of both sides are compared. */
const PARSE_RUNS = Math.max(1, Number(process.env.HOURBRIDGE_BENCH_PARSE_RUNS ?? 3));
const PGLITE_ROWS = Math.min(ROWS, Number(process.env.HOURBRIDGE_BENCH_PGLITE_ROWS ?? 200_000));
/** The csv connector's own default unless HOURBRIDGE_BENCH_PAGE says otherwise. */
const PAGE = Number(process.env.HOURBRIDGE_BENCH_PAGE ?? (CsvConfigSchema.shape.pageSize.parse(undefined) as number));
/** HOURBRIDGE_BENCH_POSTGRES=0 skips the PostgreSQL runs (quick parse-path runs). */
const WITH_POSTGRES = process.env.HOURBRIDGE_BENCH_POSTGRES !== '0';
const RSS_GOAL_MB = 512;

setFlagsFromString('--expose-gc');
/** V8's full collection (exposed through a fresh context, as the flag came after start-up). */
const collectGarbage = runInNewContext('gc') as () => void;

const log = pino({ level: 'warn' }, pino.destination(2));
const dir = CHILD ?? mkdtempSync(join(tmpdir(), 'hourbridge-bench-'));
const file = join(dir, 'hours.csv');
const rss = new RssSampler().start();
const phasePeak: Record<string, number> = {};

// ---- setup: the example config, pointed at the generated file -------------------------------
const loaded = loadConfig('config/example.yaml', { ...process.env, HOURBRIDGE_LEDGER_URL: '' });
const source = { ...(loaded.sources.find((s) => s.kind === 'csv') as CsvConfig), path: file, pageSize: PAGE } as CsvConfig;
const connector = csvSource as unknown as SourceConnector<SourceConfig>;
const clients = new ClientResolver(loaded.clients);
const rates = loaded.rates;
const ctx = (): ConnectorContext => ({ log, now: new Date('2026-12-31T12:00:00Z'), configDir: loaded.configDir });

/** Every accepted entry of the file, page by page; stops early after `limit` rows. */
async function* entryPages(limit = Infinity): AsyncGenerator<{ rows: number; entries: TimeEntry[] }> {
  let rows = 0;
  for await (const page of csvSource.read(source, { cursors: {} }, ctx())) {
    let records = page.records;
    if (rows + records.length > limit) records = records.slice(0, limit - rows);
    rows += records.length;
    const n = normalisePage({ ...page, records }, source as SourceConfig, connector, clients, ctx());
    yield { rows: records.length, entries: n.entries };
    if (rows >= limit) return;
  }
}

/** The entries as the pull stage writes them: consecutive pages together, up to LEDGER_BATCH_ENTRIES. */
async function* ledgerBatches(limit = Infinity): AsyncGenerator<TimeEntry[]> {
  let batch: TimeEntry[] = [];
  for await (const page of entryPages(limit)) {
    for (const e of page.entries) batch.push(e);
    if (batch.length >= LEDGER_BATCH_ENTRIES) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

// ---- 1: raw csv-parse -------------------------------------------------------------------------
async function rawParse(): Promise<{ rows: number; ms: number }> {
  const t = performance.now();
  const parser = createReadStream(file).pipe(
    parse({ delimiter: ';', quote: '"', bom: true, relax_column_count: true, relax_quotes: true }),
  );
  let rows = -1; // header
  parser.on('data', () => rows++);
  await new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', reject);
  });
  return { rows, ms: performance.now() - t };
}

// ---- 2: parse + normalise + rate ----------------------------------------------------------------
async function pipelineRun() {
  const elu0 = performance.eventLoopUtilization();
  const t = performance.now();
  const s = { rows: 0, entries: 0, quarantined: 0, lines: 0, excluded: 0, unpriced: 0, amount: 0 };
  for await (const page of csvSource.read(source, { cursors: {} }, ctx())) {
    s.rows += page.records.length;
    const n = normalisePage(page, source as SourceConfig, connector, clients, ctx());
    s.quarantined += n.quarantine.length;
    const inputs: PricingInput[] = new Array(n.entries.length);
    for (let i = 0; i < n.entries.length; i++) {
      const entry = n.entries[i]!;
      inputs[i] = { entry, client: clients.byId.get(entry.clientId!)! };
    }
    s.entries += inputs.length;
    for (const o of rates.price(inputs)) {
      if (!o.ok) s.unpriced++;
      else if (o.lines.length === 0) s.excluded++;
      else {
        s.lines += o.lines.length;
        for (const l of o.lines) s.amount += Number(l.amount);
      }
    }
  }
  const ms = performance.now() - t;
  // Main-thread busy time: with a parse thread, parsing runs beside this on another core.
  return { ...s, ms, mainBusyMs: performance.eventLoopUtilization(elu0).active };
}

// ---- 3 + 4: ledger into PostgreSQL vs raw COPY ---------------------------------------------------
const COPY_TABLE = `CREATE TABLE bench_copy (
  source_id text, external_id text, client_id text, worker text, work_date date, start_at timestamptz, end_at timestamptz,
  duration_seconds int, break_seconds int, billable bool, approved bool, billed_at_source bool, data jsonb)`;

const COPY_COLUMNS = [
  'source_id',
  'external_id',
  'client_id',
  'worker',
  'work_date',
  'start_at',
  'end_at',
  'duration_seconds',
  'break_seconds',
  'billable',
  'approved',
  'billed_at_source',
  'data',
];

/**
 * COPY text of the entries, written with the ledger's own COPY writer and yielded a 64 KB piece
 * at a time as rows are serialised, the way the ledger streams its own COPY, so both sides
 * serialise and send alike.
 */
function* copyText(entries: TimeEntry[]): Generator<Buffer> {
  const w = new CopyWriter();
  for (const e of entries) {
    w.text(e.sourceId);
    w.text(e.externalId);
    w.text(e.clientId);
    w.text(e.worker.name);
    w.text(e.date);
    w.text(e.start);
    w.text(e.end);
    w.value(e.durationSeconds);
    w.value(e.breakSeconds);
    w.value(e.billable);
    w.value(e.approved);
    w.value(e.billedAtSource);
    w.text(JSON.stringify(e), true);
    if (w.hasFull) yield* w.takeFull();
  }
  yield* w.take();
}

async function postgresRun() {
  const db = await createTestDatabase();
  let ledger: Ledger | undefined;
  const copyConn = new pg.Client({ connectionString: db.url });
  try {
    ledger = await openLedger({ url: db.url, poolSize: 2 });
    await copyConn.connect();
    await copyConn.query(COPY_TABLE);
    const up = { ms: 0, rows: 0, inserted: 0, updated: 0, unchanged: 0 };
    const copy = { ms: 0, rows: 0 };
    let n = 0;
    const runUpsert = async (entries: TimeEntry[]) => {
      const c = await timed(up, () => upsertEntries(ledger!, entries));
      up.rows += entries.length;
      up.inserted += c.inserted;
      up.updated += c.updated;
      up.unchanged += c.unchanged;
    };
    const runCopy = async (entries: TimeEntry[]) => {
      await timed(copy, () => copyIn(copyConn, 'bench_copy', COPY_COLUMNS, copyText(entries)));
      copy.rows += entries.length;
    };
    for await (const entries of ledgerBatches()) {
      // Alternate the order so neither side profits from a warm cache or a checkpoint systematically.
      if (n++ % 2 === 0) {
        await runUpsert(entries);
        await runCopy(entries);
      } else {
        await runCopy(entries);
        await runUpsert(entries);
      }
    }
    const check = await copyConn.query<{ ledger: number; copied: number }>(
      'SELECT (SELECT count(*)::int FROM time_entries) AS ledger, (SELECT count(*)::int FROM bench_copy) AS copied',
    );
    return { up, copy, stored: check.rows[0]! };
  } finally {
    await copyConn.end().catch(() => undefined);
    await ledger?.close();
    await db.drop();
  }
}

// ---- 5: ledger into PGlite ----------------------------------------------------------------------
async function pgliteRun() {
  const dataDir = join(dir, 'pglite');
  const ledger = await openLedger({ dataDir });
  const up = { ms: 0, rows: 0, inserted: 0 };
  try {
    for await (const entries of ledgerBatches(PGLITE_ROWS)) {
      const c = await timed(up, () => upsertEntries(ledger, entries));
      up.rows += entries.length;
      up.inserted += c.inserted;
    }
  } finally {
    await ledger.close();
  }
  return up;
}

/** Run the PGlite phase in a child process (same file, same loader flags); returns its figures. */
function pgliteInChild(): Promise<{ ms: number; rows: number; inserted: number; peakRssMb: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(process.argv[1]!, [], {
      execArgv: process.execArgv,
      env: { ...process.env, HOURBRIDGE_BENCH_CHILD: dir },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: { ms: number; rows: number; inserted: number; peakRssMb: number } | undefined;
    child.on('message', (m) => {
      result = m as typeof result;
    });
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`PGlite bench process exited with ${code}`))));
  });
}

if (CHILD) {
  const r = await pgliteRun();
  process.send!({ ...r, peakRssMb: processPeakRssMb() });
  process.exit(0);
}

// ---- run --------------------------------------------------------------------------------------
function phase(name: string) {
  phasePeak[name] = rss.peakMb();
  rss.reset();
}

try {
  const tGen = performance.now();
  const bytes = await writeCsvFile(file, { header: DUTCH_HEADER, rows: ROWS, row: dutchHoursRow, delimiter: ';', bom: true });
  console.error(
    `generated ${ROWS.toLocaleString('en')} rows (${Math.round(bytes / 1e6)} MB) in ${((performance.now() - tGen) / 1000).toFixed(1)} s`,
  );
  rss.reset();

  // Raw and pipeline runs alternate (raw first and last), and each side's median is compared: a
  // single allocation-heavy parse run on this kind of machine varies by up to 2x between runs.
  // A full collection before each run, so no run pays for the garbage of the one before it.
  collectGarbage();
  const raws = [await rawParse()];
  const pipes: Array<Awaited<ReturnType<typeof pipelineRun>>> = [];
  for (let i = 0; i < PARSE_RUNS; i++) {
    collectGarbage();
    pipes.push(await pipelineRun());
    collectGarbage();
    raws.push(await rawParse());
  }
  phase('parse');
  for (const r of [...raws, ...pipes]) if (r.rows !== ROWS) throw new Error(`row counts differ: generated ${ROWS}, a run read ${r.rows}`);
  const pipe = [...pipes].sort((a, b) => a.ms - b.ms)[pipes.length >> 1]!;
  if (pipe.entries !== ROWS) throw new Error(`${ROWS - pipe.entries} generated rows were not accepted (${pipe.quarantined} quarantined)`);
  const rawMs = median(raws.map((r) => r.ms));
  const parseThread = source.parseThread === 'on' || (source.parseThread === 'auto' && bytes >= PARSE_THREAD_MIN_BYTES);
  const usPerRow = (ms: number) => round2((ms * 1000) / ROWS);
  const rawPerSec = perSec(ROWS, rawMs);
  const runsText = (runs: Array<{ ms: number }>) => runs.map((r) => perSec(ROWS, r.ms).toLocaleString('en')).join(' / ');
  console.error(`parse rows/s: raw ${runsText(raws)}; pipeline ${runsText(pipes)}`);

  const pgUp = WITH_POSTGRES && (await postgresAvailable());
  const pgRes = pgUp ? await postgresRun() : undefined;
  phase('postgres');
  if (pgRes && (pgRes.stored.ledger !== ROWS || pgRes.stored.copied !== ROWS || pgRes.up.inserted !== ROWS)) {
    throw new Error(
      `PostgreSQL stored ${pgRes.stored.ledger} ledger rows (${pgRes.up.inserted} counted inserted) and ${pgRes.stored.copied} copied rows, expected ${ROWS}`,
    );
  }
  const peakRssMb = processPeakRssMb();
  const lite = PGLITE_ROWS > 0 ? await pgliteInChild() : undefined;

  const rows: BenchRow[] = [
    {
      name: 'raw csv-parse (stream, count records)',
      rows: ROWS,
      ms: rawMs,
      note: `median of ${raws.length} runs, alternating with the pipeline's: ${runsText(raws)} rows/s`,
    },
    {
      name: 'parse + normalise + rate (no ledger)',
      rows: ROWS,
      ms: pipe.ms,
      vs: { label: 'raw csv-parse', perSec: rawPerSec },
      goal: 0.5,
      note:
        `median of ${pipes.length} runs (${runsText(pipes)} rows/s); ${pipe.lines.toLocaleString('en')} lines, ${pipe.excluded.toLocaleString('en')} excluded; ` +
        (parseThread
          ? `parsed on a worker thread, main thread busy ${usPerRow(pipe.mainBusyMs)} µs/row (raw parse ${usPerRow(rawMs)} µs/row)`
          : 'parsed on the main thread'),
    },
  ];
  if (pgRes) {
    const copyPerSec = perSec(pgRes.copy.rows, pgRes.copy.ms);
    rows.push(
      {
        name: 'raw COPY into a bare table (PostgreSQL)',
        rows: pgRes.copy.rows,
        ms: pgRes.copy.ms,
        note: `one COPY per ledger batch (${LEDGER_BATCH_ENTRIES} entries, as the pull writes)`,
      },
      {
        name: 'ledger ingest: upsertEntries (PostgreSQL)',
        rows: pgRes.up.rows,
        ms: pgRes.up.ms,
        vs: { label: 'raw COPY', perSec: copyPerSec },
        goal: 0.5,
      },
    );
  }
  if (lite)
    rows.push({
      name: 'ledger ingest: upsertEntries (PGlite)',
      rows: lite.rows,
      ms: lite.ms,
      note: `first ${PGLITE_ROWS.toLocaleString('en')} rows, on disk`,
    });

  const pipelineVsRaw = round2(perSec(ROWS, pipe.ms) / rawPerSec);
  const ledgerVsCopy = pgRes ? round2(perSec(pgRes.up.rows, pgRes.up.ms) / perSec(pgRes.copy.rows, pgRes.copy.ms)) : null;
  printTable(rows, [
    [
      'peak RSS',
      `${peakRssMb} MB (goal ≤ ${RSS_GOAL_MB}: ${peakRssMb <= RSS_GOAL_MB ? 'met' : 'NOT met'}); sampled per phase: ${Object.entries(
        phasePeak,
      )
        .map(([k, v]) => `${k} ${v} MB`)
        .join(', ')}${lite ? `; PGlite process ${lite.peakRssMb} MB` : ''}`,
    ],
    ...(pgUp
      ? []
      : ([['PostgreSQL', WITH_POSTGRES ? 'not answering: ledger and COPY runs skipped' : 'skipped (HOURBRIDGE_BENCH_POSTGRES=0)']] as Array<
          [string, string]
        >)),
  ]);
  console.log(
    JSON.stringify({
      rows: ROWS,
      pageSize: PAGE,
      rawCsvRowsPerSec: rawPerSec,
      pipelineRowsPerSec: perSec(ROWS, pipe.ms),
      rawCsvRunsRowsPerSec: raws.map((r) => perSec(ROWS, r.ms)),
      pipelineRunsRowsPerSec: pipes.map((r) => perSec(ROWS, r.ms)),
      pipelineVsRaw,
      parseThread,
      pipelineMainThreadUsPerRow: usPerRow(pipe.mainBusyMs),
      rawCsvUsPerRow: usPerRow(rawMs),
      ledgerPostgresRowsPerSec: pgRes ? perSec(pgRes.up.rows, pgRes.up.ms) : null,
      copyRowsPerSec: pgRes ? perSec(pgRes.copy.rows, pgRes.copy.ms) : null,
      ledgerVsCopy,
      pgliteRows: lite?.rows ?? 0,
      ledgerPgliteRowsPerSec: lite ? perSec(lite.rows, lite.ms) : null,
      peakRssMb,
      phasePeakRssMb: phasePeak,
      pglitePeakRssMb: lite?.peakRssMb ?? null,
      ratedLines: pipe.lines,
      goals: { pipelineVsRaw: 0.5, ledgerVsCopy: 0.5, peakRssMb: RSS_GOAL_MB },
      met: {
        pipelineVsRaw: pipelineVsRaw >= 0.5,
        ledgerVsCopy: ledgerVsCopy === null ? null : ledgerVsCopy >= 0.5,
        peakRssMb: peakRssMb <= RSS_GOAL_MB,
      },
    }),
  );
} finally {
  rss.stop();
  rmSync(dir, { recursive: true, force: true });
}
