import { z } from 'zod';
import { dec, fixed, roundHalfUp, sum, type DecimalString } from './money';

/*
 * The VAT model of EN 16931 (the EU norm every Peppol invoice follows), shared by every
 * surface that shows tax: the UBL e-invoice, the file destination's JSON and HTML, reports, and
 * the comparison with packages that compute tax themselves.
 *
 * - Each line carries a VAT category (UNCL 5305 subset of EN 16931) and a rate.
 * - The VAT breakdown has one row per category and rate: taxable amount = the exact sum of the
 *   line net amounts in it (BR-S-08, BR-Z-08, …), tax amount = taxable × rate / 100 rounded
 *   half-up once per row (BR-CO-17), to the currency's minor unit and never more than 2
 *   decimals (BR-DEC-20).
 * - Totals: net = Σ lines (BR-CO-10, BR-CO-13), VAT = Σ rows (BR-CO-14),
 *   gross = net + VAT (BR-CO-15), payable = gross (BR-CO-16, nothing prepaid, no rounding).
 * A package that rounds tax per line (Xero) can differ by cents from this; `perLineTax` shows its figure.
 */

export const VatCategoryCode = z
  .enum(['S', 'Z', 'E', 'AE', 'K', 'G', 'O'])
  .describe(
    'EN 16931 VAT category: S standard rate, Z zero rated, E exempt, AE reverse charge, K intra-community supply, G export outside the EU, O not subject to VAT.',
  );
export type VatCategoryCode = z.infer<typeof VatCategoryCode>;

/** Categories whose breakdown must give a reason (BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10); S and Z must not (BR-S-10, BR-Z-10). */
export const EXEMPT_CATEGORIES: ReadonlySet<VatCategoryCode> = new Set(['E', 'AE', 'K', 'G', 'O']);

/** The CEF VATEX code each category takes when the config names none (E has none: its reason depends on the article). */
export const DEFAULT_EXEMPTION_CODE: Partial<Record<VatCategoryCode, string>> = {
  AE: 'VATEX-EU-AE',
  K: 'VATEX-EU-IC',
  G: 'VATEX-EU-G',
  O: 'VATEX-EU-O',
};

const rateValue = z
  .union([z.number(), z.string()])
  .describe('VAT rate in percent, e.g. 21 or "9.5".')
  .superRefine((v, ctx) => {
    const text = typeof v === 'number' ? String(v) : v.trim();
    if (!/^\d{1,2}(\.\d{1,2})?$/.test(text))
      ctx.addIssue({ code: 'custom', message: `expected a VAT rate in percent such as 21 or 9.5, got ${JSON.stringify(v)}` });
  });

const vatFields = {
  category: VatCategoryCode,
  rate: rateValue.optional().describe('Rate in percent. Required (> 0) for S; 0 or absent for every other category.'),
  exemptionReasonCode: z
    .string()
    .regex(/^VATEX-[A-Z0-9-]+$/, 'expected a CEF VATEX code such as VATEX-EU-AE')
    .optional()
    .describe('VATEX code of the exemption (E, AE, K, G, O). Defaults: AE VATEX-EU-AE, K VATEX-EU-IC, G VATEX-EU-G, O VATEX-EU-O.'),
  exemptionReason: z.string().min(1).optional().describe('Exemption reason as text, e.g. "Reverse charge" (E, AE, K, G, O).'),
};

function checkVat(
  v: {
    category: VatCategoryCode;
    rate?: number | string | undefined;
    exemptionReasonCode?: string | undefined;
    exemptionReason?: string | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const rate = v.rate === undefined ? null : dec(typeof v.rate === 'number' ? String(v.rate) : v.rate.trim() || '0');
  if (v.category === 'S' && (rate === null || rate.lte(0)))
    ctx.addIssue({ code: 'custom', path: ['rate'], message: 'category S needs a rate above 0' });
  if (v.category !== 'S' && rate !== null && !rate.isZero())
    ctx.addIssue({ code: 'custom', path: ['rate'], message: `category ${v.category} has rate 0 (leave it out), got ${rate.toString()}` });
  const exempt = EXEMPT_CATEGORIES.has(v.category);
  if (exempt && !v.exemptionReasonCode && !v.exemptionReason && !DEFAULT_EXEMPTION_CODE[v.category])
    ctx.addIssue({
      code: 'custom',
      path: ['exemptionReasonCode'],
      message: `category ${v.category} needs exemptionReasonCode (e.g. VATEX-EU-132) or exemptionReason`,
    });
  if (!exempt && (v.exemptionReasonCode || v.exemptionReason))
    ctx.addIssue({
      code: 'custom',
      path: ['exemptionReason'],
      message: `category ${v.category} takes no exemption reason (EN 16931 BR-${v.category}-10)`,
    });
}

export const VatLineRule = z
  .strictObject({
    match: z
      .strictObject({
        kind: z.enum(['time', 'fee', 'expense', 'minimum']).optional().describe('Line kind.'),
        taxType: z.string().min(1).optional().describe('The taxType a line carries (an extra’s or an entry’s taxType).'),
      })
      .describe('Lines this rule applies to; every given field must match.'),
    ...vatFields,
  })
  .superRefine(checkVat)
  .describe('VAT of the lines that match; the first matching rule wins, else the client’s own.');

export const ClientVat = z
  .strictObject({ ...vatFields, lines: z.array(VatLineRule).default([]).describe('Per-line VAT by kind or taxType; first match wins.') })
  .superRefine(checkVat)
  .describe('VAT of this client’s invoices (EN 16931 category and rate), per line where rules say so.');
export type ClientVat = z.infer<typeof ClientVat>;

/** The VAT of one invoice line, as the draft carries it. */
export const LineVat = z.strictObject({
  category: VatCategoryCode,
  /** Percent as a decimal string ("21", "9.5"); "0" for every category but S. */
  rate: z.string(),
  exemptionReasonCode: z.string().optional(),
  exemptionReason: z.string().optional(),
});
export type LineVat = z.infer<typeof LineVat>;

function lineVatOf(v: {
  category: VatCategoryCode;
  rate?: number | string | undefined;
  exemptionReasonCode?: string | undefined;
  exemptionReason?: string | undefined;
}): LineVat {
  const rate = v.rate === undefined ? '0' : dec(typeof v.rate === 'number' ? String(v.rate) : v.rate).toString();
  const code = v.exemptionReasonCode ?? (v.exemptionReason ? undefined : DEFAULT_EXEMPTION_CODE[v.category]);
  return {
    category: v.category,
    rate,
    ...(EXEMPT_CATEGORIES.has(v.category) && code ? { exemptionReasonCode: code } : {}),
    ...(EXEMPT_CATEGORIES.has(v.category) && v.exemptionReason ? { exemptionReason: v.exemptionReason } : {}),
  };
}

/** The VAT a client's config gives a line: the first matching line rule, else the client's own. */
export function vatForLine(vat: ClientVat, line: { kind: string; taxType?: string | undefined }): LineVat {
  const rule = vat.lines.find(
    (r) => (!r.match.kind || r.match.kind === line.kind) && (!r.match.taxType || r.match.taxType === line.taxType),
  );
  return lineVatOf(rule ?? vat);
}

/**
 * Decimals of a currency's minor unit (ISO 4217 as CLDR has it: EUR 2, JPY 0, ISK 0), capped at
 * the 2 decimals EN 16931 allows for amounts. Intl carries the ISO table, so none is kept here.
 */
export function currencyDecimals(currency: string): number {
  try {
    const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    return Math.min(2, digits);
  } catch {
    return 2;
  }
}

export interface VatBreakdownRow {
  category: VatCategoryCode;
  rate: string;
  /** Σ net amounts of the lines in this category and rate (exact). */
  taxableAmount: DecimalString;
  /** taxable × rate / 100, rounded half-up once for the row. */
  taxAmount: DecimalString;
  exemptionReasonCode?: string;
  exemptionReason?: string;
}

export interface TaxSummary {
  currency: string;
  /** Decimals the tax amounts are rounded to (the currency's minor unit, at most 2). */
  decimals: number;
  breakdown: VatBreakdownRow[];
  net: DecimalString;
  vat: DecimalString;
  gross: DecimalString;
  payable: DecimalString;
}

export interface TaxedLine {
  /** Net line amount (2 decimals at most, as the ledger has it). */
  amount: DecimalString;
  vat: LineVat;
}

const CATEGORY_ORDER: VatCategoryCode[] = ['S', 'Z', 'E', 'AE', 'K', 'G', 'O'];

/** The EN 16931 tax of an invoice's lines: breakdown per category and rate, and the totals. */
export function taxSummary(lines: readonly TaxedLine[], currency: string): TaxSummary {
  const decimals = currencyDecimals(currency);
  const rows = new Map<string, { vat: LineVat; amounts: DecimalString[] }>();
  for (const line of lines) {
    // Exemption reasons belong to the row (BT-120/121): lines of one category and rate with
    // different reasons are separate rows.
    const key = JSON.stringify([
      line.vat.category,
      dec(line.vat.rate).toString(),
      line.vat.exemptionReasonCode ?? '',
      line.vat.exemptionReason ?? '',
    ]);
    const row = rows.get(key) ?? { vat: line.vat, amounts: [] };
    row.amounts.push(line.amount);
    rows.set(key, row);
  }
  const breakdown = [...rows.values()]
    .map(({ vat, amounts }) => {
      const taxable = sum(amounts);
      const tax = roundHalfUp(taxable.times(vat.rate).div(100), decimals);
      return {
        category: vat.category,
        rate: dec(vat.rate).toString(),
        taxableAmount: fixed(taxable, 2),
        taxAmount: fixed(tax, decimals),
        ...(vat.exemptionReasonCode ? { exemptionReasonCode: vat.exemptionReasonCode } : {}),
        ...(vat.exemptionReason ? { exemptionReason: vat.exemptionReason } : {}),
      };
    })
    .sort((a, b) => CATEGORY_ORDER.indexOf(a.category) - CATEGORY_ORDER.indexOf(b.category) || dec(b.rate).comparedTo(a.rate));
  const net = sum(lines.map((l) => l.amount));
  const vat = sum(breakdown.map((r) => r.taxAmount));
  const gross = net.plus(vat);
  return { currency, decimals, breakdown, net: fixed(net, 2), vat: fixed(vat, 2), gross: fixed(gross, 2), payable: fixed(gross, 2) };
}

/**
 * Tax as a package that rounds per line computes it (Xero: each line's tax rounded, then summed),
 * for the comparison with the EN 16931 figure, which rounds once per breakdown row.
 */
export function perLineTax(lines: readonly TaxedLine[], currency: string): DecimalString {
  const decimals = currencyDecimals(currency);
  return fixed(sum(lines.map((l) => roundHalfUp(dec(l.amount).times(l.vat.rate).div(100), decimals))), 2);
}

/** A document's lines as the tax model reads them (an InvoiceDraft fits). */
export interface TaxedDocument {
  currency: string;
  lines: readonly { amount: DecimalString; vat?: LineVat | undefined }[];
}

/** The EN 16931 tax of a document whose every line has its VAT (the client has `vat`); undefined otherwise. */
export function documentTax(doc: TaxedDocument): TaxSummary | undefined {
  if (doc.lines.length === 0 || doc.lines.some((l) => !l.vat)) return undefined;
  return taxSummary(doc.lines as TaxedLine[], doc.currency);
}

/**
 * The sentence to show when a package's own tax (e.g. Xero's TotalTax) differs from the EN 16931
 * figure, with both; undefined when they agree or the document has no VAT model. A package that
 * rounds each line's tax can be cents off the per-category rounding; any other difference means
 * its tax rates are not the client's `vat`.
 */
export function taxComparison(doc: TaxedDocument, remoteTax: DecimalString): string | undefined {
  const en = documentTax(doc);
  if (!en || dec(remoteTax).eq(en.vat)) return undefined;
  const perLine = perLineTax(doc.lines as TaxedLine[], doc.currency);
  const why = dec(remoteTax).eq(perLine)
    ? 'the package rounds tax per line, EN 16931 once per VAT category and rate'
    : `the package's tax rates are not the client's vat (per-line rounding would give ${perLine})`;
  return `tax at the destination ${fixed(remoteTax, 2)} differs from EN 16931's ${en.vat} (gross ${fixed(dec(en.net).plus(remoteTax), 2)} vs ${en.gross}): ${why}`;
}
