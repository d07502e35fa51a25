import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { describeIf } from '../support/runner';
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { xeroDestination } from '../../connectors/xero';
import { StoredTokens, readConnection, saveConnection, type StoredTokenSet } from '../../connectors/xero/token-store';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { connections } from '../../src/ledger/schema';
import { parseSecretKey } from '../../src/crypto/secret-box';
import { isConnectorError } from '../../src/connectors/errors';
import { startFakeXero, type FakeXero } from '../fakes/xero-server';
import { createTestDatabase, postgresAvailable } from '../support/services';
import { draft, fakeTenant, writeCtx, xeroConfig } from './helpers';

const keyText = randomBytes(32).toString('base64');
process.env.HOURBRIDGE_SECRET_KEY = keyText;
const key = parseSecretKey(keyText);
const pgUp = await postgresAvailable();

function asStored(set: Record<string, unknown>): StoredTokenSet {
  return {
    access_token: String(set.access_token),
    refresh_token: String(set.refresh_token),
    expires_at: Math.floor(Date.now() / 1000) + Number(set.expires_in),
    scope: String(set.scope),
  };
}

const authCode = (fake: FakeXero) => ({
  grant: 'authorization_code' as const,
  clientId: fake.opts.clientId,
  clientSecret: fake.opts.clientSecret,
});

describe('Xero tokens in the ledger (PGlite)', () => {
  let fake: FakeXero;
  let ledger: Ledger;
  beforeAll(async () => {
    fake = await startFakeXero({ tenants: [fakeTenant(41)], latencyMs: 5 });
    fake.addContact('Acme Ltd');
    ledger = await openLedger({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await fake.stop();
    await ledger.close();
  });

  it('Given the access token expires mid-run, when writing 120 invoices in batches of 10, then there is exactly one refresh, the run completes, and the rotated tokens are stored encrypted', async () => {
    const config = xeroConfig(fake, { auth: authCode(fake), batchSize: 10 });
    const issued = asStored(fake.issueTokenSet());
    await saveConnection(ledger, key, { id: config.id, tenantId: config.tenantId, tokenSet: issued });
    fake.expireAccessTokensAfter(4);
    const tokenCallsBefore = fake.stats.tokenCalls;
    const drafts = Array.from({ length: 120 }, (_, i) => draft(i + 1));
    const outcomes = await xeroDestination.write(config, drafts, writeCtx(new Map(), { ledger }));
    expect(outcomes.every((o) => o.status === 'written')).toBe(true);
    expect(fake.stats.tokenCalls - tokenCallsBefore).toBe(1);
    expect(fake.requests.filter((r) => r.status === 401).length).toBeGreaterThan(0);
    const [row] = await ledger.db.select().from(connections).where(eq(connections.id, config.id));
    expect(row!.version).toBe(2);
    const stored = await readConnection(ledger, key, config.id);
    expect(stored!.tokenSet.refresh_token).not.toBe(issued.refresh_token);
    expect(row!.secret).not.toContain(stored!.tokenSet.refresh_token!);
    expect(row!.secret).not.toContain(stored!.tokenSet.access_token);
  });

  it('Given the refresh response is lost after Xero rotated the token, when refreshing, then the retry with the old refresh token succeeds within the grace period and the new one is stored', async () => {
    const config = xeroConfig(fake, { auth: authCode(fake) });
    const issued = asStored(fake.issueTokenSet());
    await saveConnection(ledger, key, { id: config.id, tenantId: config.tenantId, tokenSet: issued });
    fake.inject('drop-after-commit', { path: /^\/connect\/token$/ });
    const tokens = new StoredTokens(config, ledger, { key });
    const fresh = await tokens.refresh(issued.access_token);
    expect(fresh).not.toBe(issued.access_token);
    const stored = await readConnection(ledger, key, config.id);
    expect(stored!.tokenSet.access_token).toBe(fresh);
    // The stored refresh token is the live one: the next refresh works.
    const next = await new StoredTokens(config, ledger, { key }).refresh(fresh);
    expect(next).not.toBe(fresh);
  });

  it('Given a revoked connection, when writing, then the run stops with an auth error telling how to reconnect, after one token call', async () => {
    const config = xeroConfig(fake, { auth: authCode(fake) });
    await saveConnection(ledger, key, {
      id: config.id,
      tenantId: config.tenantId,
      tokenSet: { ...asStored(fake.issueTokenSet()), expires_at: 0 },
    });
    fake.revokeRefreshTokens();
    const before = fake.stats.tokenCalls;
    const err = await xeroDestination.write(config, [draft(900)], writeCtx(new Map(), { ledger })).catch((e: unknown) => e);
    expect(isConnectorError(err) && err.category).toBe('auth');
    expect((err as Error).message).toMatch(/invalid_grant.*run `hourbridge connect xero --config <config file>` again/);
    expect(fake.stats.tokenCalls - before).toBe(1);
  });

  it('Given no stored connection, when writing, then the error says to connect first', async () => {
    const config = xeroConfig(fake, { auth: authCode(fake) });
    const err = await xeroDestination.write(config, [draft(901)], writeCtx(new Map(), { ledger })).catch((e: unknown) => e);
    expect(isConnectorError(err) && err.category).toBe('auth');
    expect((err as Error).message).toMatch(/No Xero connection is stored.*hourbridge connect xero/);
  });
});

describeIf(pgUp)('Xero refresh is single-writer across processes (PostgreSQL)', () => {
  let fake: FakeXero;
  let db: { url: string; drop: () => Promise<void> };
  let a: Ledger;
  let b: Ledger;
  beforeAll(async () => {
    // No grace period: a second refresh with the rotated token would be invalid_grant.
    fake = await startFakeXero({ tenants: [fakeTenant(42)], refreshGraceMs: 0, latencyMs: 0 });
    db = await createTestDatabase();
    a = await openLedger({ url: db.url, poolSize: 3 });
    b = await openLedger({ url: db.url, poolSize: 3 });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    await fake?.stop();
  });

  it('Given two ledger connections refreshing the same expired token at once, when both refresh, then Xero sees one refresh, no invalid_grant, and both use the same new token', async () => {
    const config = xeroConfig(fake, { auth: authCode(fake) });
    const issued = asStored(fake.issueTokenSet());
    await saveConnection(a, key, { id: config.id, tenantId: config.tenantId, tokenSet: issued });
    const before = fake.stats.tokenCalls;
    const results = await Promise.all([
      new StoredTokens(config, a, { key }).refresh(issued.access_token),
      new StoredTokens(config, b, { key }).refresh(issued.access_token),
      new StoredTokens(config, a, { key }).refresh(issued.access_token),
      new StoredTokens(config, b, { key }).refresh(issued.access_token),
    ]);
    expect(new Set(results).size).toBe(1);
    expect(fake.stats.tokenCalls - before).toBe(1);
    expect(fake.stats.invalidGrants).toBe(0);
    const row = await readConnection(b, key, config.id);
    expect(row!.tokenSet.access_token).toBe(results[0]);
    expect(row!.version).toBe(2);
  });
});
