import { and, eq, inArray } from 'drizzle-orm';
import { events } from '../ledger/schema';
import type { Ledger } from '../ledger/db';

/**
 * Write-ahead note of "this invoice key was sent to the destination", owned by the runtime and
 * kept per destination. A connector records the keys before every create, so that after an
 * uncertain outcome the ledger has not recorded (timeout, 5xx, crash, a run that was parked),
 * the next write knows the invoice may exist at the destination and looks it up (by its
 * deterministic number or reference) before creating — a retry long after a vendor's
 * idempotency window still cannot make a second invoice. Keys never sent skip the look-up (no
 * extra calls).
 *
 * The notes are `events` rows of kind `<namespace>.push.sent` with subject
 * `<destinationId>:<key>`; the Xero destination's namespace is `xero`, as before the log moved
 * here, so ledgers written by earlier versions keep their notes.
 */
export interface IntentLog {
  sentBefore(destinationId: string, keys: string[]): Promise<Set<string>>;
  record(destinationId: string, keys: string[], idempotencyKey: string): Promise<void>;
}

export class LedgerIntentLog implements IntentLog {
  private readonly kind: string;
  constructor(
    private readonly ledger: Ledger,
    namespace = 'xero',
  ) {
    this.kind = `${namespace}.push.sent`;
  }
  async sentBefore(destinationId: string, keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const subjects = keys.map((k) => `${destinationId}:${k}`);
    const rows = await this.ledger.db
      .selectDistinct({ subject: events.subject })
      .from(events)
      .where(and(eq(events.kind, this.kind), inArray(events.subject, subjects)));
    const prefix = `${destinationId}:`.length;
    return new Set(rows.map((r) => (r.subject ?? '').slice(prefix)));
  }
  async record(destinationId: string, keys: string[], idempotencyKey: string): Promise<void> {
    if (keys.length === 0) return;
    await this.ledger.db
      .insert(events)
      .values(keys.map((k) => ({ kind: this.kind, subject: `${destinationId}:${k}`, data: { idempotencyKey } })));
  }
}

/** Inline runs without a ledger (tests, previews): remembered for the life of the process, per namespace and destination. */
const memory = new Map<string, Set<string>>();

export class MemoryIntentLog implements IntentLog {
  constructor(private readonly namespace = 'xero') {}
  private slot(destinationId: string): Set<string> {
    const id = `${this.namespace}\n${destinationId}`;
    let seen = memory.get(id);
    if (!seen) {
      seen = new Set();
      memory.set(id, seen);
    }
    return seen;
  }
  async sentBefore(destinationId: string, keys: string[]): Promise<Set<string>> {
    const seen = this.slot(destinationId);
    return new Set(keys.filter((k) => seen.has(k)));
  }
  async record(destinationId: string, keys: string[]): Promise<void> {
    const seen = this.slot(destinationId);
    for (const k of keys) seen.add(k);
  }
}
