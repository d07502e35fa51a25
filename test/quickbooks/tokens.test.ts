import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { intuitOAuthClient } from '../../connectors/quickbooks/qbo-session';
import { QuickBooksConfigSchema } from '../../connectors/quickbooks/config.schema';
import { parseSecretKey } from '../../src/crypto/secret-box';
import { ledgerConnectionStore, readConnection } from '../../src/destinations/token-store';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { startFakeQuickBooks, type FakeQuickBooks } from '../fakes/quickbooks-server';
import { describeIf } from '../support/runner';
import { createTestDatabase, postgresAvailable } from '../support/services';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const child = path.join(root, 'test/quickbooks/support/refresh-child.ts');
const keyText = randomBytes(32).toString('base64');
const key = parseSecretKey(keyText);
const pgUp = await postgresAvailable();

function run(env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.once('exit', (code) => resolve({ code, out, err }));
  });
}

describeIf(pgUp)('QuickBooks rotating refresh tokens, two real processes on one PostgreSQL ledger', () => {
  let fake: FakeQuickBooks;
  let db: { url: string; drop: () => Promise<void> };
  let ledger: Ledger;
  beforeAll(async () => {
    // Intuit rotates the refresh token; here the previous one dies at once (no grace), so any
    // second use of it — two processes refreshing with the same token — is an invalid_grant.
    fake = await startFakeQuickBooks({ refreshGraceMs: 0, perMinute: 100_000 });
    db = await createTestDatabase();
    ledger = await openLedger({ url: db.url, poolSize: 2 });
  });
  afterAll(async () => {
    await ledger?.close();
    await db?.drop();
    await fake?.stop();
  });

  it('Given access tokens that expire every 1.2 s When two processes call QuickBooks for 6 s, both refreshing Then neither sees invalid_grant, every rotated refresh token is stored, and the stored one still refreshes', async () => {
    const config = QuickBooksConfigSchema.parse({
      id: 'qbo-rotation',
      kind: 'quickbooks',
      realmId: fake.opts.realmId,
      baseUrl: fake.apiBase,
      auth: { clientId: fake.opts.clientId, clientSecret: fake.opts.clientSecret },
      oauth: { tokenUrl: fake.tokenUrl, authorizeUrl: fake.authorizeUrl },
      defaults: { itemRef: '1' },
    });
    const set = fake.issueTokenSet();
    const store = ledgerConnectionStore(ledger, key);
    await store.save({
      id: config.id,
      kind: 'quickbooks',
      tenantId: config.realmId,
      tokenSet: { access_token: set.access_token, refresh_token: set.refresh_token, expires_at: Math.floor(Date.now() / 1000) + 3600 },
    });
    fake.expireAccessTokensAfter(1200);
    const env = {
      DATABASE_URL: db.url,
      HOURBRIDGE_SECRET_KEY: keyText,
      QBO_FAKE_URL: fake.url,
      QBO_REALM: config.realmId,
      QBO_CONNECTION_ID: config.id,
      QBO_RUN_MS: '6000',
    };
    const [a, b] = await Promise.all([run(env), run(env)]);
    expect([a.code, a.err.trim(), b.code, b.err.trim()]).toEqual([0, '', 0, '']);
    const ra = JSON.parse(a.out) as { calls: number; refreshes: number; unauthorized: number };
    const rb = JSON.parse(b.out) as { calls: number; refreshes: number; unauthorized: number };
    expect(fake.stats.invalidGrants).toBe(0);
    // Both processes had tokens refused and asked for fresh ones, but each expiry was refreshed by one of them only.
    expect(ra.unauthorized).toBeGreaterThan(0);
    expect(rb.unauthorized).toBeGreaterThan(0);
    expect(ra.refreshes + rb.refreshes).toBe(fake.stats.refreshes);
    expect(fake.stats.refreshes).toBeGreaterThanOrEqual(4);
    const stored = await readConnection(ledger, key, config.id);
    expect(stored?.version).toBe(1 + fake.stats.refreshes);
    fake.expireAccessTokensAfter(60_000);
    await expect(store.tokens(intuitOAuthClient(config)).refresh(stored?.tokenSet.access_token ?? '')).resolves.toMatch(/^fake-at-/);
    expect(fake.stats.invalidGrants).toBe(0);
  }, 60_000);
});
