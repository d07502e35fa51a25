import { QuickBooksConfigSchema } from '../../../connectors/quickbooks/config.schema';
import { QboSession } from '../../../connectors/quickbooks/qbo-session';
import { openLedger } from '../../../src/ledger/db';

/**
 * One real process of the two-process rotation test: reads QuickBooks company info in a loop on
 * the shared PostgreSQL ledger while the fake expires access tokens every few hundred ms, so it
 * refreshes (rotating the refresh token) again and again, at the same moments as its sibling.
 */
const env = process.env;
const config = QuickBooksConfigSchema.parse({
  id: env.QBO_CONNECTION_ID,
  kind: 'quickbooks',
  realmId: env.QBO_REALM,
  baseUrl: `${env.QBO_FAKE_URL}/v3`,
  auth: { clientId: 'test-client-id', clientSecret: 'fake-secret' },
  oauth: { tokenUrl: `${env.QBO_FAKE_URL}/oauth2/v1/tokens/bearer`, authorizeUrl: `${env.QBO_FAKE_URL}/connect/oauth2` },
  defaults: { itemRef: '1' },
  // The fake enforces nothing here; the budget under test is the token store, not the minute limit.
  rateLimits: { requestsPerMinute: 100_000, concurrent: 10, windowMs: 60_000 },
  requestTimeoutMs: 5000,
});

const ledger = await openLedger({ url: env.DATABASE_URL ?? '', poolSize: 2 });
let refreshes = 0;
const session = new QboSession(config, { ledger, tokenOptions: { onRefresh: () => void refreshes++ } });
const until = Date.now() + Number(env.QBO_RUN_MS ?? 3000);
let calls = 0;
try {
  while (Date.now() < until) {
    await session.companyName();
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
