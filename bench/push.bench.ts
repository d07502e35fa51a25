/**
 * bench:push — every destination against its fake at the vendor's documented limits. Xero: push 3,000 invoices to the fake Xero with its limits scaled down in time (same
 * shape as Xero's: 5 concurrent calls, N calls per window, a daily cap) and compare the
 * invoices achieved per window with the theoretical bound (calls per window × 50 per batch).
 * A few responses are lost or answered 503 after Xero committed, to show that recovery costs
 * no duplicates and loses nothing. Baseline measured in the same run: one invoice per call, no
 * batching (what most integrations do).
 *
 * Then the webhook destination (its receiver's configured limit) and Moneybird (150 requests per
 * 5 minutes, the window scaled down in time), each clean and with lost answers and a 5xx
 * (bench/support/push-destinations.ts).
 *
 * Last line: one JSON object with achievedVsBound, duplicates, lost and the other figures
 * (Xero's at the top level, every destination's under `destinations`).
 */
import Table from 'cli-table3';
import pino from 'pino';
import { xeroDestination } from '../connectors/xero';
import { XeroConfigSchema } from '../connectors/xero/config.schema';
import type { InvoiceDraft } from '../src/domain/invoice';
import { dec, fixed, lineAmount, sum } from '../src/domain/money';
import { startFakeXero, type FakeXero } from '../test/fakes/xero-server';
import { benchMoneybird, benchWebhook, type DestinationRun } from './support/push-destinations';

const INVOICES = Number(process.env.BENCH_INVOICES ?? 3000);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 5000);
const CALLS_PER_WINDOW = Number(process.env.BENCH_CALLS_PER_WINDOW ?? 20);
const CONCURRENT = 5;
const BATCH = 50;
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 25);

function makeDraft(i: number, clientId: string): InvoiceDraft {
  const lines = Array.from({ length: 3 }, (_, j) => {
    const quantity = fixed(((i * 7 + j * 3) % 40) / 4 + 0.25, 2);
    const unitPrice = fixed(80 + ((i + j) % 9) * 5.5, 2);
    return {
      lineKey: `w${j}`,
      description: `Work ${j} for ${clientId}`,
      quantity,
      unitPrice,
      amount: fixed(lineAmount(quantity, unitPrice), 2),
      kind: 'time' as const,
      entryIds: [`bench:${i}:${j}`],
    };
  });
  return {
    key: `${clientId}:2026-03:xero-bench:${i}`,
    clientId,
    clientName: `Client ${clientId}`,
    destinationId: 'xero-bench',
    currency: 'EUR',
    period: { start: '2026-03-01', end: '2026-03-31', label: '2026-03' },
    sequence: i,
    issueDate: '2026-04-01',
    dueDate: '2026-05-01',
    lines,
    hours: fixed(sum(lines.map((l) => l.quantity)), 2),
    total: fixed(sum(lines.map((l) => l.amount)), 2),
    contentHash: `bench-${i}`,
  };
}

interface Scenario {
  name: string;
  invoices: number;
  batchSize: number;
  faults: boolean;
}

async function run(s: Scenario, tenantNo: number) {
  const tenantId = `00000000-0000-4000-9000-${String(tenantNo).padStart(12, '0')}`;
  const fake: FakeXero = await startFakeXero({
    tenants: [{ tenantId, tenantName: `Bench ${tenantNo}` }],
    latencyMs: LATENCY_MS,
    limits: { concurrent: CONCURRENT, callsPerWindow: CALLS_PER_WINDOW, windowMs: WINDOW_MS, callsPerDay: 1_000_000 },
  });
  const contact = fake.addContact('Bench clients');
  const config = XeroConfigSchema.parse({
    id: `xero-bench-${tenantNo}`,
    kind: 'xero',
    tenantId,
    auth: { grant: 'client_credentials', clientId: fake.opts.clientId, clientSecret: fake.opts.clientSecret },
    baseUrl: fake.apiBase,
    identity: { tokenUrl: fake.tokenUrl, authorizeUrl: fake.authorizeUrl, connectionsUrl: fake.connectionsUrl },
    defaults: { contact: { contactId: contact.ContactID } },
    batchSize: s.batchSize,
    rateLimits: { concurrent: CONCURRENT, callsPerWindow: CALLS_PER_WINDOW, windowMs: WINDOW_MS, callsPerDay: 1_000_000 },
    requestTimeoutMs: 5_000,
  });
  if (s.faults) {
    fake.inject('drop-after-commit', { method: 'PUT', path: /\/Invoices$/, times: 2 });
    fake.inject('503-after-commit', { method: 'PUT', path: /\/Invoices$/, times: 1 });
  }
  const drafts = Array.from({ length: s.invoices }, (_, i) => makeDraft(i + 1, `c${i % 7}`));
  const t0 = Date.now();
  const outcomes = await xeroDestination.write(config, drafts, {
    log: pino({ level: 'silent' }),
    now: new Date(),
    configDir: '.',
    previous: new Map(),
  });
  // Windows are counted from the first call Xero receives (process warm-up and the token
  // request are not part of the budget), to the end of the write.
  const firstCall = fake.apiRequests()[0]?.at ?? t0;
  const elapsed = Date.now() - firstCall;
  if (process.env.BENCH_DEBUG)
    console.error(
      s.name,
      fake
        .apiRequests()
        .map((r) => `${r.at - t0}:${r.method[0]}${r.status}:${r.responseHeaders?.['X-MinLimit-Remaining'] ?? ''}`)
        .join(' '),
    );
  await fake.stop();

  const written = outcomes.filter((o) => o.status === 'written').length;
  const lost = drafts.filter((d) => fake.countByNumber(`HB-${d.key}`) === 0).length + outcomes.filter((o) => o.status !== 'written').length;
  const duplicates = drafts.filter((d) => fake.countByNumber(`HB-${d.key}`) > 1).length;
  // Xero's figure for the ledger's total (SubTotal on exclusive lines), read back with each write.
  const ledgerTotal = new Map(drafts.map((d) => [d.key, d.total]));
  const totalMismatches = outcomes.filter(
    (o) => o.status === 'written' && (o.remoteTotal === undefined || !dec(o.remoteTotal).eq(ledgerTotal.get(o.key)!)),
  ).length;
  const api = fake.apiRequests();
  const r429 = api.filter((r) => r.status === 429);
  // A 429 is "unanswered" when the client hit the same limit again before its Retry-After had passed.
  const unanswered429 = r429.filter((r) => {
    const retryMs = Number(r.responseHeaders?.['Retry-After'] ?? 0) * 1000;
    const problem = r.responseHeaders?.['X-Rate-Limit-Problem'];
    return api.some(
      (o) =>
        o !== r && o.status === 429 && o.responseHeaders?.['X-Rate-Limit-Problem'] === problem && o.at > r.at && o.at < r.at + retryMs - 5,
    );
  }).length;
  const windows = Math.ceil(elapsed / WINDOW_MS);
  const bound = CALLS_PER_WINDOW * s.batchSize;
  const perWindow = written / windows;
  return {
    scenario: s.name,
    invoices: s.invoices,
    written,
    calls: fake.stats.apiCalls,
    elapsedMs: elapsed,
    windows,
    invoicesPerWindow: Math.round(perWindow * 10) / 10,
    boundPerWindow: bound,
    achievedVsBound: Math.round((perWindow / bound) * 1000) / 1000,
    maxConcurrent: fake.stats.maxConcurrent,
    http429: r429.length,
    http429ByProblem: { ...fake.stats.rejected429 },
    unanswered429,
    droppedAfterCommit: fake.stats.committedDrops,
    duplicates,
    lost,
    totalMismatches,
  };
}

// Throughput is measured on a clean run; a second run with lost/503 responses after commit
// checks that recovery creates no duplicate and loses nothing (its lookups cost extra calls).
const main = await run({ name: `batched (${BATCH}/call)`, invoices: INVOICES, batchSize: BATCH, faults: false }, 1);
const faulty = await run(
  { name: `batched + 3 lost/503 after commit`, invoices: Math.min(INVOICES, 1000), batchSize: BATCH, faults: true },
  3,
);
const baselineCount = Math.min(INVOICES, CALLS_PER_WINDOW * 4);
const baseline = await run({ name: 'baseline: 1 invoice/call', invoices: baselineCount, batchSize: 1, faults: false }, 2);

// Webhook and Moneybird: one request per invoice, so the bound per window is the request limit.
const MB_INVOICES = Number(process.env.BENCH_MB_INVOICES ?? 400);
const MB_WINDOW_MS = Number(process.env.BENCH_MB_WINDOW_MS ?? 3000);
const WH_INVOICES = Number(process.env.BENCH_WH_INVOICES ?? 200);
const WH_WINDOW_MS = Number(process.env.BENCH_WH_WINDOW_MS ?? 1000);
const WH_REQUESTS = Number(process.env.BENCH_WH_REQUESTS ?? 20);
const plainKeys = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => {
    const d = makeDraft(i + 1, `c${i % 7}`);
    return { ...d, key: `${prefix}-${d.key.replace(/:/g, '-')}` };
  });
const others: DestinationRun[] = [
  await benchWebhook({ drafts: plainKeys(WH_INVOICES, 'wh'), windowMs: WH_WINDOW_MS, requests: WH_REQUESTS, faults: false }),
  await benchWebhook({ drafts: plainKeys(Math.min(WH_INVOICES, 60), 'whf'), windowMs: WH_WINDOW_MS, requests: WH_REQUESTS, faults: true }),
  await benchMoneybird({ drafts: plainKeys(MB_INVOICES, 'mb'), windowMs: MB_WINDOW_MS, faults: false, run: 1 }),
  await benchMoneybird({ drafts: plainKeys(Math.min(MB_INVOICES, 100), 'mbf'), windowMs: MB_WINDOW_MS, faults: true, run: 2 }),
];

const table = new Table({
  head: [
    'scenario',
    'invoices',
    'calls',
    'elapsed ms',
    'windows',
    'inv/window',
    'bound/window',
    'achieved/bound',
    'max conc.',
    '429s (min/conc/day)',
    'unanswered 429',
    'dup',
    'lost',
  ],
});
for (const r of [main, faulty, baseline]) {
  table.push([
    r.scenario,
    r.invoices,
    r.calls,
    r.elapsedMs,
    r.windows,
    r.invoicesPerWindow,
    r.boundPerWindow,
    `${(r.achievedVsBound * 100).toFixed(1)} %`,
    r.maxConcurrent,
    `${r.http429ByProblem.minute}/${r.http429ByProblem.concurrent}/${r.http429ByProblem.day}`,
    r.unanswered429,
    r.duplicates,
    r.lost,
  ]);
}
console.log(
  `Fake Xero limits: ${CONCURRENT} concurrent, ${CALLS_PER_WINDOW} calls per ${WINDOW_MS} ms window, ${LATENCY_MS} ms latency per call`,
);
console.log(table.toString());
console.log(
  'windows = fixed windows the run touched, counted from the first call Xero received (the bound is calls per window × batch size per window touched)',
);
console.log(`Batched vs one-per-call: ${(main.invoicesPerWindow / baseline.invoicesPerWindow).toFixed(1)}× invoices per window`);
const otherTable = new Table({
  head: [
    'destination',
    'scenario',
    'invoices',
    'requests',
    'elapsed ms',
    'windows',
    'inv/window',
    'bound/window',
    'achieved/bound',
    '429s',
    'dup',
    'lost',
  ],
});
for (const r of others) {
  otherTable.push([
    r.destination,
    r.scenario,
    r.invoices,
    r.requests,
    r.elapsedMs,
    r.windows,
    r.minWindows,
    r.invoicesPerWindow,
    r.boundPerWindow,
    `${(r.achievedVsBound * 100).toFixed(1)} %`,
    r.http429,
    r.duplicates,
    r.lost,
  ]);
}
console.log(
  `Webhook receiver: ${WH_REQUESTS} requests per ${WH_WINDOW_MS} ms; Moneybird: 150 requests per window, its 5-minute window scaled to ${MB_WINDOW_MS} ms (the bound is requests per window, one invoice per request; contact look-ups and creates use some of it; min windows = the windows the requests made need at the limit)`,
);
console.log(otherTable.toString());
const summary = (runs: DestinationRun[]) => ({
  achievedVsBound: runs[0]!.achievedVsBound,
  invoicesPerWindow: runs[0]!.invoicesPerWindow,
  boundPerWindow: runs[0]!.boundPerWindow,
  windows: runs[0]!.windows,
  minWindows: runs[0]!.minWindows,
  windowMs: runs[0]!.destination === 'moneybird' ? MB_WINDOW_MS : WH_WINDOW_MS,
  http429: runs.reduce((a, r) => a + r.http429, 0),
  duplicates: runs.reduce((a, r) => a + r.duplicates, 0),
  lost: runs.reduce((a, r) => a + r.lost, 0),
  totalMismatches: runs.reduce((a, r) => a + r.totalMismatches, 0),
});
const xeroSummary = {
  achievedVsBound: main.achievedVsBound,
  invoicesPerWindow: main.invoicesPerWindow,
  boundPerWindow: main.boundPerWindow,
  windowMs: WINDOW_MS,
  http429: main.http429 + faulty.http429,
  duplicates: main.duplicates + faulty.duplicates,
  lost: main.lost + faulty.lost,
  totalMismatches: main.totalMismatches,
};
console.log(
  JSON.stringify({
    achievedVsBound: main.achievedVsBound,
    duplicates: main.duplicates + faulty.duplicates,
    lost: main.lost + faulty.lost,
    unanswered429: main.unanswered429 + faulty.unanswered429,
    http429: main.http429 + faulty.http429,
    faultRun: {
      invoices: faulty.invoices,
      droppedAfterCommit: faulty.droppedAfterCommit,
      duplicates: faulty.duplicates,
      lost: faulty.lost,
      achievedVsBound: faulty.achievedVsBound,
    },
    invoices: main.invoices,
    calls: main.calls,
    windows: main.windows,
    elapsedMs: main.elapsedMs,
    windowMs: WINDOW_MS,
    callsPerWindow: CALLS_PER_WINDOW,
    invoicesPerWindow: main.invoicesPerWindow,
    boundPerWindow: main.boundPerWindow,
    maxConcurrent: main.maxConcurrent,
    totalMismatches: main.totalMismatches,
    baselineInvoicesPerWindow: baseline.invoicesPerWindow,
    speedupVsBaseline: Math.round((main.invoicesPerWindow / baseline.invoicesPerWindow) * 10) / 10,
    destinations: {
      xero: xeroSummary,
      webhook: summary(others.filter((r) => r.destination === 'webhook')),
      moneybird: summary(others.filter((r) => r.destination === 'moneybird')),
    },
  }),
);
