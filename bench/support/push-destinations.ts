import pino from 'pino';
import { moneybirdDestination } from '../../connectors/moneybird';
import { MoneybirdConfigSchema } from '../../connectors/moneybird/config.schema';
import { startFakeMoneybird } from '../../connectors/moneybird/fake-moneybird';
import { webhookDestination } from '../../connectors/webhook';
import { WebhookConfigSchema } from '../../connectors/webhook/config.schema';
import { startFakeReceiver } from '../../connectors/webhook/fake-receiver';
import type { WriteOutcome } from '../../src/connectors/contract';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { dec } from '../../src/domain/money';

/**
 * The webhook and Moneybird parts of bench:push: each destination against its local fake at the
 * limit it documents (Moneybird: 150 requests per 5-minute window, scaled down in time like the
 * Xero run; webhook: the receiver's configured limit), counting invoices written per limit
 * window against the bound (requests per window × invoices per request), duplicates and lost
 * invoices — once clean and once with answers lost after commit and a 5xx.
 */
export interface DestinationRun {
  destination: string;
  scenario: string;
  invoices: number;
  written: number;
  requests: number;
  elapsedMs: number;
  windows: number;
  /** Windows the requests made need at the limit: the run can do no better than this. */
  minWindows: number;
  invoicesPerWindow: number;
  boundPerWindow: number;
  achievedVsBound: number;
  http429: number;
  duplicates: number;
  lost: number;
  totalMismatches: number;
}

const ctx = () => ({ log: pino({ level: 'silent' }), now: new Date(), configDir: '.', previous: new Map() });

function figures(
  destination: string,
  scenario: string,
  drafts: InvoiceDraft[],
  outcomes: WriteOutcome[],
  log: { at: number; status: number }[],
  windowMs: number,
  bound: number,
  count: (key: string) => number,
): DestinationRun {
  const first = log[0]?.at ?? Date.now();
  const elapsedMs = Math.max(1, Date.now() - first);
  const windows = Math.ceil(elapsedMs / windowMs);
  const written = outcomes.filter((o) => o.status === 'written').length;
  const totals = new Map(drafts.map((d) => [d.key, d.total]));
  const perWindow = written / windows;
  return {
    destination,
    scenario,
    invoices: drafts.length,
    written,
    requests: log.length,
    elapsedMs,
    windows,
    minWindows: Math.ceil(log.length / bound),
    invoicesPerWindow: Math.round(perWindow * 10) / 10,
    boundPerWindow: bound,
    achievedVsBound: Math.round((perWindow / bound) * 1000) / 1000,
    http429: log.filter((r) => r.status === 429).length,
    duplicates: drafts.filter((d) => count(d.key) > 1).length,
    lost: drafts.filter((d) => count(d.key) === 0).length + outcomes.filter((o) => o.status !== 'written').length,
    totalMismatches: outcomes.filter(
      (o) => o.status === 'written' && o.remoteTotal !== undefined && !dec(o.remoteTotal).eq(totals.get(o.key)!),
    ).length,
  };
}

export async function benchMoneybird(opts: {
  drafts: InvoiceDraft[];
  windowMs: number;
  faults: boolean;
  run: number;
}): Promise<DestinationRun> {
  const requests = 150;
  // A token per run: Moneybird's budget is per token, and one run must not wait for the other's window.
  const fake = await startFakeMoneybird({
    limit: { requests, windowMs: opts.windowMs },
    administrationId: String(900000 + opts.run),
    token: `fake-moneybird-bench-token-${opts.run}`,
  });
  const config = MoneybirdConfigSchema.parse({
    id: `mb-bench-${opts.run}`,
    kind: 'moneybird',
    administrationId: fake.administrationId,
    token: fake.token,
    baseUrl: fake.baseUrl,
    defaults: { taxRateId: fake.taxRate.id, ledgerAccountId: fake.ledgerAccountId },
    // Moneybird's documented limit, with its 5-minute window scaled down to windowMs.
    rateLimit: { requests, perSeconds: opts.windowMs / 1000 },
    retry: { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 500 },
    timeoutMs: 5000,
  });
  if (opts.faults) {
    fake.fail('lose', 2);
    fake.fail('5xx', 1);
  }
  const outcomes = await moneybirdDestination.write(config, opts.drafts, ctx());
  await fake.stop();
  const byReference = (key: string) => [...fake.invoices.values()].filter((i) => i.reference === key).length;
  return figures(
    'moneybird',
    opts.faults ? '2 lost answers + 1 5xx after commit' : 'clean',
    opts.drafts,
    outcomes,
    fake.log,
    opts.windowMs,
    requests,
    byReference,
  );
}

export async function benchWebhook(opts: {
  drafts: InvoiceDraft[];
  windowMs: number;
  requests: number;
  faults: boolean;
}): Promise<DestinationRun> {
  const fake = await startFakeReceiver({ limit: { requests: opts.requests, windowMs: opts.windowMs } });
  const config = WebhookConfigSchema.parse({
    id: `wh-bench-${opts.faults ? 'f' : 'c'}`,
    kind: 'webhook',
    url: fake.url,
    secret: fake.secret,
    concurrency: 4,
    rateLimit: { requests: opts.requests, perSeconds: opts.windowMs / 1000 },
    retry: { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 500 },
    timeoutMs: 5000,
  });
  if (opts.faults) {
    fake.fail('lose', 2);
    fake.fail('5xx', 1);
  }
  const outcomes = await webhookDestination.write(config, opts.drafts, ctx());
  await fake.stop();
  const live = (key: string) => {
    const d = fake.docs.get(key);
    return d && d.status !== 'deleted' ? 1 : 0;
  };
  const run = figures(
    'webhook',
    opts.faults ? '2 lost answers + 1 5xx' : 'clean',
    opts.drafts,
    outcomes,
    fake.log,
    opts.windowMs,
    opts.requests,
    live,
  );
  // The receiver upserts by key; a second id for one key would be a duplicate invoice.
  return { ...run, duplicates: fake.duplicates() };
}
