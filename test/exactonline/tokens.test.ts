import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exactOAuthClient } from '../../connectors/exactonline/exact-session';
import { ledgerConnectionStore, readConnection } from '../../src/destinations/token-store';
import { openLedger, type Ledger } from '../../src/ledger/db';
import { startFakeExact, type FakeExact } from '../fakes/exactonline-server';
import { describeIf } from '../support/runner';
import { createTestDatabase, postgresAvailable } from '../support/services';
import { connect, exactConfig, key, keyText } from './helpers';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const child = path.join(root, 'test/exactonline/support/refresh-child.ts');
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

describeIf(pgUp)('Exact Online rotating refresh tokens, two real processes on one PostgreSQL ledger', () => {
  let fake: FakeExact;
  let db: { url: string; drop: () => Promise<void> };
  let ledger: Ledger;
  beforeAll(async () => {
    // Every refresh rotates; the used refresh token dies at once ("Old refresh token used").
    fake = await startFakeExact({ refreshGraceMs: 0, perMinute: 100_000, perDay: 1_000_000 });
    db = await createTestDatabase();
    ledger = await openLedger({ url: db.url, poolSize: 2 });
  });
  afterAll(async () => {
    await ledger?.close();
    await db?.drop();
    await fake?.stop();
  });

  it('Given access tokens that expire every 1.2 s When two processes call Exact for 6 s, both refreshing Then neither sees invalid_grant, every rotated refresh token is stored, and the stored one still refreshes', async () => {
    const config = exactConfig(fake, { id: 'exact-rotation' });
    await connect(ledger, fake, config);
    fake.expireAccessTokensAfter(1200);
    const env = {
      DATABASE_URL: db.url,
      HOURBRIDGE_SECRET_KEY: keyText,
      EXACT_FAKE_URL: fake.url,
      EXACT_DIVISION: String(config.division),
      EXACT_CONNECTION_ID: config.id,
      EXACT_RUN_MS: '6000',
    };
    const [a, b] = await Promise.all([run(env), run(env)]);
    expect([a.code, a.err.trim(), b.code, b.err.trim()]).toEqual([0, '', 0, '']);
    const ra = JSON.parse(a.out) as { calls: number; refreshes: number; unauthorized: number };
    const rb = JSON.parse(b.out) as { calls: number; refreshes: number; unauthorized: number };
    expect(fake.stats.invalidGrants).toBe(0);
    expect(ra.unauthorized).toBeGreaterThan(0);
    expect(rb.unauthorized).toBeGreaterThan(0);
    expect(ra.refreshes + rb.refreshes).toBe(fake.stats.refreshes);
    expect(fake.stats.refreshes).toBeGreaterThanOrEqual(4);
    const stored = await readConnection(ledger, key, config.id);
    expect(stored?.version).toBe(1 + fake.stats.refreshes);
    fake.expireAccessTokensAfter(60_000);
    const store = ledgerConnectionStore(ledger, key);
    await expect(store.tokens(exactOAuthClient(config)).refresh(stored?.tokenSet.access_token ?? '')).resolves.toMatch(/^fake-at-/);
    expect(fake.stats.invalidGrants).toBe(0);
  }, 60_000);
});
