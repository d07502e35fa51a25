import { z } from 'zod';

/*
 * Seller and buyer as an invoice names them (EN 16931 BG-4 and BG-7): the data an e-invoice
 * needs and the file destination shows. The seller is config-level (`seller:`), the buyer is
 * per client (`clients[].buyer`); both are copied onto each draft, so a draft is complete.
 */

const country = z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 country code such as NL');

export const Address = z
  .strictObject({
    street: z.string().min(1).optional().describe('Street and number.'),
    additionalStreet: z.string().min(1).optional(),
    city: z.string().min(1).optional(),
    postalCode: z.string().min(1).optional(),
    region: z.string().min(1).optional(),
    country: country.describe('ISO 3166-1 alpha-2 country code, e.g. NL.'),
  })
  .describe('Postal address.');
export type Address = z.infer<typeof Address>;

/** A Peppol electronic address: EAS scheme (4 digits, e.g. 0106 KVK, 0208 Belgian enterprise number, 9944 NL VAT) and the id in it. */
export const PeppolEndpoint = z
  .strictObject({
    id: z.string().min(1).describe('The id in the scheme, e.g. 12345678.'),
    scheme: z
      .string()
      .regex(/^\d{4}$/, 'expected a 4-digit EAS code such as 0106 or 0208')
      .describe('EAS code of the scheme, e.g. 0106, 0208, 9944.'),
  })
  .describe('Peppol endpoint (electronic address) with its EAS scheme.');

export const CompanyId = z
  .strictObject({
    id: z.string().min(1).describe('Legal registration number, e.g. a KVK or enterprise number.'),
    scheme: z
      .string()
      .regex(/^\d{4}$/, 'expected a 4-digit ICD code such as 0106')
      .optional()
      .describe('ISO 6523 ICD of the register, e.g. 0106 (KVK), 0208 (BE enterprise number).'),
  })
  .describe('Legal registration id.');

const partyFields = {
  legalName: z.string().min(1).describe('Registered legal name.'),
  tradingName: z.string().min(1).optional().describe('Name as trading, when it differs.'),
  vatId: z
    .string()
    .regex(/^[A-Z]{2}[A-Za-z0-9+*.]{2,13}$/, 'expected a VAT id with its country prefix, e.g. NL123456789B01')
    .optional()
    .describe('VAT identifier with country prefix.'),
  companyId: CompanyId.optional(),
  endpoint: PeppolEndpoint.optional(),
  address: Address,
  contact: z
    .strictObject({ name: z.string().min(1).optional(), email: z.string().email().optional(), phone: z.string().min(1).optional() })
    .optional()
    .describe('Contact person.'),
};

/**
 * ISO 13616 IBAN check (mod 97 of the rearranged digits): a one-line rule of the standard, so no
 * package is taken for it. A mistyped IBAN on an invoice sends the money nowhere.
 */
export function isIban(value: string): boolean {
  const iban = value.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(iban)) return false;
  const digits = `${iban.slice(4)}${iban.slice(0, 4)}`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  return BigInt(digits) % 97n === 1n;
}

export const SellerParty = z
  .strictObject({
    ...partyFields,
    iban: z
      .string()
      .refine(isIban, 'expected a valid IBAN (country code, check digits, account), e.g. NL91ABNA0417164300')
      .optional()
      .describe('IBAN payments go to (SEPA credit transfer).'),
    bic: z
      .string()
      .regex(/^[A-Z0-9]{8}([A-Z0-9]{3})?$/, 'expected a BIC of 8 or 11 characters')
      .optional(),
    paymentTerms: z.string().min(1).optional().describe('Payment terms text, e.g. "30 days net"; default: "Payment within N days".'),
  })
  .describe('The invoicing company (EN 16931 seller).');
export type SellerParty = z.infer<typeof SellerParty>;

export const BuyerParty = z
  .strictObject({
    ...partyFields,
    legalName: z.string().min(1).optional().describe("Registered legal name; default: the client's name."),
    buyerReference: z.string().min(1).optional().describe('Reference the buyer asks for (Peppol: this or orderReference is required).'),
    orderReference: z.string().min(1).optional().describe('Purchase order number.'),
  })
  .describe('The invoiced client as a party (EN 16931 buyer).');
export type BuyerParty = z.infer<typeof BuyerParty>;

/** The parties as a draft carries them (the buyer's legal name resolved). */
export const InvoiceParties = z.strictObject({
  seller: SellerParty.optional(),
  buyer: BuyerParty.extend({ legalName: z.string().min(1) }).optional(),
});
export type InvoiceParties = z.infer<typeof InvoiceParties>;
