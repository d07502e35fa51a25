/**
 * Exact Online REST payload shapes Hourbridge reads and writes (OData v3 JSON: one entity in
 * `d`, lists in `d.results`), from the resource reference pages:
 * https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=SalesInvoiceSalesInvoices
 * https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=SalesInvoiceSalesInvoiceLines
 * https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=CRMAccounts
 * https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=SystemSystemMe
 */

export interface ExactInvoiceLine {
  ID?: string;
  InvoiceID?: string;
  LineNumber?: number;
  Item: string;
  Description?: string;
  Quantity: number;
  UnitPrice: number;
  VATCode?: string;
  AmountFC?: number;
  VATAmountFC?: number;
}

export interface ExactSalesInvoice {
  InvoiceID?: string;
  /** 10 draft, 20 open, 50 processed. */
  Status?: number;
  /** 8020 sales invoice, 8021 sales credit note. */
  Type?: number;
  Journal?: string;
  OrderedBy?: string;
  InvoiceTo?: string;
  YourRef?: string;
  Description?: string;
  Currency?: string;
  InvoiceDate?: string;
  DueDate?: string;
  AmountFCExclVat?: number;
  VATAmountFC?: number;
  AmountFC?: number;
  SalesInvoiceLines?: ExactInvoiceLine[] | { results?: ExactInvoiceLine[] };
}

export interface ExactAccount {
  ID: string;
  Name: string;
}

export interface ExactError {
  error?: { code?: string; message?: { lang?: string; value?: string } };
}

export const DRAFT = 10;
export const SALES_INVOICE = 8020;
export const SALES_CREDIT_NOTE = 8021;
