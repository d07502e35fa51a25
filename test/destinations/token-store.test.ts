import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { parseSecretKey } from '../../src/crypto/secret-box';
import { isConnectorError } from '../../src/connectors/errors';
import { type OAuthClient, ledgerConnectionStore } from '../../src/destinations/token-store';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { sql } from 'drizzle-orm';
import { startFakeQuickBooks, type FakeQuickBooks } from '../fakes/quickbooks-server';

const key = parseSecretKey(randomBytes(32).toString('base64'));

describe('the runtime token store: a configured refresh token seeds it once', () => {
  let fake: FakeQuickBooks;
  let ledger: Ledger;
  beforeAll(async () => {
    fake = await startFakeQuickBooks({ refreshGraceMs: 0 });
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await fake.stop();
    await ledger.close();
  });
  const client = (id: string): OAuthClient => ({
    kind: 'quickbooks',
    label: 'QuickBooks',
    connectionId: id,
    tokenUrl: fake.tokenUrl,
    clientId: fake.opts.clientId,
    clientSecret: fake.opts.clientSecret,
  });

  it('Given an empty ledger and a seed When a token is needed Then the seed is refreshed once and the rotated token is stored sealed; a later store with the same (now dead) seed uses the stored one', async () => {
    const store = ledgerConnectionStore(ledger, key);
    const seedToken = fake.issueTokenSet().refresh_token;
    const seed = { refreshToken: seedToken, tenantId: fake.opts.realmId };
    const first = await store.tokens(client('seeded'), { seed }).accessToken();
    expect(first).toMatch(/^fake-at-/);
    const stored = await store.read('seeded');
    expect(stored?.tenantId).toBe(fake.opts.realmId);
    expect(stored?.tokenSet.refresh_token).not.toBe(seedToken);
    const [row] = await ledger.rows<{ secret: string }>(sql`SELECT secret FROM connections WHERE id = 'seeded'`);
    expect(row?.secret).not.toContain(stored?.tokenSet.refresh_token ?? '?');
    expect(row?.secret).not.toContain(first);
    const refreshes = fake.stats.refreshes;
    // A second process (or the next run) still has the seed in its config: it must not be used again.
    expect(await store.tokens(client('seeded'), { seed }).accessToken()).toBe(first);
    expect(fake.stats.refreshes).toBe(refreshes);
    expect(fake.stats.invalidGrants).toBe(0);
  });

  it('Given no connection and no seed When a token is needed Then the auth error says which connect to run', async () => {
    const err = await ledgerConnectionStore(ledger, key)
      .tokens(client('absent'))
      .accessToken()
      .catch((e: unknown) => e);
    expect(isConnectorError(err) && err.category).toBe('auth');
    expect((err as Error).message).toBe(
      'No QuickBooks connection is stored for destination "absent": run `hourbridge connect quickbooks --config <config file>` again (destination "absent")',
    );
  });

  it('Given a revoked refresh token When refreshing Then the error is auth, names invalid_grant and never contains a token', async () => {
    const store = ledgerConnectionStore(ledger, key);
    await store.save({
      id: 'revoked',
      kind: 'quickbooks',
      tenantId: '1',
      tokenSet: { access_token: 'fake-at-old', refresh_token: 'fake-rt-unknown', expires_at: 0 },
    });
    const err = await store
      .tokens(client('revoked'))
      .accessToken()
      .catch((e: unknown) => e);
    expect(isConnectorError(err) && err.category).toBe('auth');
    expect((err as Error).message).toMatch(/invalid_grant/);
    expect((err as Error).message).not.toMatch(/fake-rt|fake-at|fake-secret/);
  });
});
