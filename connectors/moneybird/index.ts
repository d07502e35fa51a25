import { timingSafeEqual } from 'node:crypto';
import type {
  CheckResult,
  ConnectorContext,
  DestinationConnector,
  DestinationWebhook,
  WebhookEvent,
  WriteContext,
  WriteOutcome,
} from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { destinationServicesOf } from '../../src/destinations/services';
import type { StatusMap } from '../../src/destinations/statuses';
import { checkWith } from '../../src/http/client';
import { moneybirdApi, moneybirdBudget } from './client';
import { MoneybirdConfigSchema, moneybirdSecretFields, type MoneybirdConfig } from './config.schema';
import { pushDrafts } from './push';
import type { MoneybirdWebhookPayload } from './types';

/**
 * Moneybird destination (API v2, one administration): draft sales invoices with details mapped
 * to tax rate and ledger account ids, contacts found by customer_id or created, look-up by
 * reference instead of an idempotency key (push.ts), statuses through the synchronization
 * endpoint (poll) and webhooks. See README.md.
 */

/**
 * Sales invoice `state` → ledger status (https://developer.moneybird.com/api/sales_invoices/,
 * `state` enum). Anything past `draft` was sent or scheduled by finance: approved. A deleted
 * invoice has no state (it is gone: 404), which the poll reports as `deleted`.
 */
export const MONEYBIRD_STATUS_MAP: StatusMap = {
  draft: 'draft',
  scheduled: 'approved',
  open: 'approved',
  pending_payment: 'approved',
  reminded: 'approved',
  late: 'approved',
  uncollectible: 'approved',
  paid: 'paid',
  deleted: 'deleted',
};

function equalSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function payloadOf(raw: Buffer): MoneybirdWebhookPayload | undefined {
  try {
    const p = JSON.parse(raw.toString('utf8')) as unknown;
    return p && typeof p === 'object' ? (p as MoneybirdWebhookPayload) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Moneybird webhooks (https://developer.moneybird.com/webhooks): each delivery carries the
 * webhook's secret in `webhook_token` (https://developer.moneybird.com/changelog/2019-08-08),
 * compared in constant time with `webhookToken`. A SalesInvoice event names the invoice, whose
 * state is then read through the synchronization endpoint (the body is never trusted for it).
 */
const webhook: DestinationWebhook<MoneybirdConfig> = {
  keyHint: 'the destination\'s "webhookToken"',
  verify(request, config) {
    if (!config.webhookToken) return 'no-key';
    const token = payloadOf(request.rawBody)?.webhook_token;
    return typeof token === 'string' && equalSecret(token, config.webhookToken) ? 'ok' : 'invalid';
  },
  parse(request): WebhookEvent[] {
    const p = payloadOf(request.rawBody);
    if (p?.entity_type !== 'SalesInvoice' || typeof p.entity_id !== 'string') return [];
    return [{ remoteId: p.entity_id, eventId: `${p.entity_id}.${p.action ?? ''}.${p.entity?.version ?? ''}` }];
  },
};

export const moneybirdDestination: DestinationConnector<MoneybirdConfig> = {
  kind: 'moneybird',
  role: 'destination',
  configSchema: MoneybirdConfigSchema,
  secretFields: moneybirdSecretFields,
  capabilities: {
    realDrafts: true,
    updateInPlace: true,
    deleteEmptied: true,
    creditNotes: true,
    statusReadBack: ['poll', 'webhook'],
    tax: 'computed',
    unitPriceDecimals: [2, 4],
    batchSize: 1,
    rateLimit: { requests: 150, windowMs: 300_000, per: 'API token' },
    idempotency: 'reference-lookup',
  },
  statusMap: MONEYBIRD_STATUS_MAP,
  webhook,

  async check(config: MoneybirdConfig, ctx: ConnectorContext): Promise<CheckResult> {
    const services = destinationServicesOf(ctx, moneybirdDestination, config.id);
    const api = moneybirdApi(config, ctx, moneybirdBudget(config, services));
    const result = await checkWith('moneybird', [config.token, config.webhookToken], async () => {
      const adm = (await api.administrations()).find((a) => String(a.id) === config.administrationId);
      if (!adm) {
        throw new ConnectorError(
          'config',
          `moneybird: the token cannot see administration ${config.administrationId}; check administrationId`,
          {
            connector: 'moneybird',
          },
        );
      }
      // The ids the config maps lines to must exist, or every invoice would be refused.
      const [rates, accounts] = await Promise.all([api.taxRates(), api.ledgerAccounts()]);
      const rateIds = new Set(rates.map((r) => String(r.id)));
      const accountIds = new Set(accounts.map((a) => String(a.id)));
      const missing = [
        ...[
          ['defaults.taxRateId', config.defaults.taxRateId],
          ...Object.entries(config.taxRates).map(([t, id]) => [`taxRates.${t}`, id] as const),
          ...Object.entries(config.clients).flatMap(([c, s]) => (s.taxRateId ? [[`clients.${c}.taxRateId`, s.taxRateId] as const] : [])),
        ]
          .filter(([, id]) => !rateIds.has(id))
          .map(([where, id]) => `${where} ${id} is not a tax rate of the administration`),
        ...[
          ['defaults.ledgerAccountId', config.defaults.ledgerAccountId],
          ...Object.entries(config.clients).flatMap(([c, s]) =>
            s.ledgerAccountId ? [[`clients.${c}.ledgerAccountId`, s.ledgerAccountId] as const] : [],
          ),
        ]
          .filter(([, id]) => !accountIds.has(id))
          .map(([where, id]) => `${where} ${id} is not a ledger account of the administration`),
      ];
      if (missing.length > 0) throw new ConnectorError('config', `moneybird: ${missing.join('; ')}`, { connector: 'moneybird' });
      return `administration "${adm.name}" (${config.administrationId}) is reachable with the token; its tax rates and ledger accounts are there.`;
    });
    return result;
  },

  async write(config: MoneybirdConfig, drafts: InvoiceDraft[], ctx: WriteContext): Promise<WriteOutcome[]> {
    const services = destinationServicesOf(ctx, moneybirdDestination, config.id);
    return pushDrafts(config, drafts, ctx.previous, {
      api: moneybirdApi(config, ctx, moneybirdBudget(config, services)),
      intents: services.intents,
      log: ctx.log,
    });
  },

  async pollStatuses(config: MoneybirdConfig, ctx: ConnectorContext) {
    const services = destinationServicesOf(ctx, moneybirdDestination, config.id);
    const statuses = services.statuses;
    if (!statuses) throw new ConnectorError('config', 'moneybird: reading statuses back needs the ledger', { connector: 'moneybird' });
    const open = await statuses.open();
    if (open.length === 0) return { checked: 0, changed: 0 };
    const api = moneybirdApi(config, ctx, moneybirdBudget(config, services));
    const known = new Map(open.map((r) => [r.remoteId, r.remoteStatus]));
    const found = await api.invoicesByIds(open.map((r) => r.remoteId));
    let changed = 0;
    const seen = new Set<string>();
    for (const inv of found) {
      seen.add(inv.id);
      if (known.has(inv.id) && known.get(inv.id) !== inv.state && (await statuses.apply(inv.id, inv.state))) changed++;
    }
    // Not in the answer: deleted in Moneybird — but only once a look-up of its own says 404.
    for (const r of open) {
      if (seen.has(r.remoteId) || r.remoteStatus === 'deleted') continue;
      if (!(await api.getInvoice(r.remoteId)) && (await statuses.apply(r.remoteId, 'deleted'))) changed++;
    }
    ctx.log.info({ destination: config.id, checked: open.length, changed }, 'moneybird status poll');
    return { checked: open.length, changed };
  },
};

export default moneybirdDestination;
export { MoneybirdConfigSchema, type MoneybirdConfig } from './config.schema';
