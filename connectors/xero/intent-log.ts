import { and, eq, inArray } from 'drizzle-orm';
import { events } from '../../src/ledger/schema';
import type { Ledger } from '../../src/ledger/db';

/**
 * Write-ahead note of "this invoice key was sent to Xero". Written before every create, so that
 * after an uncertain outcome the ledger has not recorded (timeout, 5xx, crash, a run that was
 * parked), the next write knows the invoice may exist in Xero and looks it up by its
 * deterministic InvoiceNumber before creating — a retry long after Xero's idempotency window
 * still cannot make a second invoice. Keys never sent skip the lookup (no extra calls).
 */
export interface IntentLog {
  sentBefore(destinationId: string, keys: string[]): Promise<Set<string>>;
  record(destinationId: string, keys: string[], idempotencyKey: string): Promise<void>;
}

const KIND = 'xero.push.sent';

export class LedgerIntentLog implements IntentLog {
  constructor(private readonly ledger: Ledger) {}
  async sentBefore(destinationId: string, keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const subjects = keys.map((k) => `${destinationId}:${k}`);
    const rows = await this.ledger.db
      .selectDistinct({ subject: events.subject })
      .from(events)
      .where(and(eq(events.kind, KIND), inArray(events.subject, subjects)));
    const prefix = `${destinationId}:`.length;
    return new Set(rows.map((r) => (r.subject ?? '').slice(prefix)));
  }
  async record(destinationId: string, keys: string[], idempotencyKey: string): Promise<void> {
    if (keys.length === 0) return;
    await this.ledger.db
      .insert(events)
      .values(keys.map((k) => ({ kind: KIND, subject: `${destinationId}:${k}`, data: { idempotencyKey } })));
  }
}

/** Inline runs without a ledger (tests, previews): remembered for the life of the process. */
const memory = new Map<string, Set<string>>();

export class MemoryIntentLog implements IntentLog {
  async sentBefore(destinationId: string, keys: string[]): Promise<Set<string>> {
    const seen = memory.get(destinationId) ?? new Set();
    return new Set(keys.filter((k) => seen.has(k)));
  }
  async record(destinationId: string, keys: string[]): Promise<void> {
    let seen = memory.get(destinationId);
    if (!seen) {
      seen = new Set();
      memory.set(destinationId, seen);
    }
    for (const k of keys) seen.add(k);
  }
}
