import { afterAll, beforeAll, describe, expect } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { itIf } from '../../test/support/runner';
import { redisAvailable, redisUrl, requireServices } from '../../test/support/services';
import { startFakeMoneybird, type FakeMoneybird } from './fake-moneybird';

/**
 * Two worker processes writing to one Moneybird token share one request budget through Redis:
 * together they stay under Moneybird's limit (no 429). Without Redis each process counts alone
 * and together they go over it — the control that shows the test can fail.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const up = requireServices || (await redisAvailable());
const REQUESTS = 4;

function worker(fake: FakeMoneybird, name: string, contact: string, token: string, redis: boolean): Promise<{ written: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'two-workers.child.ts')], {
      cwd: root,
      env: {
        ...process.env,
        REDIS_URL: redis ? redisUrl : '',
        MB_BASE_URL: fake.baseUrl,
        MB_TOKEN: token,
        MB_ADM: fake.administrationId,
        MB_TAX_RATE: fake.taxRate.id,
        MB_LEDGER: fake.ledgerAccountId,
        MB_CONTACT: contact,
        MB_REQUESTS: String(REQUESTS),
        MB_COUNT: '8',
        MB_WORKER: name,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out) as { written: number }) : reject(new Error(`worker ${name} exited ${code}: ${err}`)),
    );
  });
}

describe('moneybird budget shared by worker processes', () => {
  let fake: FakeMoneybird;
  const token = `fake-moneybird-token-${randomBytes(6).toString('hex')}`;
  beforeAll(async () => {
    // Moneybird's limit scaled down: REQUESTS per second for the token.
    fake = await startFakeMoneybird({ token, limit: { requests: REQUESTS, windowMs: 1000 } });
    fake.contacts.set('5001', { id: '5001', company_name: 'Acme Ltd', customer_id: 'acme' });
  });
  afterAll(() => fake.stop());

  itIf(up)(
    'Given two workers with Redis When both write at once Then Moneybird never answers 429 and every invoice is written once; without Redis they go over the limit',
    async () => {
      const shared = await Promise.all([worker(fake, 'a', '5001', token, true), worker(fake, 'b', '5001', token, true)]);
      expect(shared.map((r) => r.written)).toEqual([8, 8]);
      expect(fake.log.filter((r) => r.status === 429)).toHaveLength(0);
      expect(fake.invoices.size).toBe(16);

      fake.log.length = 0;
      fake.invoices.clear();
      const alone = await Promise.all([worker(fake, 'c', '5001', token, false), worker(fake, 'd', '5001', token, false)]);
      // Retried after Retry-After, so still written once each — but the limit was overrun.
      expect(alone.map((r) => r.written)).toEqual([8, 8]);
      expect(fake.log.filter((r) => r.status === 429).length).toBeGreaterThan(0);
      expect(fake.invoices.size).toBe(16);
    },
    120_000,
  );
});
