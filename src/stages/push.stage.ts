import type { ConnectorContext, DestinationConnector, PreviousWrite } from '../connectors/contract';
import { isConnectorError } from '../connectors/errors';
import type { DestinationConfig } from '../config/schema';
import type { InvoiceDraft } from '../domain/invoice';
import { dec } from '../domain/money';
import { taxComparison } from '../domain/tax';
import type { Ledger } from '../ledger/db';
import { applyRemoteStatus, pendingPushes, previousWrites, recordFailed, recordWritten } from '../ledger/invoices.repository';
import { recordEvent } from '../ledger/sync.repository';
import { withDestinationServices } from '../destinations/services';

export interface PushSummary {
  written: number;
  failed: number;
  locked: number;
  /** Human notes for the run summary: total mismatches, failures with their reason. */
  alerts: string[];
}

/**
 * The push stage: every invoice whose assembled content the destination does not have yet is
 * written, idempotently by its key. Outcomes are recorded per invoice, so one rejected invoice
 * never holds back the others; a total that differs from the ledger's is an alert, never silent.
 */
export async function pushPending(args: {
  ledger: Ledger;
  destinations: DestinationConfig[];
  connectors: Map<string, DestinationConnector<DestinationConfig>>;
  ctx: ConnectorContext;
  runId: string;
  onlyKeys?: Set<string>;
}): Promise<PushSummary> {
  const { ledger, ctx, runId } = args;
  const summary: PushSummary = { written: 0, failed: 0, locked: 0, alerts: [] };
  const pending = (await pendingPushes(ledger)).filter((p) => !args.onlyKeys || args.onlyKeys.has(p.key));
  const byDestination = new Map<string, typeof pending>();
  for (const p of pending) {
    const list = byDestination.get(p.destinationId) ?? [];
    list.push(p);
    byDestination.set(p.destinationId, list);
  }
  for (const [destinationId, rows] of byDestination) {
    const config = args.destinations.find((d) => d.id === destinationId);
    const connector = config ? args.connectors.get(config.kind) : undefined;
    if (!config || !connector) {
      for (const r of rows) await recordFailed(ledger, r.id, `destination "${destinationId}" is not configured`);
      summary.failed += rows.length;
      summary.alerts.push(`${rows.length} invoice(s) for unknown destination "${destinationId}"`);
      continue;
    }
    const previousById = await previousWrites(
      ledger,
      rows.map((r) => r.id),
    );
    const previous = new Map<string, PreviousWrite>(rows.map((r) => [r.key, previousById.get(r.id) ?? {}]));
    const drafts: InvoiceDraft[] = rows.map((r) => r.draft);
    let outcomes: Awaited<ReturnType<typeof connector.write>>;
    try {
      outcomes = await connector.write(config, drafts, withDestinationServices({ ...ctx, previous }, connector, config.id));
    } catch (err) {
      const message = isConnectorError(err) ? `${err.category}: ${err.message}` : (err as Error).message;
      for (const r of rows) await recordFailed(ledger, r.id, message);
      summary.failed += rows.length;
      summary.alerts.push(`destination ${destinationId}: ${message}`);
      await recordEvent(ledger, runId, 'push.failed', destinationId, { message, keys: rows.map((r) => r.key) });
      continue;
    }
    const byKey = new Map(rows.map((r) => [r.key, r]));
    for (const outcome of outcomes) {
      const row = byKey.get(outcome.key);
      if (!row) continue;
      byKey.delete(outcome.key);
      if (outcome.status === 'written') {
        await recordWritten(ledger, row.id, {
          contentHash: row.contentHash,
          remoteId: outcome.remoteId,
          remoteStatus: outcome.remoteStatus,
          remoteTotal: outcome.remoteTotal,
          remoteTax: outcome.remoteTax,
          remoteGross: outcome.remoteGross,
          remoteType: outcome.remoteType,
          remoteLineIds: outcome.remoteLineIds,
          emptied: row.draft.lines.length === 0,
        });
        summary.written++;
        // Like with like: remoteTotal is the destination's figure for the sum of line amounts
        // (net of the tax it adds), never its tax-inclusive total.
        if (outcome.remoteTotal !== undefined && row.draft.lines.length > 0 && !dec(outcome.remoteTotal).eq(row.draft.total)) {
          const taxNote = outcome.remoteTax !== undefined ? ` (tax ${outcome.remoteTax}, gross ${outcome.remoteGross ?? '?'})` : '';
          summary.alerts.push(
            `${row.key}: destination total ${outcome.remoteTotal}${taxNote} differs from the ledger's ${row.draft.total}`,
          );
        }
        for (const w of outcome.warnings ?? []) summary.alerts.push(`${row.key}: ${w}`);
        // A package that computes tax itself is compared with the EN 16931 model (src/domain/tax.ts).
        const taxDiff = outcome.remoteTax !== undefined ? taxComparison(row.draft, outcome.remoteTax) : undefined;
        if (taxDiff) summary.alerts.push(`${row.key}: ${taxDiff}`);
      } else if (outcome.status === 'failed') {
        await recordFailed(ledger, row.id, `${outcome.category}: ${outcome.message}`);
        summary.failed++;
        summary.alerts.push(`${row.key} failed: ${outcome.message}`);
      } else {
        await applyRemoteStatus(ledger, { key: row.key }, /paid/i.test(outcome.remoteStatus) ? 'paid' : 'approved', outcome.remoteStatus);
        summary.locked++;
        summary.alerts.push(`${row.key} is ${outcome.remoteStatus} at the destination; changes go to a correction`);
      }
    }
    // A connector that forgot an invoice must not make it look written.
    for (const row of byKey.values()) {
      await recordFailed(ledger, row.id, 'the destination returned no outcome for this invoice');
      summary.failed++;
    }
  }
  return summary;
}

/**
 * The status stage (polling fallback): every destination that can report what the accounting
 * system did with its drafts does so now, before assembly, so approved invoices are locked and
 * deleted ones released before anything is rebuilt.
 */
export async function pollStatuses(args: {
  destinations: DestinationConfig[];
  connectors: Map<string, DestinationConnector<DestinationConfig>>;
  ctx: ConnectorContext;
}): Promise<{ checked: number; changed: number; alerts: string[] }> {
  const total = { checked: 0, changed: 0, alerts: [] as string[] };
  for (const config of args.destinations) {
    const connector = args.connectors.get(config.kind);
    if (!connector?.pollStatuses) continue;
    try {
      const r = await connector.pollStatuses(config, withDestinationServices(args.ctx, connector, config.id));
      total.checked += r.checked;
      total.changed += r.changed;
    } catch (err) {
      // Not fatal: without fresh statuses, drafts stay drafts and a later push reports `locked`.
      total.alerts.push(
        `destination ${config.id}: status check failed: ${isConnectorError(err) ? `${err.category}: ` : ''}${(err as Error).message}`,
      );
    }
  }
  return total;
}
