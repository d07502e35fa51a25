import type { ConnectorContext, CheckResult, WriteContext, WriteOutcome } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import type { InvoiceDraft } from '../../src/domain/invoice';
import type { XeroConfig } from './config.schema';
import { destinationServicesOf } from '../../src/destinations/services';
import { XERO_STATUS_MAP } from './status-map';
import { pushDrafts } from './push';
import { pollXeroStatuses } from './status';
import { XeroCallError, XeroSession } from './xero-session';

/** The Xero destination's work; loaded by index.ts on first use (it brings in the Xero SDK). */

export async function checkXero(config: XeroConfig, ctx: ConnectorContext): Promise<CheckResult> {
  const session = await XeroSession.open(config, {
    log: ctx.log,
    ledger: ctx.services?.ledger,
    redisUrl: ctx.services?.redisUrl,
    signal: ctx.signal,
  });
  try {
    const body = await session.call('get organisation', (api) => api.getOrganisations(config.tenantId), { idempotent: true });
    const org = body.organisations?.[0];
    return { ok: true, message: `Connected to Xero organisation "${org?.name ?? config.tenantId}" (${config.tenantId}).` };
  } catch (e) {
    if (e instanceof ConnectorError) return { ok: false, category: e.category, message: e.message };
    if (e instanceof XeroCallError) return { ok: false, category: e.uncertain ? 'transient' : 'config', message: e.message };
    throw e;
  } finally {
    await session.close();
  }
}

export async function writeXero(config: XeroConfig, drafts: InvoiceDraft[], ctx: WriteContext): Promise<WriteOutcome[]> {
  const ledger = ctx.services?.ledger;
  const session = await XeroSession.open(config, { log: ctx.log, ledger, redisUrl: ctx.services?.redisUrl, signal: ctx.signal });
  try {
    return await pushDrafts(config, drafts, ctx.previous, {
      session,
      intents: destinationServicesOf(ctx, { kind: 'xero', statusMap: XERO_STATUS_MAP }, config.id).intents,
      log: ctx.log,
    });
  } finally {
    await session.close();
  }
}

export async function pollXero(config: XeroConfig, ctx: ConnectorContext) {
  const ledger = ctx.services?.ledger;
  if (!ledger) throw new ConnectorError('config', 'polling Xero statuses needs the ledger', { connector: 'xero' });
  return pollXeroStatuses({ config, ledger, log: ctx.log, redisUrl: ctx.services?.redisUrl, signal: ctx.signal });
}
