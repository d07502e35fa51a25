import type { CheckResult, ConnectorContext, WriteContext, WriteOutcome } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { ApiCallError } from '../../src/destinations/api-client';
import type { InvoiceDraft } from '../../src/domain/invoice';
import type { QuickBooksConfig } from './config.schema';
import { pushDrafts } from './push';
import { QboSession, callMessage } from './qbo-session';
import { pollQuickBooksStatuses } from './status';

/** The QuickBooks destination's work; loaded by index.ts on first use. */

export async function checkQuickBooks(config: QuickBooksConfig, ctx: ConnectorContext): Promise<CheckResult> {
  try {
    const session = new QboSession(config, {
      ledger: ctx.services?.ledger,
      redisUrl: ctx.services?.redisUrl,
      log: ctx.log,
      signal: ctx.signal,
    });
    const name = await session.companyName();
    return { ok: true, message: `Connected to QuickBooks company "${name}" (realm ${config.realmId}).` };
  } catch (e) {
    if (e instanceof ConnectorError) return { ok: false, category: e.category, message: e.message };
    if (e instanceof ApiCallError) return { ok: false, category: e.uncertain ? 'transient' : 'config', message: callMessage(e) };
    throw e;
  }
}

export async function writeQuickBooks(config: QuickBooksConfig, drafts: InvoiceDraft[], ctx: WriteContext): Promise<WriteOutcome[]> {
  const session = new QboSession(config, {
    ledger: ctx.services?.ledger,
    redisUrl: ctx.services?.redisUrl,
    log: ctx.log,
    signal: ctx.signal,
  });
  return pushDrafts(config, drafts, ctx.previous, { session, log: ctx.log });
}

export async function pollQuickBooks(config: QuickBooksConfig, ctx: ConnectorContext) {
  const ledger = ctx.services?.ledger;
  if (!ledger) throw new ConnectorError('config', 'polling QuickBooks statuses needs the ledger', { connector: 'quickbooks' });
  return pollQuickBooksStatuses(config, ledger, { redisUrl: ctx.services?.redisUrl, log: ctx.log, signal: ctx.signal });
}
