import type {
  CheckResult,
  ConnectOptions,
  ConnectorContext,
  DestinationConnector,
  WriteContext,
  WriteOutcome,
} from '../../src/connectors/contract';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { XeroConfigSchema, xeroSecretFields, type XeroConfig } from './config.schema';
import { XERO_STATUS_MAP } from './status-map';
import { xeroWebhook } from './webhook-verify';

/**
 * Xero destination: draft sales invoices that are never duplicated, never off by a cent and
 * never stuck on a token. See push.ts (writes), token-store.ts (auth), rate-budget.ts (limits),
 * status.ts / webhook.ts (status back) and connect.ts (`hourbridge connect xero`).
 *
 * The work lives in destination.ts and is imported on first use: the Xero SDK costs every
 * command that never talks to Xero (validate, report, a CSV-only sync) ~45 MB and over a second.
 */
const impl = () => import('./destination');

export const xeroDestination: DestinationConnector<XeroConfig> = {
  kind: 'xero',
  role: 'destination',
  configSchema: XeroConfigSchema as unknown as DestinationConnector<XeroConfig>['configSchema'],
  secretFields: xeroSecretFields,
  // developer.xero.com/documentation/api/accounting/invoices (drafts, LineAmountTypes, unitdp,
  // 50 per request), developer.xero.com/documentation/guides/oauth2/limits (limits),
  // developer.xero.com/documentation/guides/idempotent-requests (Idempotency-Key).
  capabilities: {
    realDrafts: true,
    updateInPlace: true,
    deleteEmptied: true,
    creditNotes: true,
    statusReadBack: ['poll', 'webhook'],
    tax: 'computed',
    unitPriceDecimals: [2, 4],
    batchSize: 50,
    rateLimit: { requests: 60, windowMs: 60_000, concurrent: 5, perDay: 5000, per: 'organisation' },
    idempotency: 'idempotency-key',
  },
  statusMap: XERO_STATUS_MAP,
  webhook: xeroWebhook,

  async check(config: XeroConfig, ctx: ConnectorContext): Promise<CheckResult> {
    return (await impl()).checkXero(config, ctx);
  },

  async write(config: XeroConfig, drafts: InvoiceDraft[], ctx: WriteContext): Promise<WriteOutcome[]> {
    if (drafts.length === 0) return [];
    return (await impl()).writeXero(config, drafts, ctx);
  },

  async pollStatuses(config: XeroConfig, ctx: ConnectorContext) {
    return (await impl()).pollXero(config, ctx);
  },

  async connect(config: XeroConfig, options: ConnectOptions) {
    return (await import('./connect')).connectXero(config, options);
  },
};

export default xeroDestination;
export { XeroConfigSchema, type XeroConfig } from './config.schema';
