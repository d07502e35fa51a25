import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Ledger } from '../../src/ledger/db';
import { applyRemoteStatus, type RemoteStatus } from '../../src/ledger/invoices.repository';
import type { QuickBooksConfig } from './config.schema';
import { QboSession, type SessionOptions } from './qbo-session';
import { type QboEntity, lockedStatus } from './to-qbo';
import type { QboTxn } from './types';

/**
 * Status back by polling: what finance did with the estimates and credit memos in QuickBooks.
 * An estimate converted into an invoice is Closed (approved: its hours are billed), one marked
 * Accepted is approved too (finance is about to convert it; Hourbridge must not edit it any
 * more), a Rejected one is voided (its hours are released), and one deleted in QuickBooks is
 * deleted. A credit memo is approved once it was sent or credit was applied from it.
 * https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/estimate
 */
export function toRemoteStatus(entity: QboEntity, txn: QboTxn | undefined): { status: RemoteStatus; remoteStatus: string } {
  if (!txn) return { status: 'deleted', remoteStatus: 'Deleted' };
  const locked = lockedStatus(txn, entity);
  if (entity === 'Estimate') {
    if (!locked) return { status: 'draft', remoteStatus: 'Pending' };
    if (locked === 'Rejected') return { status: 'voided', remoteStatus: locked };
    return { status: 'approved', remoteStatus: locked };
  }
  if (!locked) return { status: 'draft', remoteStatus: txn.EmailStatus ?? 'NotSet' };
  return { status: 'approved', remoteStatus: locked };
}

export async function pollQuickBooksStatuses(
  config: QuickBooksConfig,
  ledger: Ledger,
  options: Omit<SessionOptions, 'ledger'> & { log?: Logger } = {},
): Promise<{ checked: number; changed: number }> {
  const rows = await ledger.rows<{ remoteId: string; remoteStatus: string | null; remoteType: string | null }>(sql`
    SELECT remote_id AS "remoteId", remote_status AS "remoteStatus", remote_type AS "remoteType" FROM invoices
    WHERE destination_id = ${config.id} AND remote_id IS NOT NULL AND live AND status NOT IN ('paid', 'voided', 'deleted')`);
  if (rows.length === 0) return { checked: 0, changed: 0 };
  const session = new QboSession(config, { ...options, ledger });
  let changed = 0;
  for (const entity of ['Estimate', 'CreditMemo'] as const) {
    const mine = rows.filter((r) => (r.remoteType === 'credit-note' ? 'CreditMemo' : 'Estimate') === entity);
    if (mine.length === 0) continue;
    const found = await session.byId(
      entity,
      mine.map((r) => r.remoteId),
    );
    for (const row of mine) {
      const { status, remoteStatus } = toRemoteStatus(entity, found.get(row.remoteId));
      if (remoteStatus === row.remoteStatus) continue;
      if (await applyRemoteStatus(ledger, { destinationId: config.id, remoteId: row.remoteId }, status, remoteStatus)) changed++;
    }
  }
  options.log?.info({ destination: config.id, checked: rows.length, changed }, 'quickbooks status poll');
  return { checked: rows.length, changed };
}
