/**
 * QuickBooks Online Accounting API v3 payload shapes Hourbridge reads and writes (JSON), from
 * the entity reference pages:
 * https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/estimate
 * https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/creditmemo
 * https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/customer
 */

export interface QboRef {
  value: string;
  name?: string;
}

export interface QboLine {
  Id?: string;
  LineNum?: number;
  Description?: string;
  Amount: number;
  DetailType: 'SalesItemLineDetail' | 'SubTotalLineDetail' | string;
  SalesItemLineDetail?: {
    ItemRef: QboRef;
    Qty?: number;
    UnitPrice?: number;
    TaxCodeRef?: QboRef;
  };
}

export interface QboTxn {
  Id?: string;
  SyncToken?: string;
  DocNumber?: string;
  TxnDate?: string;
  ExpirationDate?: string;
  CustomerRef?: QboRef;
  CurrencyRef?: QboRef;
  PrivateNote?: string;
  GlobalTaxCalculation?: 'TaxExcluded' | 'TaxInclusive' | 'NotApplicable';
  /** Estimate: Pending, Accepted, Closed, Rejected. */
  TxnStatus?: string;
  /** NotSet, NeedToSend, EmailSent. */
  EmailStatus?: string;
  Line?: QboLine[];
  TxnTaxDetail?: { TotalTax?: number };
  TotalAmt?: number;
  /** CreditMemo: the credit not yet applied (RemainingCredit in older minor versions). */
  Balance?: number;
  LinkedTxn?: { TxnId: string; TxnType: string }[];
  MetaData?: { CreateTime?: string; LastUpdatedTime?: string };
}

export interface QboCustomer {
  Id: string;
  DisplayName: string;
  SyncToken?: string;
}

/** Every error answer: {"Fault": {"Error": [...], "type": "ValidationFault"}, "time": "..."}. */
export interface QboFault {
  Fault?: { Error?: { Message?: string; Detail?: string; code?: string; element?: string }[]; type?: string };
  fault?: { error?: { message?: string; detail?: string; code?: string }[]; type?: string };
}

export type QueryResponse<K extends string, T> = {
  QueryResponse: Partial<Record<K, T[]>> & { startPosition?: number; maxResults?: number };
  time?: string;
};
