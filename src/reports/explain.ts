import { sql } from 'drizzle-orm';
import type { RatedLine } from '../domain/rated-line';
import type { TimeEntry } from '../domain/time-entry';
import type { Ledger } from '../ledger/db';
import { findEntry } from '../ledger/entries.repository';
import { formatExplain, invoicedSentence, type Placement } from '../rates/index';

/** What `hourbridge explain` says of one entry: its state, its priced pieces with their traces, where each is billed. */
export interface EntryExplanation {
  entry: TimeEntry;
  status: string;
  statusReason: string | null;
  /** One sentence: invoiced or not, and why not. */
  invoiced: string;
  revision: number;
  explain: RatedLine[];
  placements: Placement[];
  /** The whole explanation as `hourbridge explain` prints it, in the client's time zone. */
  text: string;
}

/**
 * Why an entry costs what it costs, read from the ledger: the CLI's `explain` and the invoice
 * page's expandable lines both call this, so they never tell two stories.
 */
export async function explainEntry(
  ledger: Ledger,
  sourceId: string,
  externalId: string,
  zoneOf: (clientId: string | undefined) => string | undefined = () => undefined,
): Promise<EntryExplanation | undefined> {
  const stored = await findEntry(ledger, sourceId, externalId);
  if (!stored) return undefined;
  const lines = (
    await ledger.rows<{ data: RatedLine }>(sql`SELECT data FROM rated_lines WHERE entry_id = ${stored.id} ORDER BY piece`)
  ).map((r) => r.data);
  const placed = await ledger.rows<{ key: string; description: string; amount: string; unitPrice: string; entryIds: string[] }>(sql`
      SELECT i.key, l.value->>'description' AS description, l.value->>'amount' AS amount, l.value->>'unitPrice' AS "unitPrice",
        ARRAY(SELECT jsonb_array_elements_text(l.value->'entryIds')) AS "entryIds"
      FROM invoice_entries ie JOIN invoices i ON i.id = ie.invoice_id, jsonb_array_elements(i.draft->'lines') l
      WHERE ie.entry_id = ${stored.id} AND ie.live`);
  const key = `${sourceId}:${externalId}`;
  const placements = lines.flatMap((l) => {
    const p = placed.find((x) => x.entryIds.includes(key) && x.unitPrice === l.unitPrice && !x.description.startsWith('Correction'));
    return p ? [{ piece: l.piece, invoiceKey: p.key, lineDescription: p.description, lineAmount: p.amount }] : [];
  });
  const state = { status: stored.status, reason: stored.statusReason };
  return {
    entry: stored.entry,
    status: stored.status,
    statusReason: stored.statusReason,
    invoiced: invoicedSentence(stored.entry, state),
    revision: stored.revision,
    explain: lines,
    placements,
    text: formatExplain(stored.entry, lines, placements, zoneOf(stored.entry.clientId), state),
  };
}
