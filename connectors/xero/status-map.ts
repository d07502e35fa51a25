import type { StatusMap } from '../../src/destinations/statuses';

/** Xero invoice and credit-note status → ledger status. SUBMITTED is "awaiting approval": not yet billed. */
export const XERO_STATUS_MAP: StatusMap = {
  DRAFT: 'draft',
  SUBMITTED: 'draft',
  AUTHORISED: 'approved',
  PAID: 'paid',
  VOIDED: 'voided',
  DELETED: 'deleted',
};
