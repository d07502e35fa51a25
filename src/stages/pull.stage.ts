import type { ConnectorContext, Problem, RawRecord, SourceConnector, SourcePage } from '../connectors/contract';
import type { TimeEntry } from '../domain/time-entry';
import type { Ledger } from '../ledger/db';
import { markDeleted, SeenKeys, upsertEntries } from '../ledger/entries.repository';
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
import { openPeriodsOf } from './periods';

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
  /** What the source said the run must know although the read went on (SourcePage.warnings). */
  warnings: string[];
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
      reason: problems
        .map((p) => (p.column && p.column !== p.field ? `${p.column}: ${p.reason}` : p.field ? `${p.field}: ${p.reason}` : p.reason))
        .join('; '),
      raw: record.data,
    });
  };
  for (const record of page.records) {
    let result: ReturnType<typeof connector.map>;
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
      reject(
        record,
        [{ field: 'client', value: entry.client, reason: `client "${entry.client}" is not configured (add it to clients[].match)` }],
        entry.externalId,
      );
      continue;
    }
    entry.clientId = client.id;
    out.entries.push(entry);
    out.acceptedRefs.push(entry.externalId);
  }
  return out;
}

/**
 * Entries written to the ledger in one go. Sources hand over small pages (the CSV reader's are
 * 250 rows: a page's records are all alive until it is mapped, and small pages let them die
 * young), while each ledger write costs a few round trips whatever its size; consecutive pages
 * are therefore written together, up to this many entries.
 */
export const LEDGER_BATCH_ENTRIES = 2000;

/**
 * Pull one source into the ledger: read pages, normalise, upsert, quarantine, then commit the
 * page's cursor — in that order, so a cursor never moves past a record that is not in the
 * ledger (invariant 4). Every record read ends up counted exactly once (invariant 1).
 *
 * Pages without a cursor, deletions or reconciliation are gathered and written together (see
 * LEDGER_BATCH_ENTRIES); a page that carries any of them closes its batch, so its deletions,
 * reconciliation and cursor still come after every entry read before them and before any
 * entry read after them.
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
    warnings: [],
  };
  const cursors = await getCursors(ledger, source.id);
  // A snapshot source reads everything every time: it has no window to widen (and the look-up
  // joins every live link of the ledger).
  const openSince = connector.mode === 'incremental' ? await openSinceForSource(ledger, source.id) : undefined;
  const openPeriods = openPeriodsOf([...clients.byId.values()], ctx.now);
  const pages = connector.read(source, { cursors, ...(openSince ? { openSince } : {}), openPeriods }, ctx);

  const emptyBatch = () => ({
    records: 0,
    entries: [] as TimeEntry[],
    quarantine: [] as QuarantineRecord[],
    acceptedRefs: [] as string[],
    skipped: 0,
  });
  let batch = emptyBatch();
  const seen = new SeenKeys();
  const write = async (last?: SourcePage) => {
    const b = batch;
    batch = emptyBatch();
    const counts = await upsertEntries(ledger, b.entries, seen);
    await quarantineRecords(ledger, b.quarantine, runId);
    await resolveQuarantine(ledger, source.id, b.acceptedRefs);
    if (last?.deletedExternalIds?.length) {
      summary.deleted += await markDeleted(ledger, source.id, seen, null, last.deletedExternalIds);
    }
    if (last?.reconcile) {
      summary.deleted += await markDeleted(ledger, source.id, seen, last.reconcile);
      if (last.reconcile.from === null && last.reconcile.to === null) await resolveQuarantineNotSeen(ledger, source.id, runId);
    }
    if (last?.cursor) await commitCursor(ledger, source.id, last.stream, last.cursor);
    summary.read += b.records;
    summary.inserted += counts.inserted;
    summary.updated += counts.updated;
    summary.accepted += counts.inserted + counts.updated;
    summary.unchanged += counts.unchanged;
    summary.skipped += b.skipped;
    summary.quarantined += b.quarantine.length;
    args.onPage?.(summary);
  };

  // One write may be in flight while the next pages are read and normalised (a server ledger
  // loads one batch while this process prepares the next). Writes still run one after another
  // in read order, so a cursor is committed only after every entry read before it; a failed
  // write stops the read at the next batch, and a failed read waits for the write in flight.
  let inFlight: Promise<void> = Promise.resolve();
  const startWrite = async (last?: SourcePage) => {
    await inFlight;
    inFlight = write(last);
    inFlight.catch(() => undefined); // observed by the next startWrite or below
  };
  try {
    for await (const page of pages) {
      for (const w of page.warnings ?? []) {
        ctx.log.warn({ source: source.id }, w);
        summary.warnings.push(w);
      }
      const normalised = normalisePage(page, source, connector, clients, ctx);
      batch.records += page.records.length;
      for (const e of normalised.entries) batch.entries.push(e);
      for (const q of normalised.quarantine) batch.quarantine.push(q);
      for (const r of normalised.acceptedRefs) batch.acceptedRefs.push(r);
      batch.skipped += normalised.skipped;
      if (page.cursor || page.reconcile || page.deletedExternalIds?.length) await startWrite(page);
      else if (batch.entries.length + batch.quarantine.length >= LEDGER_BATCH_ENTRIES) await startWrite();
    }
    if (batch.records > 0) await startWrite();
  } finally {
    await inFlight;
  }
  return summary;
}
