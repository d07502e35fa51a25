/**
 * Finance pages benchmark: the overview and a client page, served over HTTP by the pages'
 * Nest app, on a PostgreSQL ledger of N entries for 50 clients, next to the bare SQL of the
 * same figures in the same run (the open drafts' and approved invoices' nets per client, and
 * the ageing of outstanding hours).
 *
 * The ledger is seeded by SQL (no sync): per client, monthly invoices over the last two years,
 * all approved but the current month's draft; one entry and one rated line per shift, each
 * linked to its invoice, priced under the config's current rules — a settled ledger, so the
 * pages read it as it is (nothing is pending for assembly).
 *
 *   npm run bench:ui                               # 100,000 entries, 50 clients
 *   npm run bench:ui -- --entries 1000000          # the issue's size
 *   npm run bench:ui -- --rounds 20
 *
 * Prints a table, then the figures as one JSON object on the last line.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { loadConfig } from '../src/config/loader';
import { openLedger } from '../src/ledger/db';
import { assemblyFingerprint } from '../src/stages/assemble.stage';
import { startUiServer } from '../src/ui/server';
import { createTestDatabase, postgresAvailable } from '../test/support/services';

const { values: args } = parseArgs({ options: { entries: { type: 'string' }, clients: { type: 'string' }, rounds: { type: 'string' } } });
const ENTRIES = Number((args.entries ?? process.env.BENCH_UI_ENTRIES ?? '100000').replace(/_/g, ''));
const CLIENTS = Number(args.clients ?? 50);
const ROUNDS = Number(args.rounds ?? 15);
const TOKEN = 'bench-operator-token-0123456789';

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! * 10) / 10;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

if (!(await postgresAvailable()))
  throw new Error('bench:ui needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)');
const dir = await mkdtemp(path.join(os.tmpdir(), 'hourbridge-bench-ui-'));
const { url, drop } = await createTestDatabase();
const ids = Array.from({ length: CLIENTS }, (_, i) => `c${String(i + 1).padStart(2, '0')}`);
const yaml = `
sources:
  - { id: sheet, kind: csv, path: ./none.csv, timeZone: Europe/Amsterdam, columns: { date: date, hours: hours, worker: worker, client: client } }
clients:
${ids.map((id) => `  - { id: ${id}, name: Client ${id}, currency: EUR, timeZone: Europe/Amsterdam, destination: files, period: { unit: month } }`).join('\n')}
rates:
  rulesets:
    standard:
      base:
        - { id: default, hourly: '80.00' }
destinations:
  - { id: files, kind: file, dir: ${path.join(dir, 'out')} }
server:
  apiTokens: ["${TOKEN}"]
`;
await writeFile(path.join(dir, 'config.yaml'), yaml);
const config = loadConfig(path.join(dir, 'config.yaml'));
const ledger = await openLedger({ url, poolSize: 4 });
const log = pino({ level: 'silent' });

try {
  const seedStart = performance.now();
  const hash = config.rates.hash;
  // 24 months back from this month; entry n belongs to client n % CLIENTS, month (n / CLIENTS) % 24.
  await ledger.rows(sql`
    INSERT INTO invoices (key, client_id, destination_id, currency, period_start, period_end, period_label, sequence, status, hours, total,
      issue_date, due_date, content_hash, pushed_hash, remote_id, remote_status, draft)
    SELECT c.id || '-' || to_char(m.start, 'YYYY-MM') || '-files-1', c.id, 'files', 'EUR', m.start, (m.start + interval '1 month - 1 day')::date,
      to_char(m.start, 'YYYY-MM'), 1, CASE WHEN m.i = 0 THEN 'pushed' ELSE 'approved' END, 0, 0, m.start, m.start, 'h', 'h',
      c.id || to_char(m.start, 'YYYYMM'), CASE WHEN m.i = 0 THEN 'DRAFT' ELSE 'AUTHORISED' END, '{}'::jsonb
    FROM unnest(${sql.param(ids)}::text[]) AS c(id),
      LATERAL (SELECT i, (date_trunc('month', now()) - make_interval(months => i))::date AS start FROM generate_series(0, 23) i) m`);
  await ledger.rows(sql`
    INSERT INTO time_entries (source_id, external_id, content_hash, status, client_id, worker, work_date, duration_seconds, billable, approved, data, rated_with)
    SELECT 'sheet', 'e' || n, 'h', CASE WHEN (n / ${CLIENTS}) % 24 = 0 THEN 'drafted' ELSE 'billed' END,
      'c' || lpad(((n % ${CLIENTS}) + 1)::text, 2, '0'), 'w' || (n % 200),
      (date_trunc('month', now()) - make_interval(months => ((n / ${CLIENTS}) % 24)::int))::date + ((n / ${CLIENTS * 24}) % 28)::int,
      27000, true, true, '{}'::jsonb, ${hash}
    FROM generate_series(0, ${ENTRIES - 1}) n`);
  await ledger.rows(sql`
    INSERT INTO rated_lines (entry_id, entry_revision, piece, kind, client_id, currency, work_date, quantity, unit_price, amount, rule, data)
    SELECT id, 1, 0, 'time', client_id, 'EUR', work_date, 7.5, 80, 600, 'default', '{}'::jsonb FROM time_entries`);
  await ledger.rows(sql`
    INSERT INTO invoice_entries (entry_id, invoice_id, entry_revision, lines)
    SELECT te.id, i.id, 1, '[{}]'::jsonb FROM time_entries te
    JOIN invoices i ON i.client_id = te.client_id AND i.period_start = date_trunc('month', te.work_date)::date`);
  await ledger.rows(sql`
    UPDATE invoices i SET hours = s.h, total = s.t,
      draft = jsonb_build_object('hours', s.h::text, 'billedHours', s.h::text, 'total', to_char(s.t, 'FM999999999990.00'), 'currency', 'EUR', 'lines', '[]'::jsonb)
    FROM (SELECT ie.invoice_id, sum(rl.quantity) AS h, sum(rl.amount) AS t FROM invoice_entries ie JOIN rated_lines rl ON rl.entry_id = ie.entry_id GROUP BY 1) s
    WHERE s.invoice_id = i.id`);
  // As after a sync: every client's change marker says its last assembly saw everything.
  const fingerprints = config.clients.map((c) => assemblyFingerprint(c, config.rates));
  await ledger.rows(sql`
    INSERT INTO assembly_marks (client_id, version, assembled_version, fingerprint)
    SELECT id, 1, 1, fp FROM unnest(${sql.param(ids)}::text[], ${sql.param(fingerprints)}::text[]) AS t(id, fp)`);
  await ledger.rows(sql`ANALYZE`);
  const seedMs = performance.now() - seedStart;

  const server = await startUiServer({ config, ledger, log, port: 0 });
  const get = async (p: string) => {
    const res = await fetch(`${server.url}${p}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    if (res.status !== 200) throw new Error(`${p}: ${res.status}`);
    await res.text();
  };
  // The same figures as the overview, in plain SQL: nets per client and state, and the ageing.
  const bareOverview = async () => {
    await ledger.rows(sql`
      SELECT client_id, sum(total) FILTER (WHERE status IN ('draft','pushed','failed')) AS drafted,
        sum(total) FILTER (WHERE status IN ('approved','paid') AND period_start = date_trunc('month', now())::date) AS current,
        sum(total) FILTER (WHERE status IN ('approved','paid') AND period_start = (date_trunc('month', now()) - interval '1 month')::date) AS previous
      FROM invoices WHERE live GROUP BY client_id`);
    await ledger.rows(sql`
      SELECT te.client_id, width_bucket(current_date - te.work_date, ARRAY[8, 31, 91]) AS bucket, sum(rl.quantity)
      FROM time_entries te JOIN rated_lines rl ON rl.entry_id = te.id
      WHERE te.status IN ('rated','drafted') AND te.deleted_at IS NULL GROUP BY 1, 2`);
  };
  const bareClient = async () => {
    await ledger.rows(sql`SELECT key, status, total FROM invoices WHERE client_id = 'c01' AND live ORDER BY period_start`);
    await ledger.rows(sql`SELECT count(*) FROM time_entries WHERE COALESCE(client_id, '') = 'c01' AND status IN ('excluded','unpriced')`);
  };
  const cases: Array<[string, () => Promise<unknown>, () => Promise<unknown>]> = [
    ['overview', () => get('/'), bareOverview],
    ['client', () => get('/ui/clients/c01'), bareClient],
  ];
  for (const [, page, bare] of cases) {
    await page();
    await bare();
  }
  const times: Record<string, { page: number[]; bare: number[] }> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, page, bare] of cases) {
      times[name] ??= { page: [], bare: [] };
      times[name].page.push(await timed(page));
      times[name].bare.push(await timed(bare));
    }
  }
  await server.close();

  const table = new Table({
    head: ['page', 'p50 ms', 'p95 ms', 'bare SQL p50', 'bare SQL p95', 'p95 / bare p95', 'goal p95 ≤ 300 ms, ≤ 3×'],
  });
  const out: Record<string, { p50Ms: number; p95Ms: number; bareP50Ms: number; bareP95Ms: number; vsBareSql: number }> = {};
  for (const [name] of cases) {
    const t = times[name]!;
    const row = {
      p50Ms: percentile(t.page, 50),
      p95Ms: percentile(t.page, 95),
      bareP50Ms: percentile(t.bare, 50),
      bareP95Ms: percentile(t.bare, 95),
      vsBareSql: 0,
    };
    row.vsBareSql = Math.round((row.p95Ms / Math.max(row.bareP95Ms, 0.1)) * 100) / 100;
    out[name] = row;
    table.push([
      name,
      row.p50Ms,
      row.p95Ms,
      row.bareP50Ms,
      row.bareP95Ms,
      row.vsBareSql,
      row.p95Ms <= 300 && row.vsBareSql <= 3 ? 'met' : 'NOT met',
    ]);
  }
  process.stdout.write(
    `bench:ui — ${ENTRIES.toLocaleString('en')} entries, ${CLIENTS} clients, PostgreSQL, ${ROUNDS} rounds (seeded in ${(seedMs / 1000).toFixed(1)} s)\n`,
  );
  process.stdout.write(`${table.toString()}\n`);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'ui',
      entries: ENTRIES,
      clients: CLIENTS,
      rounds: ROUNDS,
      p95Ms: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.p95Ms])),
      vsBareSql: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.vsBareSql])),
      pages: out,
    })}\n`,
  );
} finally {
  await ledger.close();
  await drop();
  await rm(dir, { recursive: true, force: true });
}
