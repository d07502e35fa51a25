import type {
  CheckResult,
  ConnectOptions,
  ConnectorContext,
  DestinationConnector,
  WriteContext,
  WriteOutcome,
} from '../../src/connectors/contract';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { ExactOnlineConfigSchema, type ExactOnlineConfig, exactOnlineSecretFields } from './config.schema';

/**
 * Exact Online destination: draft sales invoices (status 10) in one division, negative
 * corrections as draft sales credit notes. See push.ts (writes, look-up by YourRef),
 * exact-session.ts (limits, headers), status.ts and connect.ts (`hourbridge connect exactonline`).
 */
const impl = () => import('./destination');

export const exactOnlineDestination: DestinationConnector<ExactOnlineConfig> = {
  kind: 'exactonline',
  role: 'destination',
  configSchema: ExactOnlineConfigSchema as unknown as DestinationConnector<ExactOnlineConfig>['configSchema'],
  secretFields: exactOnlineSecretFields,

  capabilities: {
    realDrafts: true,
    updateInPlace: true,
    deleteEmptied: true,
    creditNotes: true,
    statusReadBack: ['poll'],
    tax: 'computed',
    unitPriceDecimals: [2, 4],
    batchSize: 1,
    rateLimit: { requests: 60, windowMs: 60_000, perDay: 5000, per: 'division' },
    idempotency: 'reference-lookup',
  },

  async check(config: ExactOnlineConfig, ctx: ConnectorContext): Promise<CheckResult> {
    return (await impl()).checkExact(config, ctx);
  },

  async write(config: ExactOnlineConfig, drafts: InvoiceDraft[], ctx: WriteContext): Promise<WriteOutcome[]> {
    if (drafts.length === 0) return [];
    return (await impl()).writeExact(config, drafts, ctx);
  },

  async pollStatuses(config: ExactOnlineConfig, ctx: ConnectorContext) {
    return (await impl()).pollExact(config, ctx);
  },

  async connect(config: ExactOnlineConfig, options: ConnectOptions) {
    return (await import('./connect')).connectExact(config, options);
  },
};

export default exactOnlineDestination;
export { ExactOnlineConfigSchema, type ExactOnlineConfig } from './config.schema';
