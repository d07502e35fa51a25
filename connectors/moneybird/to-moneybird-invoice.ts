import type { InvoiceDraft } from '../../src/domain/invoice';
import { dec } from '../../src/domain/money';
import type { MoneybirdConfig } from './config.schema';
import type { MoneybirdDetail, MoneybirdDetailInput, MoneybirdSalesInvoice, MoneybirdSalesInvoiceInput } from './types';

/** A draft Moneybird cannot take as it is (a tax type without a tax rate id): fails alone, before any call. */
export class DraftRejected extends Error {
  constructor(
    readonly category: 'config' | 'permanent',
    message: string,
  ) {
    super(message);
  }
}

export interface ClientBookkeeping {
  contactId?: string;
  taxRateId: string;
  ledgerAccountId: string;
}

export function bookkeepingFor(config: MoneybirdConfig, clientId: string): ClientBookkeeping {
  const c = config.clients[clientId] ?? {};
  return {
    ...(c.contactId ? { contactId: c.contactId } : {}),
    taxRateId: c.taxRateId ?? config.defaults.taxRateId,
    ledgerAccountId: c.ledgerAccountId ?? config.defaults.ledgerAccountId,
  };
}

/** One detail per line: price = unit price, amount = quantity (net; Moneybird adds the tax of tax_rate_id). */
export function detailsOf(
  draft: InvoiceDraft,
  config: MoneybirdConfig,
): Required<Pick<MoneybirdDetailInput, 'description' | 'price' | 'amount' | 'tax_rate_id' | 'ledger_account_id'>>[] {
  const b = bookkeepingFor(config, draft.clientId);
  return draft.lines.map((l) => {
    let taxRateId = b.taxRateId;
    if (l.taxType) {
      const mapped = config.taxRates[l.taxType];
      if (!mapped) {
        throw new DraftRejected(
          'config',
          `line "${l.description}" has tax type "${l.taxType}", which destination "${config.id}" does not map to a Moneybird tax rate id (taxRates)`,
        );
      }
      taxRateId = mapped;
    }
    return {
      description: l.description,
      price: l.unitPrice,
      amount: l.quantity,
      tax_rate_id: taxRateId,
      ledger_account_id: b.ledgerAccountId,
    };
  });
}

/** The reference Hourbridge writes and looks invoices up by: the invoice key (deterministic). */
export const referenceOf = (draft: InvoiceDraft) => draft.key;

/** The `period:` filter around an invoice date: its year, the one before and the one after (the look-up must not miss a moved date). */
export function lookupPeriod(issueDate: string): string {
  const y = Number(issueDate.slice(0, 4));
  return `${y - 1}0101..${y + 1}1231`;
}

export function createBody(draft: InvoiceDraft, config: MoneybirdConfig, contactId: string): MoneybirdSalesInvoiceInput {
  return {
    contact_id: contactId,
    reference: referenceOf(draft),
    invoice_date: draft.issueDate,
    currency: draft.currency,
    prices_are_incl_tax: false,
    ...(config.defaults.workflowId ? { workflow_id: config.defaults.workflowId } : {}),
    ...(config.defaults.documentStyleId ? { document_style_id: config.defaults.documentStyleId } : {}),
    details_attributes: detailsOf(draft, config),
  };
}

/**
 * An in-place update: details Hourbridge wrote before (remoteLineIds) keep their ids and get the
 * new values, details no line owns any more are destroyed, new lines are added.
 */
export function updateBody(
  draft: InvoiceDraft,
  config: MoneybirdConfig,
  current: MoneybirdSalesInvoice,
  remoteLineIds: Record<string, string> = {},
): MoneybirdSalesInvoiceInput {
  const wanted = detailsOf(draft, config);
  const existing = new Set(current.details.map((d) => d.id));
  const kept = new Set<string>();
  const details: MoneybirdDetailInput[] = draft.lines.map((l, i) => {
    const id = remoteLineIds[l.lineKey];
    if (id && existing.has(id) && !kept.has(id)) {
      kept.add(id);
      return { id, ...wanted[i]! };
    }
    return wanted[i]!;
  });
  for (const d of current.details) if (!kept.has(d.id)) details.push({ id: d.id, _destroy: true });
  return { invoice_date: draft.issueDate, currency: draft.currency, details_attributes: details };
}

const same = (d: Pick<MoneybirdDetail, 'description' | 'price' | 'amount'>, w: { description: string; price: string; amount: string }) =>
  d.description === w.description && dec(d.price).eq(w.price) && dec(d.amount).eq(w.amount);

/** Each line's detail id in a Moneybird answer, matched by content (first unused match). */
export function remoteLineIdsOf(draft: InvoiceDraft, config: MoneybirdConfig, inv: MoneybirdSalesInvoice): Record<string, string> {
  const wanted = detailsOf(draft, config);
  const used = new Set<string>();
  const out: Record<string, string> = {};
  draft.lines.forEach((l, i) => {
    const d = inv.details.find((x) => !used.has(x.id) && same(x, wanted[i]!));
    if (d) {
      used.add(d.id);
      out[l.lineKey] = d.id;
    }
  });
  return out;
}

/** Whether Moneybird already holds exactly this draft's lines (an adopted invoice needs no update). */
export function sameContent(draft: InvoiceDraft, config: MoneybirdConfig, inv: MoneybirdSalesInvoice): boolean {
  const wanted = detailsOf(draft, config);
  return inv.details.length === wanted.length && Object.keys(remoteLineIdsOf(draft, config, inv)).length === wanted.length;
}

/** Moneybird's own figures, in the ledger's terms: net (excl. tax), tax, gross. */
export function figuresOf(inv: MoneybirdSalesInvoice): { remoteTotal: string; remoteTax: string; remoteGross: string } {
  const net = dec(inv.total_price_excl_tax);
  const gross = dec(inv.total_price_incl_tax);
  return { remoteTotal: net.toFixed(2), remoteTax: gross.minus(net).toFixed(2), remoteGross: gross.toFixed(2) };
}
