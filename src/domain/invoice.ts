import { z } from 'zod';
import { decimalString, isoDate } from './time-entry';
import { InvoiceParties } from './party';
import { LineVat } from './tax';

export const BillingPeriod = z.strictObject({
  /** First local date of the period (inclusive). */
  start: isoDate,
  /** Last local date of the period (inclusive). */
  end: isoDate,
  /** Stable label used in keys and file names, e.g. "2026-W14", "2026-03". */
  label: z.string(),
});
export type BillingPeriod = z.infer<typeof BillingPeriod>;

export const InvoiceLineDraft = z.strictObject({
  /** Stable key of the line within its invoice (grouping values + unit price). */
  lineKey: z.string(),
  description: z.string().min(1),
  quantity: decimalString,
  unitPrice: decimalString,
  /** Net line amount (no tax): quantity × unitPrice rounded half-up to cents. */
  amount: decimalString,
  kind: z.enum(['time', 'fee', 'expense', 'minimum']),
  taxType: z.string().optional(),
  /** EN 16931 VAT category and rate, when the client's config has `vat` (src/domain/tax.ts). */
  vat: LineVat.optional(),
  /** Local date of the work, on lines of one entry (`groupBy: entry`): the date its shift starts. */
  date: isoDate.optional(),
  /** Key of the approved invoice this line credits (a correction line). */
  correctionOf: z.string().optional(),
  /** `sourceId:externalId` of every entry this line bills. */
  entryIds: z.array(z.string()),
});
export type InvoiceLineDraft = z.infer<typeof InvoiceLineDraft>;

export const InvoiceStatus = z.enum([
  'draft', // assembled in the ledger, not yet written to the destination (or changed since)
  'pushed', // written to the destination as a draft
  'failed', // the destination rejected it; the reason is stored
  'approved', // approved in the accounting system: locked, changes go to corrections
  'paid',
  'voided',
  'deleted',
]);
export type InvoiceStatus = z.infer<typeof InvoiceStatus>;

export const InvoiceDraft = z.strictObject({
  /** Deterministic: client, period, destination, sequence. Sent as idempotency key/reference. */
  key: z.string(),
  clientId: z.string(),
  clientName: z.string(),
  destinationId: z.string(),
  currency: z.string().length(3),
  period: BillingPeriod,
  sequence: z.number().int().positive(),
  issueDate: isoDate,
  dueDate: isoDate,
  lines: z.array(InvoiceLineDraft),
  /** Worked hours: the quantities of the time lines (a call-out minimum's shortfall is not worked). */
  hours: decimalString,
  /**
   * Billed hours: worked hours plus the shortfall a minimum per shift bills. Optional only for
   * drafts stored before it existed; every draft built now has it.
   */
  billedHours: decimalString.optional(),
  /** Net: the exact sum of the (net) line amounts. Tax is the destination's to add (Xero: per line TaxType). */
  total: decimalString,
  /** Seller and buyer, when the config names them (src/domain/party.ts). */
  parties: InvoiceParties.optional(),
  /** Hash of the billable content; a changed hash means the remote draft must be updated. */
  contentHash: z.string(),
});
export type InvoiceDraft = z.infer<typeof InvoiceDraft>;
