import type { CheckResult, ConnectorContext, WriteContext, WriteOutcome } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { ApiCallError } from '../../src/destinations/api-client';
import type { InvoiceDraft } from '../../src/domain/invoice';
import type { ExactOnlineConfig } from './config.schema';
import { ExactSession, exactMessage } from './exact-session';
import { pushDrafts } from './push';
import { pollExactStatuses } from './status';

/** The Exact Online destination's work; loaded by index.ts on first use. */

export async function checkExact(config: ExactOnlineConfig, ctx: ConnectorContext): Promise<CheckResult> {
  try {
    const session = new ExactSession(config, {
      ledger: ctx.services?.ledger,
      redisUrl: ctx.services?.redisUrl,
      log: ctx.log,
      signal: ctx.signal,
    });
    const me = await session.me();
    await session.invoicesByYourRef(['hb-check']);
    const budget = session.budget.dailyRemaining !== undefined ? `; ${session.budget.dailyRemaining} calls left today` : '';
    return { ok: true, message: `Connected to Exact Online division ${config.division} as ${me.FullName ?? 'the stored user'}${budget}.` };
  } catch (e) {
    if (e instanceof ConnectorError) return { ok: false, category: e.category, message: e.message };
    if (e instanceof ApiCallError) return { ok: false, category: e.uncertain ? 'transient' : 'config', message: exactMessage(e) };
    throw e;
  }
}

export async function writeExact(config: ExactOnlineConfig, drafts: InvoiceDraft[], ctx: WriteContext): Promise<WriteOutcome[]> {
  const session = new ExactSession(config, {
    ledger: ctx.services?.ledger,
    redisUrl: ctx.services?.redisUrl,
    log: ctx.log,
    signal: ctx.signal,
  });
  return pushDrafts(config, drafts, ctx.previous, { session, log: ctx.log });
}

export async function pollExact(config: ExactOnlineConfig, ctx: ConnectorContext) {
  const ledger = ctx.services?.ledger;
  if (!ledger) throw new ConnectorError('config', 'polling Exact Online statuses needs the ledger', { connector: 'exactonline' });
  return pollExactStatuses(config, ledger, { redisUrl: ctx.services?.redisUrl, log: ctx.log, signal: ctx.signal });
}
