import { randomBytes } from 'node:crypto';
import { ExactOnlineConfigSchema, type ExactOnlineConfig, type ExactOnlineConfigInput } from '../../connectors/exactonline/config.schema';
import { parseSecretKey, type SecretKey } from '../../src/crypto/secret-box';
import { ledgerConnectionStore } from '../../src/destinations/token-store';
import type { Ledger } from '../../src/ledger/db';
import type { FakeExact } from '../fakes/exactonline-server';

export const keyText = randomBytes(32).toString('base64');
process.env.HOURBRIDGE_SECRET_KEY = keyText;
export const key: SecretKey = parseSecretKey(keyText);
export const ITEM = '00000000-0000-4000-8000-000000000001';

let seq = 0;
export function exactConfig(fake: FakeExact, over: Partial<ExactOnlineConfigInput> = {}): ExactOnlineConfig {
  return ExactOnlineConfigSchema.parse({
    id: `exact-test-${++seq}`,
    kind: 'exactonline',
    division: fake.opts.division,
    baseUrl: fake.url,
    auth: { clientId: fake.opts.clientId, clientSecret: fake.opts.clientSecret },
    defaults: { item: ITEM, customer: { createMissing: true } },
    requestTimeoutMs: 3000,
    ...over,
  });
}

/** Stores a connection for `config` as `hourbridge connect exactonline` would. */
export async function connect(ledger: Ledger, fake: FakeExact, config: ExactOnlineConfig): Promise<void> {
  const set = fake.issueTokenSet();
  await ledgerConnectionStore(ledger, key).save({
    id: config.id,
    kind: 'exactonline',
    tenantId: String(config.division),
    tokenSet: { access_token: set.access_token, refresh_token: set.refresh_token, expires_at: Math.floor(Date.now() / 1000) + 600 },
  });
}
