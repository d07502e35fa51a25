import { createHash } from 'node:crypto';
import { Invoice, LineAmountTypes, LineItem, type CurrencyCode } from 'xero-node';
import { dec, lineAmount, sum } from '../../src/domain/money';
import type { InvoiceDraft } from '../../src/domain/invoice';
import type { EffectiveSettings } from './config.schema';

/**
 * InvoiceDraft → xero-node `Invoice` model (camelCase; the SDK serialises known attributes as
 * PascalCase and silently drops anything else, so only model attributes are set here).
 * Amounts stay decimal strings until this boundary; each is converted to a JS number only
 * after checking the number means exactly the same decimal at the precision Xero will use.
 * LineAmount is never sent: Xero computes Q × U rounded to 2 dp itself and rejects a supplied
 * one that disagrees (developer.xero.com/documentation/api-guides/rounding-in-xero).
 */

export class DraftRejected extends Error {
  override readonly name = 'DraftRejected';
  constructor(
    readonly category: 'config' | 'permanent',
    message: string,
  ) {
    super(message);
  }
}

export function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export function renderTemplate(template: string, draft: InvoiceDraft): string {
  const vars: Record<string, string> = {
    key: draft.key,
    keyHash: keyHash(draft.key),
    clientId: draft.clientId,
    clientName: draft.clientName,
    period: draft.period.label,
    periodStart: draft.period.start,
    periodEnd: draft.period.end,
    sequence: String(draft.sequence),
  };
  return template.replace(/\{\{\s*([a-zA-Z]+)\s*\}\}/g, (_, name: string) => vars[name] ?? '');
}

/** A decimal string as the JS number the SDK needs, refusing anything a number would change. */
export function exactNumber(value: string, maxDp: number, what: string): number {
  const d = dec(value);
  if (d.decimalPlaces() > maxDp) {
    throw new DraftRejected('config', `${what} ${value} has more than ${maxDp} decimals; Xero keeps ${maxDp} (set unitPriceDecimals: 4 for up to 4)`);
  }
  const n = d.toNumber();
  if (!Number.isFinite(n) || !dec(n).equals(d)) throw new DraftRejected('permanent', `${what} ${value} cannot be sent to Xero exactly`);
  return n;
}

export interface BuildOptions {
  contactId: string;
  remoteId?: string;
  remoteLineIds?: Record<string, string>;
}

export function invoiceNumberFor(draft: InvoiceDraft, s: EffectiveSettings): string {
  const n = renderTemplate(s.invoiceNumber, draft);
  if (n.length > 255) throw new DraftRejected('config', `invoice number "${n.slice(0, 40)}…" is longer than Xero's 255 characters; use {{keyHash}} in the invoiceNumber template`);
  return n;
}

export function buildInvoice(draft: InvoiceDraft, s: EffectiveSettings, opts: BuildOptions): Invoice {
  if (draft.lines.length === 0) throw new DraftRejected('permanent', `invoice ${draft.key} has no lines`);
  if (dec(draft.total).isNegative()) {
    // A correction that credits more than it bills (entries deleted after approval). Xero sales
    // invoices cannot total below zero; it needs a credit note, which this connector does not
    // write yet — so it says so instead of letting Xero reject it less clearly.
    throw new DraftRejected(
      'permanent',
      `correction ${draft.key} totals ${draft.total} ${draft.currency}: Xero does not accept a negative sales invoice; raise a credit note for it in Xero`,
    );
  }
  const lineItems = draft.lines.map((line, i) => {
    const where = `line ${i + 1} (${line.description})`;
    const expected = lineAmount(line.quantity, line.unitPrice);
    if (!expected.equals(dec(line.amount))) {
      throw new DraftRejected('permanent', `${where}: amount ${line.amount} is not quantity ${line.quantity} × unit price ${line.unitPrice} rounded to cents (${expected.toFixed(2)}); Xero would bill ${expected.toFixed(2)}`);
    }
    const item: LineItem = {
      description: line.description,
      quantity: exactNumber(line.quantity, 4, `${where}: quantity`),
      unitAmount: exactNumber(line.unitPrice, s.unitPriceDecimals, `${where}: unit price`),
    };
    if (s.accountCode) item.accountCode = s.accountCode;
    if (s.itemCode) item.itemCode = s.itemCode;
    const taxType = line.taxType ?? s.taxType;
    if (taxType) item.taxType = taxType;
    if (s.tracking && s.tracking.length > 0) item.tracking = s.tracking.map((t) => ({ name: t.name, option: t.option }));
    const remoteLineId = opts.remoteLineIds?.[line.lineKey];
    if (remoteLineId) item.lineItemID = remoteLineId;
    return item;
  });
  const total = sum(draft.lines.map((l) => l.amount));
  if (!total.equals(dec(draft.total))) {
    throw new DraftRejected('permanent', `invoice ${draft.key}: total ${draft.total} is not the sum of its line amounts (${total.toFixed(2)})`);
  }
  const invoice: Invoice = {
    type: Invoice.TypeEnum.ACCREC,
    status: Invoice.StatusEnum.DRAFT,
    contact: { contactID: opts.contactId },
    date: draft.issueDate,
    dueDate: draft.dueDate,
    lineAmountTypes: LineAmountTypes[s.lineAmountType],
    invoiceNumber: invoiceNumberFor(draft, s),
    reference: renderTemplate(s.reference, draft),
    currencyCode: draft.currency as unknown as CurrencyCode,
    lineItems,
  };
  if (s.brandingThemeId) invoice.brandingThemeID = s.brandingThemeId;
  if (opts.remoteId) invoice.invoiceID = opts.remoteId;
  return invoice;
}

/** The figure Xero computes that must equal the draft's total: SubTotal for tax-exclusive lines, Total otherwise. */
export function compareTotals(draft: InvoiceDraft, s: EffectiveSettings, remote: Pick<Invoice, 'subTotal' | 'total' | 'totalTax'>): string[] {
  const compared = s.lineAmountType === 'Exclusive' ? remote.subTotal : remote.total;
  const label = s.lineAmountType === 'Exclusive' ? 'SubTotal' : 'Total';
  if (compared === undefined || compared === null) return [`Xero returned no ${label} for invoice ${draft.key}; total not verified`];
  if (!dec(compared).equals(dec(draft.total))) {
    return [`Xero ${label} ${dec(compared).toFixed(2)} differs from the ledger total ${dec(draft.total).toFixed(2)} for invoice ${draft.key} (Total ${remote.total ?? '?'}, TotalTax ${remote.totalTax ?? '?'})`];
  }
  return [];
}

/** Does the remote invoice already carry exactly this draft's lines? (used when adopting) */
export function sameContent(draft: InvoiceDraft, remote: Invoice): boolean {
  const lines = remote.lineItems ?? [];
  if (lines.length !== draft.lines.length) return false;
  return draft.lines.every((l, i) => {
    const r = lines[i]!;
    return r.description === l.description && r.quantity !== undefined && r.unitAmount !== undefined && dec(r.quantity).equals(dec(l.quantity)) && dec(r.unitAmount).equals(dec(l.unitPrice));
  });
}

/** LineItemIDs by lineKey: Xero returns lines in the order they were sent. */
export function remoteLineIdsOf(draft: InvoiceDraft, remote: Invoice): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = remote.lineItems ?? [];
  draft.lines.forEach((l, i) => {
    const id = lines[i]?.lineItemID;
    if (id) out[l.lineKey] = id;
  });
  return out;
}
