import { randomBytes } from 'node:crypto';
import { QuickBooksConfigSchema, type QuickBooksConfig, type QuickBooksConfigInput } from '../../connectors/quickbooks/config.schema';
import { parseSecretKey, type SecretKey } from '../../src/crypto/secret-box';
import { ledgerConnectionStore } from '../../src/destinations/token-store';
import type { Ledger } from '../../src/ledger/db';
import type { FakeQuickBooks } from '../fakes/quickbooks-server';

export const keyText = randomBytes(32).toString('base64');
process.env.HOURBRIDGE_SECRET_KEY = keyText;
export const key: SecretKey = parseSecretKey(keyText);

let seq = 0;
export function qboConfig(fake: FakeQuickBooks, over: Partial<QuickBooksConfigInput> = {}): QuickBooksConfig {
  return QuickBooksConfigSchema.parse({
    id: `qbo-test-${++seq}`,
    kind: 'quickbooks',
    realmId: fake.opts.realmId,
    baseUrl: fake.apiBase,
    auth: { clientId: fake.opts.clientId, clientSecret: fake.opts.clientSecret },
    oauth: { tokenUrl: fake.tokenUrl, authorizeUrl: fake.authorizeUrl },
    defaults: { itemRef: '1', customer: { createMissing: true } },
    requestTimeoutMs: 3000,
    ...over,
  });
}

/** Stores a connection for `config` as `hourbridge connect quickbooks` would. */
export async function connect(ledger: Ledger, fake: FakeQuickBooks, config: QuickBooksConfig): Promise<void> {
  const set = fake.issueTokenSet(config.realmId);
  await ledgerConnectionStore(ledger, key).save({
    id: config.id,
    kind: 'quickbooks',
    tenantId: config.realmId,
    tokenSet: { access_token: set.access_token, refresh_token: set.refresh_token, expires_at: Math.floor(Date.now() / 1000) + 3600 },
  });
}
