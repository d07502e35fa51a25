import type {
  CheckResult,
  ConnectOptions,
  ConnectorContext,
  DestinationConnector,
  WriteContext,
  WriteOutcome,
} from '../../src/connectors/contract';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { QuickBooksConfigSchema, type QuickBooksConfig, quickBooksSecretFields } from './config.schema';

/**
 * QuickBooks Online destination: each draft invoice is an Estimate for finance to convert into
 * an invoice (QuickBooks has no draft invoice), each negative correction a CreditMemo. See
 * push.ts (writes), qbo-session.ts (limits, requestid), status.ts (status back), webhook.ts
 * (intuit-signature) and connect.ts (`hourbridge connect quickbooks`).
 */
const impl = () => import('./destination');

export const quickBooksDestination: DestinationConnector<QuickBooksConfig> = {
  kind: 'quickbooks',
  role: 'destination',
  configSchema: QuickBooksConfigSchema as unknown as DestinationConnector<QuickBooksConfig>['configSchema'],
  secretFields: quickBooksSecretFields,

  capabilities: {
    // Estimates (Pending) are the drafts finance converts into invoices in QuickBooks (README).
    realDrafts: true,
    updateInPlace: true,
    deleteEmptied: true,
    creditNotes: true,
    statusReadBack: ['poll'],
    tax: 'computed',
    unitPriceDecimals: [2, 4],
    batchSize: 1,
    rateLimit: { requests: 500, windowMs: 60_000, concurrent: 10, per: 'realm' },
    idempotency: 'idempotency-key',
  },

  async check(config: QuickBooksConfig, ctx: ConnectorContext): Promise<CheckResult> {
    return (await impl()).checkQuickBooks(config, ctx);
  },

  async write(config: QuickBooksConfig, drafts: InvoiceDraft[], ctx: WriteContext): Promise<WriteOutcome[]> {
    if (drafts.length === 0) return [];
    return (await impl()).writeQuickBooks(config, drafts, ctx);
  },

  async pollStatuses(config: QuickBooksConfig, ctx: ConnectorContext) {
    return (await impl()).pollQuickBooks(config, ctx);
  },

  async connect(config: QuickBooksConfig, options: ConnectOptions) {
    return (await import('./connect')).connectQuickBooks(config, options);
  },
};

export default quickBooksDestination;
export { QuickBooksConfigSchema, type QuickBooksConfig } from './config.schema';
