import type { InvoiceDraft } from '../../src/domain/invoice';
import { documentTax, perLineTax, type TaxedLine, type TaxSummary } from '../../src/domain/tax';

/** The EN 16931 tax of a draft whose every line has its VAT (the client has `vat`); else none, and the package adds tax. */
export function draftTax(draft: InvoiceDraft): TaxSummary | undefined {
  return documentTax(draft);
}

/** What a package that rounds tax per line (Xero) would compute for the same lines. */
export function draftPerLineTax(draft: InvoiceDraft): string | undefined {
  return documentTax(draft) ? perLineTax(draft.lines as TaxedLine[], draft.currency) : undefined;
}

export function paymentTermsText(draft: InvoiceDraft): string {
  const days = Math.round((Date.parse(`${draft.dueDate}T00:00:00Z`) - Date.parse(`${draft.issueDate}T00:00:00Z`)) / 86_400_000);
  return draft.parties?.seller?.paymentTerms ?? `Payment within ${days} days (due ${draft.dueDate})`;
}
