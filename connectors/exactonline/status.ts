import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Ledger } from '../../src/ledger/db';
import { applyRemoteStatus, type RemoteStatus } from '../../src/ledger/invoices.repository';
import type { ExactOnlineConfig } from './config.schema';
import { ExactSession, type ExactSessionOptions } from './exact-session';
import { DRAFT } from './types';

/**
 * Status back by polling: a sales invoice still in status 10 is a draft; once finance
 * processes it (20 open, 50 processed) it is approved; one deleted in Exact is deleted.
 * https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=SalesInvoiceSalesInvoices
 */
export function toRemoteStatus(status: number | undefined): RemoteStatus {
  if (status === undefined) return 'deleted';
  return status === DRAFT ? 'draft' : 'approved';
}

export async function pollExactStatuses(
  config: ExactOnlineConfig,
  ledger: Ledger,
  options: Omit<ExactSessionOptions, 'ledger'> & { log?: Logger } = {},
): Promise<{ checked: number; changed: number }> {
  const rows = await ledger.rows<{ remoteId: string; remoteStatus: string | null }>(sql`
    SELECT remote_id AS "remoteId", remote_status AS "remoteStatus" FROM invoices
    WHERE destination_id = ${config.id} AND remote_id IS NOT NULL AND live AND status NOT IN ('paid', 'voided', 'deleted')`);
  if (rows.length === 0) return { checked: 0, changed: 0 };
  const session = new ExactSession(config, { ...options, ledger });
  const found = await session.invoicesById(rows.map((r) => r.remoteId));
  let changed = 0;
  for (const row of rows) {
    const inv = found.get(row.remoteId);
    const remoteStatus = inv ? String(inv.Status) : 'Deleted';
    if (remoteStatus === row.remoteStatus) continue;
    if (await applyRemoteStatus(ledger, { destinationId: config.id, remoteId: row.remoteId }, toRemoteStatus(inv?.Status), remoteStatus))
      changed++;
  }
  options.log?.info({ destination: config.id, checked: rows.length, changed }, 'exact online status poll');
  return { checked: rows.length, changed };
}
