import { sql } from 'drizzle-orm';
import type { Invoice } from 'xero-node';
import type { Logger } from 'pino';
import type { Ledger } from '../../src/ledger/db';
import { applyRemoteStatus, type RemoteStatus } from '../../src/ledger/invoices.repository';
import type { XeroConfig } from './config.schema';
import { XeroSession, type SessionOptions } from './xero-session';

/**
 * Status back from Xero: what finance did to a draft (approve, pay, void, delete) moves its
 * entries in the ledger (billed, or back to unbilled). Used by the webhook and by the polling
 * fallback; the ledger side is src/ledger/invoices.repository.ts `applyRemoteStatus`.
 */

/** Xero invoice status → ledger status. SUBMITTED is "awaiting approval": not yet billed. */
export function toRemoteStatus(xeroStatus: string): RemoteStatus | undefined {
  switch (xeroStatus.toUpperCase()) {
    case 'DRAFT':
    case 'SUBMITTED':
      return 'draft';
    case 'AUTHORISED':
      return 'approved';
    case 'PAID':
      return 'paid';
    case 'VOIDED':
      return 'voided';
    case 'DELETED':
      return 'deleted';
    default:
      return undefined;
  }
}

export type ApplyStatusFn = (ledger: Ledger, ref: { destinationId: string; remoteId: string }, status: RemoteStatus, remoteStatus: string) => Promise<boolean>;

const defaultApply: ApplyStatusFn = (ledger, ref, status, remoteStatus) => applyRemoteStatus(ledger, ref, status, remoteStatus);

/** Apply one fetched Xero invoice to the ledger. Returns false when the ledger does not know it (not ours). */
export async function applyXeroInvoiceStatus(ledger: Ledger, destinationId: string, invoice: Pick<Invoice, 'invoiceID' | 'status'>, apply: ApplyStatusFn = defaultApply): Promise<boolean> {
  if (!invoice.invoiceID || invoice.status === undefined) return false;
  const remoteStatus = String(invoice.status);
  const status = toRemoteStatus(remoteStatus);
  if (!status) return false;
  return apply(ledger, { destinationId, remoteId: invoice.invoiceID }, status, remoteStatus);
}

/** Fetch invoices by id, 50 per call (one call per batch, under the organisation's budget). */
export async function fetchInvoicesById(session: XeroSession, ids: string[]): Promise<Invoice[]> {
  const out: Invoice[] = [];
  for (let i = 0; i < ids.length; i += 50) {
    const part = ids.slice(i, i + 50);
    const body = await session.call('get invoices by id', (api) => api.getInvoices(session.tenantId, undefined, undefined, undefined, part, undefined, undefined, undefined, undefined, true), { idempotent: true });
    out.push(...(body.invoices ?? []));
  }
  return out;
}

export interface PollOptions extends Omit<SessionOptions, 'ledger'> {
  config: XeroConfig;
  ledger: Ledger;
  log?: Logger;
  apply?: ApplyStatusFn;
}

/**
 * Polling fallback for missed webhooks: every invoice of this destination that Xero holds and
 * that can still change (not paid, voided or deleted) is read back and its status applied.
 */
export async function pollXeroStatuses(options: PollOptions): Promise<{ checked: number; changed: number }> {
  const { config, ledger } = options;
  const rows = await ledger.rows<{ remoteId: string; remoteStatus: string | null }>(sql`
    SELECT remote_id AS "remoteId", remote_status AS "remoteStatus" FROM invoices
    WHERE destination_id = ${config.id} AND remote_id IS NOT NULL AND live AND status NOT IN ('paid', 'voided', 'deleted')`);
  if (rows.length === 0) return { checked: 0, changed: 0 };
  const known = new Map(rows.map((r) => [r.remoteId, r.remoteStatus]));
  const session = await XeroSession.open(config, { ...options, ledger });
  try {
    const invoices = await fetchInvoicesById(session, [...known.keys()]);
    let changed = 0;
    for (const inv of invoices) {
      if (!inv.invoiceID || String(inv.status) === known.get(inv.invoiceID)) continue;
      if (await applyXeroInvoiceStatus(ledger, config.id, inv, options.apply)) changed++;
    }
    options.log?.info({ destination: config.id, checked: invoices.length, changed }, 'xero status poll');
    return { checked: invoices.length, changed };
  } finally {
    await session.close();
  }
}
