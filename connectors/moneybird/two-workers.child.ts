/**
 * One worker process for moneybird.workers.test.ts: writes MB_COUNT invoices to the local
 * Moneybird under the destination's shared budget (Redis when REDIS_URL is set, else in-process
 * memory), then prints how many were written.
 */
import pino from 'pino';
import { withDestinationServices } from '../../src/destinations/services';
import { closeRateLimiters } from '../../src/http/rate-limit';
import { MoneybirdConfigSchema } from './config.schema';
import { moneybirdDestination } from './index';

const env = process.env;
const config = MoneybirdConfigSchema.parse({
  id: 'books',
  kind: 'moneybird',
  administrationId: env.MB_ADM,
  token: env.MB_TOKEN,
  baseUrl: env.MB_BASE_URL,
  defaults: { taxRateId: env.MB_TAX_RATE, ledgerAccountId: env.MB_LEDGER },
  clients: { acme: { contactId: env.MB_CONTACT } },
  rateLimit: { requests: Number(env.MB_REQUESTS), perSeconds: 1 },
  retry: { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 500 },
});
const drafts = Array.from({ length: Number(env.MB_COUNT) }, (_, i) => ({
  key: `${env.MB_WORKER}-${i}`,
  clientId: 'acme',
  clientName: 'Acme Ltd',
  destinationId: 'books',
  currency: 'EUR',
  period: { start: '2026-03-01', end: '2026-03-31', label: '2026-03' },
  sequence: i + 1,
  issueDate: '2026-04-01',
  dueDate: '2026-05-01',
  lines: [{ lineKey: 'l', description: 'Work', quantity: '1', unitPrice: '10.00', amount: '10.00', kind: 'time' as const, entryIds: [] }],
  hours: '1',
  total: '10.00',
  contentHash: `h${i}`,
}));
const ctx = withDestinationServices(
  {
    log: pino({ level: 'silent' }),
    now: new Date(),
    configDir: '.',
    previous: new Map(),
    services: env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {},
  },
  moneybirdDestination,
  config.id,
);
const out = await moneybirdDestination.write(config, drafts, ctx);
process.stdout.write(JSON.stringify({ written: out.filter((o) => o.status === 'written').length }));
await closeRateLimiters();
