import { ExactOnlineConfigSchema } from '../../../connectors/exactonline/config.schema';
import { ExactSession } from '../../../connectors/exactonline/exact-session';
import { openLedger } from '../../../src/ledger/db';

/**
 * One real process of the two-process rotation test: reads the division's invoices in a loop on
 * the shared PostgreSQL ledger while the fake expires access tokens every few hundred ms, so it
 * refreshes (Exact rotates the refresh token every time) at the same moments as its sibling.
 */
const env = process.env;
const config = ExactOnlineConfigSchema.parse({
  id: env.EXACT_CONNECTION_ID,
  kind: 'exactonline',
  division: Number(env.EXACT_DIVISION),
  baseUrl: env.EXACT_FAKE_URL,
  auth: { clientId: 'test-client-id', clientSecret: 'fake-secret' },
  defaults: { item: '00000000-0000-4000-8000-000000000001' },
  rateLimits: { perMinute: 100_000, perDay: 1_000_000, concurrent: 4, windowMs: 60_000 },
  requestTimeoutMs: 5000,
});

const ledger = await openLedger({ url: env.DATABASE_URL ?? '', poolSize: 2 });
let refreshes = 0;
const session = new ExactSession(config, { ledger, tokenOptions: { onRefresh: () => void refreshes++ } });
const until = Date.now() + Number(env.EXACT_RUN_MS ?? 3000);
let calls = 0;
try {
  while (Date.now() < until) {
    await session.invoicesByYourRef(['HB-rotation']);
    calls++;
    await new Promise((r) => setTimeout(r, Math.random() * 15));
  }
  process.stdout.write(`${JSON.stringify({ calls, refreshes, unauthorized: session.client.stats.refreshes })}\n`);
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await ledger.close();
}
