/**
 * Live updates: seconds from a tracker's webhook arriving to the updated draft being written.
 *
 * The service as an operator runs it: `hourbridge serve --no-workers` in its own process takes
 * the webhooks (NestJS HTTP), and this process works the queues (the queue runner's workers),
 * with real Redis and PostgreSQL; one Toggl Track source answered by nock, in the workers'
 * process, from its documented Reports payloads; one client; the file destination. For `--seconds` (default 60)
 * it posts 100 signed `time_entry created` events a second (`--rate`), each for a new entry of
 * the last five days, and watches the ledger (every 100 ms) for the moment each entry is on a
 * draft that was written. The baseline, measured in the same run on the same data: a full
 * pipeline run (what a scheduled sync does to see the same changes), whose duration is the
 * least a schedule adds — plus up to its whole interval of waiting.
 *
 * Prints tables, then the figures as one JSON object on the last line. Goal: p95 ≤ 60 s.
 */
import '../test/fakes/node20-polyfills';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import Table from 'cli-table3';
import { sql } from 'drizzle-orm';
import nock from 'nock';
import { recentStart, startLiveService, TogglWorkspace, togglEvent } from '../test/live/support';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
const SECONDS = arg('seconds', 60);
const RATE = arg('rate', 100);
const TICK_MS = 100;

nock.disableNetConnect();
nock.enableNetConnect(/127\.0\.0\.1|localhost/);
const toggl = new TogglWorkspace();
toggl.intercept();
process.stderr.write(`live bench: ${RATE} events/s for ${SECONDS} s…\n`);
const h = await startLiveService({ prefix: `hbbench-live-${randomBytes(4).toString('hex')}`, pageSize: 1000, clockify: false });
const port = await new Promise<number>((resolve) => {
  const probe = net.createServer().listen(0, '127.0.0.1', () => {
    const p = (probe.address() as AddressInfo).port;
    probe.close(() => resolve(p));
  });
});
const serve = spawn(
  process.execPath,
  [
    path.resolve(import.meta.dirname, '../bin/hourbridge.js'),
    'serve',
    '--no-workers',
    '--config',
    h.configFile,
    '--ledger-url',
    h.dbUrl,
    '--prefix',
    h.prefix,
    '--port',
    String(port),
    '--log-level',
    'warn',
  ],
  { env: process.env, stdio: ['ignore', 'ignore', 'inherit'] },
);
const url = `http://127.0.0.1:${port}/hooks/sources/toggl`;
for (let i = 0; ; i++) {
  const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
    (r) => r.ok,
    () => false,
  );
  if (ok) break;
  if (i > 300) throw new Error('hourbridge serve did not answer /health within 60 s');
  await new Promise((r) => setTimeout(r, 200));
}

const sentAt = new Map<string, number>();
const writtenAt = new Map<string, number>();
const statuses = new Map<number, number>();
/** Seconds from sending a webhook to its response (the service's accept path). */
const answered: number[] = [];

/** Entries of `ids` that are on a live draft whose current content was written. */
async function written(ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await h.ledger.rows<{ id: string }>(sql`
    SELECT te.external_id AS id FROM time_entries te
    JOIN invoice_entries ie ON ie.entry_id = te.id AND ie.live
    JOIN invoices i ON i.id = ie.invoice_id AND i.live AND i.pushed_hash IS NOT DISTINCT FROM i.content_hash
    WHERE te.source_id = 'toggl' AND te.external_id = ANY(${sql.param(ids)}::text[])`);
  return rows.map((r) => r.id);
}

let watching = true;
const watcher = (async () => {
  while (watching) {
    const open = [...sentAt.keys()].filter((id) => !writtenAt.has(id));
    const now = Date.now();
    for (const id of await written(open)) writtenAt.set(id, now);
    await new Promise((r) => setTimeout(r, 100));
  }
})();

// --- the load: RATE events a second, in ticks ------------------------------------------------
// Bodies are made (and the entries put in the fake workspace: a live pull asks only for the ids
// it was told of) before the clock starts, so the sending loop only sends.
const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
const total = Math.round(RATE * SECONDS);
const planned = Array.from({ length: total }, (_, i) => {
  const id = 1_000_000 + i;
  const start = recentStart(1 + (id % 5), 6 + (id % 12));
  toggl.put(id, start, 900 + (id % 8) * 900);
  return { id: String(id), start };
});
const t0 = Date.now();
const inflight: Promise<void>[] = [];
for (let tick = 0; tick * perTick < total; tick++) {
  const due = t0 + tick * TICK_MS;
  if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
  for (const p of planned.slice(tick * perTick, (tick + 1) * perTick)) {
    const e = togglEvent(Number(p.id), 'created', p.start);
    const sent = Date.now();
    sentAt.set(p.id, sent);
    inflight.push(
      fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Webhook-Signature-256': e.signature }, body: e.body })
        .then((r) => {
          answered.push((Date.now() - sent) / 1000);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        })
        .catch(() => void statuses.set(0, (statuses.get(0) ?? 0) + 1)),
    );
  }
}
await Promise.all(inflight);
const sendSeconds = (Date.now() - t0) / 1000;
process.stderr.write(`sent ${sentAt.size} events in ${sendSeconds.toFixed(1)} s; waiting for the drafts…\n`);
const deadline = Date.now() + 180_000;
while (writtenAt.size < sentAt.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
watching = false;
await watcher;

const live = await h.ledger.rows<{ pulls: number; assemblies: number; drafts: number }>(sql`
  SELECT count(*) FILTER (WHERE kind = 'live:toggl')::int AS pulls,
    count(*) FILTER (WHERE kind = 'live:globex')::int AS assemblies,
    COALESCE(sum((summary->'push'->>'written')::int) FILTER (WHERE kind = 'live:globex'), 0)::int AS drafts
  FROM runs`);

// --- the baseline: a full pipeline run over the same source and data --------------------------
process.stderr.write('baseline: a full pipeline run over the same data…\n');
const b0 = performance.now();
const { runId } = await h.runner.triggerRun('all');
const run = await h.runner.waitForRun(runId, 30 * 60_000, 100);
const fullSyncSeconds = (performance.now() - b0) / 1000;
if (run.state !== 'completed') throw new Error(`baseline run failed: ${run.failedReason}`);
serve.kill('SIGTERM');
await new Promise((r) => serve.once('exit', r));
await h.close();

const latencies = [...writtenAt].map(([id, at]) => (at - sentAt.get(id)!) / 1000).sort((a, b) => a - b);
const pct = (p: number) =>
  latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]! : Number.NaN;
answered.sort((a, b) => a - b);
const answerP95 = answered.length ? answered[Math.ceil(0.95 * answered.length) - 1]! : Number.NaN;
const figures = {
  events: sentAt.size,
  seconds: +sendSeconds.toFixed(1),
  eventsPerSecond: +(sentAt.size / sendSeconds).toFixed(1),
  accepted: statuses.get(202) ?? 0,
  refused: sentAt.size - (statuses.get(202) ?? 0),
  written: writtenAt.size,
  missing: sentAt.size - writtenAt.size,
  p50S: +pct(50).toFixed(2),
  p95S: +pct(95).toFixed(2),
  p99S: +pct(99).toFixed(2),
  maxS: +pct(100).toFixed(2),
  answerP50S: +(answered[Math.floor(answered.length / 2)] ?? Number.NaN).toFixed(3),
  answerP95S: +answerP95.toFixed(3),
  livePulls: live[0]?.pulls ?? 0,
  assemblies: live[0]?.assemblies ?? 0,
  draftsWritten: live[0]?.drafts ?? 0,
  fullSyncSeconds: +fullSyncSeconds.toFixed(2),
  p95VsFullSync: +(pct(95) / fullSyncSeconds).toFixed(3),
  goalP95S: 60,
  goalMet: pct(95) <= 60 && writtenAt.size === sentAt.size,
};

const t1 = new Table({ head: ['webhook → written draft', 'seconds', 'vs a full sync'], colAligns: ['left', 'right', 'right'] });
t1.push(
  ['full pipeline run, same data (baseline)', figures.fullSyncSeconds.toFixed(2), '1.000'],
  ['p50', figures.p50S.toFixed(2), (figures.p50S / fullSyncSeconds).toFixed(3)],
  ['p95 (goal ≤ 60 s)', figures.p95S.toFixed(2), figures.p95VsFullSync.toFixed(3)],
  ['p99', figures.p99S.toFixed(2), (figures.p99S / fullSyncSeconds).toFixed(3)],
  ['max', figures.maxS.toFixed(2), (figures.maxS / fullSyncSeconds).toFixed(3)],
);
console.log(t1.toString());
const t2 = new Table({ head: ['load', 'value'], colAligns: ['left', 'right'] });
t2.push(
  ['events sent (202 accepted)', `${figures.events} (${figures.accepted})`],
  ['events/s', figures.eventsPerSecond],
  ['webhook answered, p50 / p95 (s)', `${figures.answerP50S} / ${figures.answerP95S}`],
  ['entries on a written draft', `${figures.written} of ${figures.events}`],
  ['live pulls', figures.livePulls],
  ['assemblies with a write', figures.assemblies],
  ['drafts written', figures.draftsWritten],
  ['goal met (p95 ≤ 60 s, none missing)', figures.goalMet ? 'yes' : 'NO'],
);
console.log(t2.toString());
console.log(JSON.stringify(figures));
process.exit(figures.missing === 0 ? 0 : 1);
