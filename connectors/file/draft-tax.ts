import type { InvoiceDraft } from '../../src/domain/invoice';
import { perLineTax, taxSummary, type TaxedLine, type TaxSummary } from '../../src/domain/tax';

/** The EN 16931 tax of a draft whose every line has its VAT (the client has `vat`); else none, and the package adds tax. */
export function draftTax(draft: InvoiceDraft): TaxSummary | undefined {
  if (draft.lines.length === 0 || draft.lines.some((l) => !l.vat)) return undefined;
  return taxSummary(draft.lines as TaxedLine[], draft.currency);
}

/** What a package that rounds tax per line (Xero) would compute for the same lines. */
export function draftPerLineTax(draft: InvoiceDraft): string | undefined {
  if (draft.lines.length === 0 || draft.lines.some((l) => !l.vat)) return undefined;
  return perLineTax(draft.lines as TaxedLine[], draft.currency);
}

export function paymentTermsText(draft: InvoiceDraft): string {
  const days = Math.round((Date.parse(`${draft.dueDate}T00:00:00Z`) - Date.parse(`${draft.issueDate}T00:00:00Z`)) / 86_400_000);
  return draft.parties?.seller?.paymentTerms ?? `Payment within ${days} days (due ${draft.dueDate})`;
}
