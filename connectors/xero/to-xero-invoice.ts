import { createHash } from 'node:crypto';
import { CreditNote, Invoice, LineAmountTypes, type LineItem, type CurrencyCode } from 'xero-node';
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
    throw new DraftRejected(
      'config',
      `${what} ${value} has more than ${maxDp} decimals; Xero keeps ${maxDp} (set unitPriceDecimals: 4 for up to 4)`,
    );
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
  if (n.length > 255)
    throw new DraftRejected(
      'config',
      `invoice number "${n.slice(0, 40)}…" is longer than Xero's 255 characters; use {{keyHash}} in the invoiceNumber template`,
    );
  return n;
}

/**
 * The draft's lines as Xero line items. `negate` turns a negative correction into the lines of
 * a credit note: a credit note states positive amounts for what it credits, so every quantity
 * changes sign (credited lines become positive, newly billed ones negative) and its total is
 * minus the draft's.
 */
function buildLines(draft: InvoiceDraft, s: EffectiveSettings, opts: BuildOptions, negate: boolean): LineItem[] {
  if (draft.lines.length === 0) throw new DraftRejected('permanent', `invoice ${draft.key} has no lines`);
  const lineItems = draft.lines.map((line, i) => {
    const where = `line ${i + 1} (${line.description})`;
    const expected = lineAmount(line.quantity, line.unitPrice);
    if (!expected.equals(dec(line.amount))) {
      throw new DraftRejected(
        'permanent',
        `${where}: amount ${line.amount} is not quantity ${line.quantity} × unit price ${line.unitPrice} rounded to cents (${expected.toFixed(2)}); Xero would bill ${expected.toFixed(2)}`,
      );
    }
    const quantity = negate ? dec(line.quantity).negated().toString() : line.quantity;
    const item: LineItem = {
      description: line.description,
      quantity: exactNumber(quantity, 4, `${where}: quantity`),
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
    throw new DraftRejected(
      'permanent',
      `invoice ${draft.key}: total ${draft.total} is not the sum of its line amounts (${total.toFixed(2)})`,
    );
  }
  return lineItems;
}

/** A correction that credits more than it bills: written as a credit note, not an invoice. */
export function needsCreditNote(draft: InvoiceDraft): boolean {
  return dec(draft.total).isNegative();
}

export function buildInvoice(draft: InvoiceDraft, s: EffectiveSettings, opts: BuildOptions): Invoice {
  if (needsCreditNote(draft)) {
    // Xero sales invoices cannot total below zero; push.ts routes these to buildCreditNote.
    throw new DraftRejected(
      'permanent',
      `correction ${draft.key} totals ${draft.total} ${draft.currency}: a negative correction is a credit note, not an invoice`,
    );
  }
  const lineItems = buildLines(draft, s, opts, false);
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

/**
 * A negative correction as a DRAFT ACCRECCREDIT credit note (PUT/POST /CreditNotes,
 * developer.xero.com/documentation/api/accounting/creditnotes): the same contact, settings,
 * number (CreditNoteNumber from the invoiceNumber template) and reference as an invoice would
 * get, lines negated (see buildLines). A credit note has no due date.
 */
export function buildCreditNote(draft: InvoiceDraft, s: EffectiveSettings, opts: BuildOptions): CreditNote {
  const lineItems = buildLines(draft, s, opts, true);
  const note: CreditNote = {
    type: CreditNote.TypeEnum.ACCRECCREDIT,
    status: CreditNote.StatusEnum.DRAFT,
    contact: { contactID: opts.contactId },
    date: draft.issueDate,
    lineAmountTypes: LineAmountTypes[s.lineAmountType],
    creditNoteNumber: invoiceNumberFor(draft, s),
    reference: renderTemplate(s.reference, draft),
    currencyCode: draft.currency as unknown as CurrencyCode,
    lineItems,
  };
  if (s.brandingThemeId) note.brandingThemeID = s.brandingThemeId;
  if (opts.remoteId) note.creditNoteID = opts.remoteId;
  return note;
}

export interface RemoteFigures {
  /** Xero's figure for what the ledger calls the total (the sum of line amounts). */
  remoteTotal?: string;
  /** TotalTax. */
  remoteTax?: string;
  /** Total (tax included). */
  remoteGross?: string;
  warnings: string[];
}

/**
 * What Xero read back, in the ledger's terms. The ledger's total is the sum of the line amounts
 * it sent; Xero adds tax on tax-exclusive lines (SubTotal = that sum, Total = SubTotal + tax) and
 * takes it out of tax-inclusive ones (Total = that sum). So the comparable figure is SubTotal
 * for Exclusive and NoTax lines and Total for Inclusive ones — never Total on taxed exclusive
 * lines, which differs from the ledger by exactly the VAT. The comparison itself is the push
 * stage's (one rule for every destination).
 */
export function remoteFigures(
  draft: InvoiceDraft,
  s: EffectiveSettings,
  remote: Pick<Invoice, 'subTotal' | 'total' | 'totalTax'>,
  creditNote = false,
): RemoteFigures {
  // A credit note states positive figures for what the ledger holds as a negative total.
  const money = (v: number | undefined | null) =>
    v === undefined || v === null ? undefined : (creditNote ? dec(v).negated() : dec(v)).toFixed(2);
  const label = s.lineAmountType === 'Inclusive' ? 'Total' : 'SubTotal';
  const comparable = money(s.lineAmountType === 'Inclusive' ? remote.total : remote.subTotal);
  const out: RemoteFigures = { warnings: [] };
  if (comparable === undefined) out.warnings.push(`Xero returned no ${label} for invoice ${draft.key}; total not verified`);
  else out.remoteTotal = comparable;
  const tax = money(remote.totalTax);
  const gross = money(remote.total);
  if (tax !== undefined) out.remoteTax = tax;
  if (gross !== undefined) out.remoteGross = gross;
  return out;
}

/** Does the remote invoice (or credit note, whose quantities are negated) already carry exactly this draft's lines? (used when adopting) */
export function sameContent(draft: InvoiceDraft, remote: Pick<Invoice, 'lineItems'>, creditNote = false): boolean {
  const lines = remote.lineItems ?? [];
  if (lines.length !== draft.lines.length) return false;
  return draft.lines.every((l, i) => {
    const r = lines[i]!;
    const q = creditNote ? dec(l.quantity).negated() : dec(l.quantity);
    return (
      r.description === l.description &&
      r.quantity !== undefined &&
      r.unitAmount !== undefined &&
      dec(r.quantity).equals(q) &&
      dec(r.unitAmount).equals(dec(l.unitPrice))
    );
  });
}

/** LineItemIDs by lineKey: Xero returns lines in the order they were sent. */
export function remoteLineIdsOf(draft: InvoiceDraft, remote: Pick<Invoice, 'lineItems'>): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = remote.lineItems ?? [];
  draft.lines.forEach((l, i) => {
    const id = lines[i]?.lineItemID;
    if (id) out[l.lineKey] = id;
  });
  return out;
}
