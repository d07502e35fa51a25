import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import Decimal from 'decimal.js';
import type { CreditNote, Invoice } from 'xero-node';
import type { Logger } from 'pino';
import type { Ledger } from '../../src/ledger/db';
import type { RemoteStatus } from '../../src/ledger/invoices.repository';
import { ledgerStatusService, mapStatus, type ApplyStatusFn } from '../../src/destinations/statuses';
import { XERO_STATUS_MAP } from './status-map';

export { XERO_STATUS_MAP } from './status-map';
import type { XeroConfig } from './config.schema';
import { dec } from '../../src/domain/money';
import { recordEvent } from '../../src/ledger/sync.repository';
import { fetchCreditNotesById } from './credit-notes';
import { XeroCallError, XeroSession, type SessionOptions } from './xero-session';

/**
 * Status back from Xero: what finance did to a draft (approve, pay, void, delete) moves its
 * entries in the ledger (billed, or back to unbilled). Used by the webhook and by the polling
 * fallback; the ledger side is src/ledger/invoices.repository.ts `applyRemoteStatus`.
 */

export function toRemoteStatus(xeroStatus: string): RemoteStatus | undefined {
  return mapStatus(XERO_STATUS_MAP, xeroStatus);
}

export type { ApplyStatusFn } from '../../src/destinations/statuses';

/** Apply one fetched Xero invoice to the ledger. Returns false when the ledger does not know it (not ours). */
export async function applyXeroInvoiceStatus(
  ledger: Ledger,
  destinationId: string,
  invoice: Pick<Invoice, 'invoiceID' | 'status'>,
  apply?: ApplyStatusFn,
): Promise<boolean> {
  if (!invoice.invoiceID || invoice.status === undefined) return false;
  return ledgerStatusService(ledger, destinationId, XERO_STATUS_MAP, apply).apply(invoice.invoiceID, String(invoice.status));
}

/** Fetch invoices by id, 50 per call (one call per batch, under the organisation's budget). */
export async function fetchInvoicesById(session: XeroSession, ids: string[]): Promise<Invoice[]> {
  const out: Invoice[] = [];
  for (let i = 0; i < ids.length; i += 50) {
    const part = ids.slice(i, i + 50);
    const body = await session.call(
      'get invoices by id',
      (api) => api.getInvoices(session.tenantId, undefined, undefined, undefined, part, undefined, undefined, undefined, undefined, true),
      { idempotent: true },
    );
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
 * Polling fallback for missed webhooks: every invoice and credit note of this destination that
 * Xero holds and that can still change (not paid, voided or deleted) is read back and its
 * status applied; approved credit notes with credit left are then allocated (allocateCredit).
 */
export async function pollXeroStatuses(options: PollOptions): Promise<{ checked: number; changed: number }> {
  const { config, ledger } = options;
  const rows = await ledgerStatusService(ledger, config.id, XERO_STATUS_MAP, options.apply).open();
  if (rows.length === 0) return { checked: 0, changed: 0 };
  const known = new Map(rows.map((r) => [r.remoteId, r]));
  const session = await XeroSession.open(config, { ...options, ledger });
  try {
    const invoiceIds = rows.filter((r) => r.remoteType !== 'credit-note').map((r) => r.remoteId);
    const noteIds = rows.filter((r) => r.remoteType === 'credit-note').map((r) => r.remoteId);
    const invoices = invoiceIds.length > 0 ? await fetchInvoicesById(session, invoiceIds) : [];
    const notes = noteIds.length > 0 ? [...(await fetchCreditNotesById(session, noteIds)).values()] : [];
    let changed = 0;
    const read: Pick<Invoice, 'invoiceID' | 'status'>[] = [
      ...invoices,
      ...notes.map((n) => ({ invoiceID: n.creditNoteID, status: n.status as unknown as Invoice.StatusEnum })),
    ];
    for (const inv of read) {
      if (!inv.invoiceID || String(inv.status) === known.get(inv.invoiceID)?.remoteStatus) continue;
      if (await applyXeroInvoiceStatus(ledger, config.id, inv, options.apply)) changed++;
    }
    for (const note of notes) {
      const row = note.creditNoteID ? known.get(note.creditNoteID) : undefined;
      if (row) await allocateCredit(session, ledger, config, row.id, note, options.log);
    }
    options.log?.info({ destination: config.id, checked: read.length, changed }, 'xero status poll');
    return { checked: read.length, changed };
  } finally {
    await session.close();
  }
}

/**
 * Allocate an approved credit note to the invoices it corrects (PUT /CreditNotes/{id}/Allocations,
 * developer.xero.com/documentation/api/accounting/creditnotes#allocate-credit-notes). Xero
 * allocates only an AUTHORISED credit note, only onto an AUTHORISED invoice of the same contact
 * and currency, and at most the invoice's AmountDue and the note's RemainingCredit — so this
 * runs on the status read-back, once finance approved the credit note, never when it is written
 * (as a DRAFT). The corrected invoices are those the credit note's lines credit (the ledger's
 * links), in key order. Credit that finds no amount due (the invoices are paid already) stays on
 * the contact for finance to refund or allocate in Xero; a failed allocation is logged and tried
 * again on the next poll. Returns the amount allocated now.
 */
export async function allocateCredit(
  session: XeroSession,
  ledger: Ledger,
  config: XeroConfig,
  invoiceRowId: number,
  note: CreditNote,
  log?: Logger,
): Promise<string> {
  let remaining = dec(note.remainingCredit ?? 0);
  if (String(note.status) !== 'AUTHORISED' || !note.creditNoteID || !remaining.isPositive() || remaining.isZero()) return '0.00';
  const corrected = await ledger.rows<{ key: string; remoteId: string }>(sql`
    SELECT DISTINCT c.key, c.remote_id AS "remoteId" FROM invoice_entries ie
    JOIN invoices c ON c.key = ie.credit->>'invoiceKey'
    WHERE ie.invoice_id = ${invoiceRowId} AND ie.credit IS NOT NULL AND c.destination_id = ${config.id}
      AND c.remote_id IS NOT NULL AND COALESCE(c.remote_type, 'invoice') = 'invoice'
    ORDER BY c.key`);
  if (corrected.length === 0) return '0.00';
  const invoices = new Map(
    (
      await fetchInvoicesById(
        session,
        corrected.map((c) => c.remoteId),
      )
    ).map((i) => [i.invoiceID, i]),
  );
  let allocated = dec(0);
  for (const c of corrected) {
    const inv = invoices.get(c.remoteId);
    const due = dec(inv?.amountDue ?? 0);
    if (!inv || String(inv.status) !== 'AUTHORISED' || !due.isPositive() || due.isZero()) continue;
    if (String(inv.currencyCode ?? '') !== String(note.currencyCode ?? '')) continue;
    const amount = Decimal.min(remaining, due);
    const idem = `hb-alloc-${createHash('sha256')
      .update(`${session.tenantId}\n${note.creditNoteID}\n${c.remoteId}\n${amount.toFixed(2)}\n${remaining.toFixed(2)}`)
      .digest('hex')
      .slice(0, 48)}`;
    try {
      const body = await session.call('allocate credit note', (api) =>
        api.createCreditNoteAllocation(
          session.tenantId,
          note.creditNoteID!,
          { allocations: [{ invoice: { invoiceID: c.remoteId }, amount: amount.toNumber(), date: new Date().toISOString().slice(0, 10) }] },
          false,
          idem,
        ),
      );
      const errors = (body.allocations?.[0]?.validationErrors ?? []).map((v) => v.message).filter(Boolean);
      if (errors.length > 0) {
        log?.warn({ creditNote: note.creditNoteID, invoice: c.key, errors }, 'xero refused the credit note allocation');
        continue;
      }
    } catch (e) {
      if (!(e instanceof XeroCallError)) throw e;
      log?.warn(
        { creditNote: note.creditNoteID, invoice: c.key, error: e.message },
        'xero credit note allocation failed; the next poll tries again',
      );
      continue;
    }
    remaining = remaining.minus(amount);
    allocated = allocated.plus(amount);
    await recordEvent(ledger, null, 'xero.credit-note.allocated', c.key, {
      destinationId: config.id,
      creditNoteId: note.creditNoteID,
      invoiceId: c.remoteId,
      amount: amount.toFixed(2),
    });
    log?.info({ creditNote: note.creditNoteID, invoice: c.key, amount: amount.toFixed(2) }, 'xero credit note allocated');
    if (remaining.isZero()) break;
  }
  return allocated.toFixed(2);
}
