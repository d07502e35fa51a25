import { createHash } from 'node:crypto';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { dec } from '../../src/domain/money';
import type { EffectiveSettings } from './config.schema';
import type { QboLine, QboTxn } from './types';

/**
 * Drafts as QuickBooks Online documents. "Draft for finance to approve" is an **Estimate**
 * (TxnStatus Pending): QuickBooks has no draft invoice, and an estimate is non-posting, so
 * nothing reaches the books until finance converts it into an invoice (which closes it). A
 * negative correction is a **CreditMemo**, which QuickBooks posts at once; Hourbridge keeps it
 * editable while nothing is applied from it and it was not sent.
 * https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/estimate
 * https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/creditmemo
 */

export type QboEntity = 'Estimate' | 'CreditMemo';

/** Intuit's limit on DocNumber (the field's documented max length). */
export const DOC_NUMBER_MAX = 21;

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

export function docNumberFor(draft: InvoiceDraft, s: EffectiveSettings): string {
  const n = renderTemplate(s.docNumber, draft);
  if (n.length > DOC_NUMBER_MAX) {
    throw new DraftRejected(
      'config',
      `DocNumber "${n}" of ${draft.key} is ${n.length} characters, over QuickBooks' ${DOC_NUMBER_MAX}; use {{keyHash}} in the docNumber template (default HB{{keyHash}}, 18 characters)`,
    );
  }
  return n;
}

export function entityFor(draft: InvoiceDraft): QboEntity {
  return dec(draft.total).isNegative() ? 'CreditMemo' : 'Estimate';
}

function itemFor(kind: InvoiceDraft['lines'][number]['kind'], s: EffectiveSettings): string {
  return s.items?.[kind] ?? s.itemRef;
}

function taxCodeFor(taxType: string | undefined, s: EffectiveSettings): string | undefined {
  if (taxType !== undefined) {
    const mapped = s.taxCodes?.[taxType];
    if (mapped) return mapped;
  }
  return s.taxCode;
}

/** Numbers as QuickBooks' JSON carries them; every value here is an exact decimal with ≤ 4 places. */
const num = (v: string) => Number(v);

/**
 * The body of a create or full update. A credit memo states positive figures for what the
 * ledger holds as a negative total, so its lines are negated (credited lines positive).
 */
export function buildTxn(
  draft: InvoiceDraft,
  s: EffectiveSettings,
  opts: { entity: QboEntity; customerId: string; docNumber: string; id?: string; syncToken?: string },
): QboTxn {
  const negate = opts.entity === 'CreditMemo';
  let taxed = false;
  const lines: QboLine[] = draft.lines.map((l, i) => {
    const qty = negate ? dec(l.quantity).negated() : dec(l.quantity);
    const amount = negate ? dec(l.amount).negated() : dec(l.amount);
    const tax = taxCodeFor(l.taxType, s);
    if (tax) taxed = true;
    return {
      LineNum: i + 1,
      Description: l.description.slice(0, 4000),
      Amount: num(amount.toFixed(2)),
      DetailType: 'SalesItemLineDetail',
      SalesItemLineDetail: {
        ItemRef: { value: itemFor(l.kind, s) },
        Qty: num(qty.toString()),
        UnitPrice: num(l.unitPrice),
        ...(tax ? { TaxCodeRef: { value: tax } } : {}),
      },
    };
  });
  return {
    ...(opts.id ? { Id: opts.id, SyncToken: opts.syncToken ?? '0' } : {}),
    DocNumber: opts.docNumber,
    TxnDate: draft.issueDate,
    CustomerRef: { value: opts.customerId },
    CurrencyRef: { value: draft.currency },
    PrivateNote: `Hourbridge ${draft.key}`,
    ...(taxed ? { GlobalTaxCalculation: 'TaxExcluded' as const } : {}),
    ...(opts.entity === 'Estimate' ? { TxnStatus: 'Pending', ExpirationDate: draft.dueDate, EmailStatus: 'NotSet' } : {}),
    Line: lines,
  };
}

/** Lines of the document as QuickBooks holds them (sales lines only; it adds a SubTotalLine). */
export function salesLines(txn: Pick<QboTxn, 'Line'>): QboLine[] {
  return (txn.Line ?? []).filter((l) => l.DetailType === 'SalesItemLineDetail');
}

/** Does the remote document already carry exactly this draft's lines? (adopting after a lost answer) */
export function sameContent(draft: InvoiceDraft, remote: Pick<QboTxn, 'Line'>, entity: QboEntity): boolean {
  const lines = salesLines(remote);
  if (lines.length !== draft.lines.length) return false;
  const sign = entity === 'CreditMemo' ? -1 : 1;
  return draft.lines.every((l, i) => {
    const r = lines[i];
    return (
      r !== undefined &&
      dec(r.Amount).eq(dec(l.amount).times(sign)) &&
      dec(r.SalesItemLineDetail?.Qty ?? 0).eq(dec(l.quantity).times(sign)) &&
      dec(r.SalesItemLineDetail?.UnitPrice ?? 0).eq(l.unitPrice) &&
      (r.Description ?? '') === l.description.slice(0, 4000)
    );
  });
}

/** Net, tax and gross as the ledger compares them (a credit memo's negated). */
export function remoteFigures(txn: QboTxn, entity: QboEntity): { remoteTotal?: string; remoteTax?: string; remoteGross?: string } {
  if (txn.TotalAmt === undefined) return {};
  const sign = entity === 'CreditMemo' ? -1 : 1;
  const gross = dec(txn.TotalAmt);
  const tax = dec(txn.TxnTaxDetail?.TotalTax ?? 0);
  return {
    remoteTotal: gross.minus(tax).times(sign).toFixed(2),
    ...(txn.TxnTaxDetail?.TotalTax !== undefined ? { remoteTax: tax.times(sign).toFixed(2) } : {}),
    remoteGross: gross.times(sign).toFixed(2),
  };
}

export function remoteLineIds(draft: InvoiceDraft, txn: QboTxn): Record<string, string> {
  const out: Record<string, string> = {};
  salesLines(txn).forEach((l, i) => {
    const d = draft.lines[i];
    if (d && l.Id) out[d.lineKey] = l.Id;
  });
  return out;
}

/** The ledger's name for what QuickBooks says of the document, or undefined while it is still a draft. */
export function lockedStatus(txn: QboTxn, entity: QboEntity): string | undefined {
  if (entity === 'Estimate') {
    const s = txn.TxnStatus ?? 'Pending';
    if (s === 'Pending') return undefined;
    return s; // Accepted, Closed (converted into an invoice), Rejected
  }
  if (txn.EmailStatus === 'EmailSent') return 'EmailSent';
  if (txn.Balance !== undefined && txn.TotalAmt !== undefined && !dec(txn.Balance).eq(txn.TotalAmt)) return 'Applied';
  return undefined;
}

/** A deterministic requestid (≤ 50 characters, Intuit's limit): the same write sent again replays the first answer. */
export function requestId(op: string, realmId: string, parts: readonly string[]): string {
  const h = createHash('sha256')
    .update(`${op}\n${realmId}\n${parts.join('\n')}`)
    .digest('hex');
  return `hb-${op.slice(0, 6)}-${h.slice(0, 40)}`;
}
