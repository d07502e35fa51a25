import { eq, sql } from 'drizzle-orm';
import type { StoredSubscription } from '../connectors/contract';
import { openJson, sealJson, type SecretKey } from '../crypto/secret-box';
import type { Ledger } from '../ledger/db';
import { connections } from '../ledger/schema';

/**
 * Webhook subscriptions of sources, in the ledger's `connections` table beside the destinations'
 * OAuth tokens and sealed the same way (AES-256-GCM with HOURBRIDGE_SECRET_KEY,
 * src/crypto/secret-box.ts): the signing secrets never sit in the ledger in clear text
 * (invariant 6). One row per source, id `source-hook:<source id>`.
 */
const rowId = (sourceId: string) => `source-hook:${sourceId}`;

export async function saveSubscription(
  ledger: Ledger,
  key: SecretKey,
  input: { sourceId: string; kind: string; subscription: StoredSubscription },
): Promise<void> {
  const secret = sealJson(input.subscription, key);
  const tenantId = input.subscription.ids.join(',');
  await ledger.db
    .insert(connections)
    .values({ id: rowId(input.sourceId), kind: `${input.kind}-webhook`, tenantId, secret, version: 1 })
    .onConflictDoUpdate({
      target: connections.id,
      set: { kind: `${input.kind}-webhook`, tenantId, secret, version: sql`${connections.version} + 1`, updatedAt: sql`now()` },
    });
}

export async function readSubscription(ledger: Ledger, key: SecretKey, sourceId: string): Promise<StoredSubscription | undefined> {
  const [row] = await ledger.db
    .select()
    .from(connections)
    .where(eq(connections.id, rowId(sourceId)));
  return row ? openJson<StoredSubscription>(row.secret, key) : undefined;
}
