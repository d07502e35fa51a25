import type { ConnectorContext, Problem, RawRecord, SourceConnector, SourcePage } from '../connectors/contract';
import type { TimeEntry } from '../domain/time-entry';
import type { Ledger } from '../ledger/db';
import { markDeleted, upsertEntries } from '../ledger/entries.repository';
import {
  commitCursor,
  getCursors,
  quarantineRecords,
  resolveQuarantine,
  resolveQuarantineNotSeen,
  type QuarantineRecord,
} from '../ledger/sync.repository';
import type { SourceConfig } from '../config/schema';
import type { ClientResolver } from './clients';
import { openSinceForSource } from '../ledger/invoices.repository';

export interface PullSummary {
  sourceId: string;
  /** Records the source returned. read = accepted + unchanged + skipped + quarantined. */
  read: number;
  /** New or changed entries written to the ledger. */
  accepted: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Records that are deliberately not entries (running timers, blank rows). */
  skipped: number;
  quarantined: number;
  /** Entries found deleted at source. */
  deleted: number;
}

export interface NormalisedPage {
  entries: TimeEntry[];
  quarantine: QuarantineRecord[];
  acceptedRefs: string[];
  skipped: number;
}

/** Where a rejected record is, stably: its id when it has one, else its row. */
function refOf(record: RawRecord, externalId?: string): string {
  if (externalId) return externalId;
  if (record.ref.id) return record.ref.id;
  return `${record.ref.sheet ? `${record.ref.sheet}!` : ''}row:${record.ref.row ?? '?'}`;
}

/**
 * The normalise stage for one page: raw records → canonical entries (client resolved) or
 * quarantine records. Pure apart from the connector's mapper; one bad record never stops the page.
 */
export function normalisePage(
  page: SourcePage,
  source: SourceConfig,
  connector: SourceConnector<SourceConfig>,
  clients: ClientResolver,
  ctx: ConnectorContext,
): NormalisedPage {
  const out: NormalisedPage = { entries: [], quarantine: [], acceptedRefs: [], skipped: 0 };
  const reject = (record: RawRecord, problems: Problem[], externalId?: string) => {
    const first = problems[0];
    out.quarantine.push({
      sourceId: source.id,
      recordRef: refOf(record, externalId),
      file: record.ref.file,
      row: record.ref.row,
      field: first?.field,
      column: first?.column,
      reason: problems.map((p) => (p.column && p.column !== p.field ? `${p.column}: ${p.reason}` : p.field ? `${p.field}: ${p.reason}` : p.reason)).join('; '),
      raw: record.data,
    });
  };
  for (const record of page.records) {
    let result;
    try {
      result = connector.map(record, source, ctx);
    } catch (err) {
      reject(record, [{ reason: `could not be read: ${(err as Error).message}` }]);
      continue;
    }
    if (result.kind === 'skip') {
      out.skipped++;
      continue;
    }
    if (result.kind === 'invalid') {
      reject(record, result.problems, result.externalId);
      continue;
    }
    const entry = result.entry;
    const client = clients.resolve(entry.client);
    if (!client) {
      reject(record, [{ field: 'client', value: entry.client, reason: `client "${entry.client}" is not configured (add it to clients[].match)` }], entry.externalId);
      continue;
    }
    entry.clientId = client.id;
    out.entries.push(entry);
    out.acceptedRefs.push(entry.externalId);
  }
  return out;
}

/**
 * Pull one source into the ledger: read pages, normalise, upsert, quarantine, then commit the
 * page's cursor — in that order, so a cursor never moves past a record that is not in the
 * ledger (invariant 4). Every record read ends up counted exactly once (invariant 1).
 */
export async function pullSource(args: {
  ledger: Ledger;
  source: SourceConfig;
  connector: SourceConnector<SourceConfig>;
  clients: ClientResolver;
  ctx: ConnectorContext;
  runId: string;
  onPage?: (summary: PullSummary) => void;
}): Promise<PullSummary> {
  const { ledger, source, connector, clients, ctx, runId } = args;
  const summary: PullSummary = {
    sourceId: source.id,
    read: 0,
    accepted: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    skipped: 0,
    quarantined: 0,
    deleted: 0,
  };
  const cursors = await getCursors(ledger, source.id);
  const openSince = await openSinceForSource(ledger, source.id);
  const pages = connector.read(source, { cursors, ...(openSince ? { openSince } : {}) }, ctx);
  for await (const page of pages) {
    const normalised = normalisePage(page, source, connector, clients, ctx);
    const counts = await upsertEntries(ledger, normalised.entries, runId);
    await quarantineRecords(ledger, normalised.quarantine, runId);
    await resolveQuarantine(ledger, source.id, normalised.acceptedRefs);
    if (page.deletedExternalIds?.length) {
      summary.deleted += await markDeleted(ledger, source.id, runId, null, page.deletedExternalIds);
    }
    if (page.reconcile) {
      summary.deleted += await markDeleted(ledger, source.id, runId, page.reconcile);
      if (page.reconcile.from === null && page.reconcile.to === null) await resolveQuarantineNotSeen(ledger, source.id, runId);
    }
    if (page.cursor) await commitCursor(ledger, source.id, page.stream, page.cursor);
    summary.read += page.records.length;
    summary.inserted += counts.inserted;
    summary.updated += counts.updated;
    summary.accepted += counts.inserted + counts.updated;
    summary.unchanged += counts.unchanged;
    summary.skipped += normalised.skipped;
    summary.quarantined += normalised.quarantine.length;
    args.onPage?.(summary);
  }
  return summary;
}
