/**
 * The Moneybird payloads Hourbridge reads and writes, as the API reference shows them
 * (https://developer.moneybird.com/api/sales_invoices/, https://developer.moneybird.com/api/contacts/).
 * Ids are strings of digits; amounts are decimal strings.
 */

/** A sales invoice state (sales_invoices: `state` enum). */
export type MoneybirdState = 'draft' | 'scheduled' | 'open' | 'pending_payment' | 'reminded' | 'late' | 'paid' | 'uncollectible';

export interface MoneybirdDetail {
  id: string;
  description: string;
  price: string;
  /** Quantity as text, e.g. "8" (Moneybird also accepts "8 uur"). */
  amount: string;
  tax_rate_id: string;
  ledger_account_id: string;
  total_price_excl_tax_with_discount?: string;
}

export interface MoneybirdSalesInvoice {
  id: string;
  administration_id: string | number;
  contact_id: string;
  invoice_id: string | null;
  reference: string | null;
  state: MoneybirdState;
  invoice_date: string | null;
  currency: string;
  prices_are_incl_tax: boolean;
  details: MoneybirdDetail[];
  total_price_excl_tax: string;
  total_price_incl_tax: string;
  version?: number;
}

/** `details_attributes` of a create or update: `id` updates a detail, `_destroy` removes one. */
export interface MoneybirdDetailInput {
  id?: string;
  description?: string;
  price?: string;
  amount?: string;
  tax_rate_id?: string;
  ledger_account_id?: string;
  _destroy?: boolean;
}

export interface MoneybirdSalesInvoiceInput {
  contact_id?: string;
  reference?: string;
  invoice_date?: string;
  currency?: string;
  prices_are_incl_tax?: boolean;
  workflow_id?: string;
  document_style_id?: string;
  details_attributes: MoneybirdDetailInput[];
}

export interface MoneybirdContact {
  id: string;
  company_name: string | null;
  customer_id: string | null;
}

/** A webhook delivery (https://developer.moneybird.com/webhooks/payload). */
export interface MoneybirdWebhookPayload {
  administration_id?: string | number;
  webhook_id?: string;
  webhook_token?: string;
  entity_type?: string;
  entity_id?: string;
  state?: string;
  action?: string;
  entity?: { id?: string; version?: number };
}
