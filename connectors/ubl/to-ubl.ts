import { XMLBuilder } from 'fast-xml-parser';
import type { ClientConfig } from '../../src/config/client.schema';
import { paymentTermsText } from '../file/draft-tax';
import type { InvoiceDraft, InvoiceLineDraft } from '../../src/domain/invoice';
import { dec, fixed } from '../../src/domain/money';
import type { Address, BuyerParty, SellerParty } from '../../src/domain/party';
import { currencyDecimals, taxSummary, type LineVat, type TaxSummary, type VatCategoryCode } from '../../src/domain/tax';

/*
 * InvoiceDraft → Peppol BIS Billing 3.0 UBL 2.1 document.
 * Spec: https://docs.peppol.eu/poacc/billing/3.0/syntax/ubl-invoice/tree/ and
 * https://docs.peppol.eu/poacc/billing/3.0/syntax/ubl-creditnote/tree/ (element order follows
 * the UBL 2.1 schema sequence, which the XSD check enforces). Rule ids in comments are those of
 * EN 16931 (BR-*) and Peppol (PEPPOL-EN16931-R*) the element exists for.
 */

export const CUSTOMIZATION_ID = 'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0';
export const PROFILE_ID = 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0';

/** What a draft lacks before it can be an e-invoice, as sentences naming the config field; empty: ready. */
export function missingForEinvoice(draft: InvoiceDraft): string[] {
  return missingParts({
    clientId: draft.clientId,
    seller: draft.parties?.seller,
    buyer: draft.parties?.buyer,
    vatOnEveryLine: draft.lines.every((l) => l.vat),
    categories: new Set(draft.lines.flatMap((l) => (l.vat ? [l.vat.category] : []))),
  });
}

/** What a client's config lacks before its first e-invoice (`hourbridge validate`): the same checks over every category it can bill. */
export function missingForClient(client: ClientConfig): string[] {
  return missingParts({
    clientId: client.id,
    seller: client.seller,
    buyer: client.buyer,
    vatOnEveryLine: !!client.vat,
    categories: new Set(client.vat ? [client.vat.category, ...client.vat.lines.map((l) => l.category)] : []),
  });
}

function missingParts(p: {
  clientId: string;
  seller: SellerParty | undefined;
  buyer: BuyerParty | undefined;
  vatOnEveryLine: boolean;
  categories: Set<VatCategoryCode>;
}): string[] {
  const { clientId, seller, buyer, categories } = p;
  const missing: string[] = [];
  if (!seller) missing.push('seller (top-level `seller:` or clients[].seller): legal name, VAT id, address, endpoint');
  if (!buyer) missing.push(`clients[${clientId}].buyer: address, endpoint and buyerReference or orderReference`);
  if (!p.vatOnEveryLine) missing.push(`clients[${clientId}].vat: the VAT category and rate of its lines`);
  if (seller && !seller.endpoint) missing.push('seller.endpoint (Peppol electronic address, PEPPOL-EN16931-R020)');
  if (buyer && !buyer.endpoint) missing.push(`clients[${clientId}].buyer.endpoint (Peppol electronic address, PEPPOL-EN16931-R010)`);
  if (buyer && !buyer.buyerReference && !buyer.orderReference)
    missing.push(`clients[${clientId}].buyer.buyerReference or orderReference (PEPPOL-EN16931-R003)`);
  if (categories.has('O') && categories.size > 1)
    missing.push(`clients[${clientId}].vat: category O cannot share an invoice with other categories (BR-O-11)`);
  const needsSellerVat = [...categories].some((c) => c !== 'O');
  if (seller && needsSellerVat && !seller.vatId) missing.push('seller.vatId (BR-S-02 and the other categories but O)');
  if (buyer && (categories.has('AE') || categories.has('K')) && !buyer.vatId)
    missing.push(`clients[${clientId}].buyer.vatId (reverse charge and intra-community supply: BR-AE-02, BR-K-02)`);
  return missing;
}

type Node = Record<string, unknown>;

const amount = (value: string, currency: string, dp = 2) => ({ '@_currencyID': currency, '#text': fixed(value, dp) });

function address(a: Address): Node {
  return {
    ...(a.street ? { 'cbc:StreetName': a.street } : {}),
    ...(a.additionalStreet ? { 'cbc:AdditionalStreetName': a.additionalStreet } : {}),
    ...(a.city ? { 'cbc:CityName': a.city } : {}),
    ...(a.postalCode ? { 'cbc:PostalZone': a.postalCode } : {}),
    ...(a.region ? { 'cbc:CountrySubentity': a.region } : {}),
    'cac:Country': { 'cbc:IdentificationCode': a.country },
  };
}

function party(p: (SellerParty | BuyerParty) & { legalName: string }, withVat: boolean): Node {
  return {
    ...(p.endpoint ? { 'cbc:EndpointID': { '@_schemeID': p.endpoint.scheme, '#text': p.endpoint.id } } : {}),
    ...(p.tradingName ? { 'cac:PartyName': { 'cbc:Name': p.tradingName } } : {}),
    'cac:PostalAddress': address(p.address),
    // BR-O-02/03/04: a document with category O names no VAT identifiers.
    ...(withVat && p.vatId ? { 'cac:PartyTaxScheme': { 'cbc:CompanyID': p.vatId, 'cac:TaxScheme': { 'cbc:ID': 'VAT' } } } : {}),
    'cac:PartyLegalEntity': {
      'cbc:RegistrationName': p.legalName,
      ...(p.companyId
        ? { 'cbc:CompanyID': p.companyId.scheme ? { '@_schemeID': p.companyId.scheme, '#text': p.companyId.id } : p.companyId.id }
        : {}),
    },
    ...(p.contact
      ? {
          'cac:Contact': {
            ...(p.contact.name ? { 'cbc:Name': p.contact.name } : {}),
            ...(p.contact.phone ? { 'cbc:Telephone': p.contact.phone } : {}),
            ...(p.contact.email ? { 'cbc:ElectronicMail': p.contact.email } : {}),
          },
        }
      : {}),
  };
}

function taxCategory(vat: Pick<LineVat, 'category' | 'rate'>, reason?: { code?: string; text?: string }): Node {
  return {
    'cbc:ID': vat.category,
    // BR-O-05/09: "not subject to VAT" carries no rate.
    ...(vat.category === 'O' ? {} : { 'cbc:Percent': dec(vat.rate).toString() }),
    ...(reason?.code ? { 'cbc:TaxExemptionReasonCode': reason.code } : {}),
    ...(reason?.text ? { 'cbc:TaxExemptionReason': reason.text } : {}),
    'cac:TaxScheme': { 'cbc:ID': 'VAT' },
  };
}

/** Unit codes (UN/ECE Rec. 20): hours for time and minimums, "one" for fees and expenses. */
function unitCode(line: InvoiceLineDraft): string {
  return line.kind === 'time' || line.kind === 'minimum' ? 'HUR' : 'C62';
}

export interface UblDocument {
  type: 'invoice' | 'credit-note';
  xml: string;
  tax: TaxSummary;
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
});

/**
 * The UBL document of a draft: an Invoice, or a CreditNote when the draft's net is negative
 * (a correction that credits more than it bills), whose amounts are then written with their
 * sign turned, as a credit note states them. Call only when missingForEinvoice(draft) is empty.
 */
export function toUbl(draft: InvoiceDraft): UblDocument {
  const seller = draft.parties!.seller!;
  const buyer = draft.parties!.buyer!;
  const credit = dec(draft.total).isNegative();
  const sign = (v: string) => (credit ? dec(v).negated().toString() : v);
  const cur = draft.currency;
  const lines = draft.lines.map((l) => ({ line: l, vat: l.vat!, amount: sign(l.amount) }));
  const tax = taxSummary(lines, cur);
  const withVat = !lines.some((l) => l.vat.category === 'O');
  const taxDp = currencyDecimals(cur);
  const corrected = [...new Set(draft.lines.map((l) => l.correctionOf).filter((k): k is string => !!k))].sort();
  const terms = paymentTermsText(draft);
  const root = credit ? 'CreditNote' : 'Invoice';
  const lineTag = credit ? 'cac:CreditNoteLine' : 'cac:InvoiceLine';
  const qtyTag = credit ? 'cbc:CreditedQuantity' : 'cbc:InvoicedQuantity';

  const doc: Node = {
    '@_xmlns': `urn:oasis:names:specification:ubl:schema:xsd:${root}-2`,
    '@_xmlns:cac': 'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2',
    '@_xmlns:cbc': 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2',
    'cbc:CustomizationID': CUSTOMIZATION_ID,
    'cbc:ProfileID': PROFILE_ID,
    'cbc:ID': draft.key,
    'cbc:IssueDate': draft.issueDate,
    // UBL 2.1 has no DueDate on a CreditNote; its terms say when.
    ...(credit ? {} : { 'cbc:DueDate': draft.dueDate }),
    [credit ? 'cbc:CreditNoteTypeCode' : 'cbc:InvoiceTypeCode']: credit ? '381' : '380',
    'cbc:DocumentCurrencyCode': cur,
    ...(buyer.buyerReference ? { 'cbc:BuyerReference': buyer.buyerReference } : {}),
    // BG-14: the billed period.
    'cac:InvoicePeriod': { 'cbc:StartDate': draft.period.start, 'cbc:EndDate': draft.period.end },
    ...(buyer.orderReference ? { 'cac:OrderReference': { 'cbc:ID': buyer.orderReference } } : {}),
    // BG-3: the approved invoices a correction credits (NL-R-001 requires it on a credit note).
    ...(corrected.length ? { 'cac:BillingReference': corrected.map((id) => ({ 'cac:InvoiceDocumentReference': { 'cbc:ID': id } })) } : {}),
    // BT-18 (invoiced object, code 130): the billing period the document bills, by its label.
    'cac:AdditionalDocumentReference': { 'cbc:ID': `${draft.clientId}/${draft.period.label}`, 'cbc:DocumentTypeCode': '130' },
    'cac:AccountingSupplierParty': { 'cac:Party': party(seller, withVat) },
    'cac:AccountingCustomerParty': { 'cac:Party': party(buyer, withVat) },
    // BR-IC-12: an intra-community supply names the country delivered to.
    ...(lines.some((l) => l.vat.category === 'K')
      ? {
          'cac:Delivery': {
            'cac:DeliveryLocation': { 'cac:Address': { 'cac:Country': { 'cbc:IdentificationCode': buyer.address.country } } },
          },
        }
      : {}),
    ...(seller.iban
      ? {
          'cac:PaymentMeans': {
            'cbc:PaymentMeansCode': { '@_name': 'SEPA credit transfer', '#text': '58' },
            'cbc:PaymentID': draft.key,
            'cac:PayeeFinancialAccount': {
              'cbc:ID': seller.iban.replace(/\s+/g, '').toUpperCase(),
              'cbc:Name': seller.legalName,
              ...(seller.bic ? { 'cac:FinancialInstitutionBranch': { 'cbc:ID': seller.bic } } : {}),
            },
          },
        }
      : {}),
    'cac:PaymentTerms': { 'cbc:Note': terms },
    'cac:TaxTotal': {
      'cbc:TaxAmount': amount(tax.vat, cur, taxDp),
      'cac:TaxSubtotal': tax.breakdown.map((row) => ({
        'cbc:TaxableAmount': amount(row.taxableAmount, cur),
        'cbc:TaxAmount': amount(row.taxAmount, cur, taxDp),
        'cac:TaxCategory': taxCategory(row, { code: row.exemptionReasonCode, text: row.exemptionReason }),
      })),
    },
    'cac:LegalMonetaryTotal': {
      'cbc:LineExtensionAmount': amount(tax.net, cur),
      'cbc:TaxExclusiveAmount': amount(tax.net, cur),
      'cbc:TaxInclusiveAmount': amount(tax.gross, cur),
      'cbc:PayableAmount': amount(tax.payable, cur),
    },
    [lineTag]: lines.map(({ line, vat, amount: net }, i) => ({
      'cbc:ID': String(i + 1),
      [qtyTag]: { '@_unitCode': unitCode(line), '#text': credit ? dec(line.quantity).negated().toString() : line.quantity },
      'cbc:LineExtensionAmount': amount(net, cur),
      // BG-26: a line of one entry names the day worked (inside the invoice period, PEPPOL-EN16931-R110/R111).
      ...(line.date && line.date >= draft.period.start && line.date <= draft.period.end
        ? { 'cac:InvoicePeriod': { 'cbc:StartDate': line.date, 'cbc:EndDate': line.date } }
        : {}),
      'cac:Item': {
        'cbc:Name': line.description,
        'cac:ClassifiedTaxCategory': taxCategory(vat),
      },
      // BR-27: the price is never negative; a credited line's sign is in its quantity.
      'cac:Price': { 'cbc:PriceAmount': { '@_currencyID': cur, '#text': dec(line.unitPrice).abs().toString() } },
    })),
  };
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [root]: doc }) as string}`;
  return { type: credit ? 'credit-note' : 'invoice', xml, tax };
}
