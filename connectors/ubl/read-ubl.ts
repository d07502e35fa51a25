import { XMLParser } from 'fast-xml-parser';
import { dec, fixed } from '../../src/domain/money';

/**
 * Reads the figures back from a UBL Invoice or CreditNote, in the ledger's terms: a credit
 * note's amounts get their sign turned back (the document states them positive). Used to check
 * that what is written says what the ledger says, to the cent.
 */
export interface ReadUbl {
  type: 'invoice' | 'credit-note';
  id: string;
  currency: string;
  issueDate: string;
  period: { start: string; end: string };
  lines: Array<{ name: string; quantity: string; unitCode: string; net: string; unitPrice: string; category: string; rate: string | null }>;
  breakdown: Array<{ category: string; rate: string | null; taxableAmount: string; taxAmount: string }>;
  net: string;
  vat: string;
  gross: string;
  payable: string;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  isArray: (name) => ['InvoiceLine', 'CreditNoteLine', 'TaxSubtotal', 'TaxTotal'].includes(name),
});

type El = Record<string, unknown>;
const text = (v: unknown): string => (v && typeof v === 'object' ? String((v as El)['#text'] ?? '') : String(v ?? ''));
const el = (v: unknown): El => (v && typeof v === 'object' ? (v as El) : {});

export function readUbl(xml: string): ReadUbl {
  const parsed = parser.parse(xml) as El;
  const credit = 'CreditNote' in parsed;
  const root = el(credit ? parsed.CreditNote : parsed.Invoice);
  const sign = (v: unknown) => {
    const d = dec(text(v) || '0');
    return credit && !d.isZero() ? fixed(d.negated(), Math.max(0, d.decimalPlaces())) : text(v);
  };
  const totals = el(root.LegalMonetaryTotal);
  const taxTotal = el((root.TaxTotal as unknown[] | undefined)?.[0]);
  const lines = (root[credit ? 'CreditNoteLine' : 'InvoiceLine'] as El[] | undefined) ?? [];
  return {
    type: credit ? 'credit-note' : 'invoice',
    id: text(root.ID),
    currency: text(root.DocumentCurrencyCode),
    issueDate: text(root.IssueDate),
    period: { start: text(el(root.InvoicePeriod).StartDate), end: text(el(root.InvoicePeriod).EndDate) },
    lines: lines.map((l) => {
      const qty = el(l[credit ? 'CreditedQuantity' : 'InvoicedQuantity']);
      const cat = el(el(l.Item).ClassifiedTaxCategory);
      return {
        name: text(el(l.Item).Name),
        quantity: sign(qty),
        unitCode: String(qty['@unitCode'] ?? ''),
        net: sign(l.LineExtensionAmount),
        unitPrice: text(el(l.Price).PriceAmount),
        category: text(cat.ID),
        rate: cat.Percent === undefined ? null : text(cat.Percent),
      };
    }),
    breakdown: ((taxTotal.TaxSubtotal as El[] | undefined) ?? []).map((s) => ({
      category: text(el(s.TaxCategory).ID),
      rate: el(s.TaxCategory).Percent === undefined ? null : text(el(s.TaxCategory).Percent),
      taxableAmount: sign(s.TaxableAmount),
      taxAmount: sign(s.TaxAmount),
    })),
    net: sign(totals.LineExtensionAmount),
    vat: sign(taxTotal.TaxAmount),
    gross: sign(totals.TaxInclusiveAmount),
    payable: sign(totals.PayableAmount),
  };
}
