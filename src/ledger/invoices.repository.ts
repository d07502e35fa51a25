import { sql } from 'drizzle-orm';
import type { InvoiceDraft } from '../domain/invoice';
import type { BilledLine } from '../domain/rated-line';
import type { PreviousWrite } from '../connectors/contract';
import type { Ledger, Queryable } from './db';
import { jsonRows } from './json-rows';
import { markInvoiceClient } from './assembly-marks.repository';

export const OPEN_STATUSES = ['draft', 'pushed', 'failed'] as const;
export const LOCKED_STATUSES = ['approved', 'paid'] as const;

export interface InvoiceRow {
  id: number;
  key: string;
  clientId: string;
  destinationId: string;
  periodLabel: string;
  sequence: number;
  status: string;
  contentHash: string;
  pushedHash: string | null;
  remoteId: string | null;
  remoteStatus: string | null;
  draft: InvoiceDraft;
}

const INVOICE_COLUMNS = sql`id::int AS id, key, client_id AS "clientId", destination_id AS "destinationId",
  period_label AS "periodLabel", sequence, status, content_hash AS "contentHash", pushed_hash AS "pushedHash",
  remote_id AS "remoteId", remote_status AS "remoteStatus", draft`;

export async function findInvoice(q: Queryable, key: string): Promise<InvoiceRow | undefined> {
  const rows = await q.rows<InvoiceRow>(sql`SELECT ${INVOICE_COLUMNS} FROM invoices WHERE key = ${key}`);
  return rows[0];
}

/** Earliest work date of this source's entries on still-open drafts (the reconciliation window must reach back to it). */
export async function openSinceForSource(q: Queryable, sourceId: string): Promise<string | undefined> {
  const rows = await q.rows<{ d: string | null }>(sql`
    SELECT min(te.work_date)::text AS d FROM invoice_entries ie
    JOIN invoices i ON i.id = ie.invoice_id JOIN time_entries te ON te.id = ie.entry_id
    WHERE ie.live AND i.live AND i.status IN ('draft','pushed','failed') AND te.source_id = ${sourceId}`);
  return rows[0]?.d ?? undefined;
}

export interface LinkSnapshot {
  entryId: number;
  revision: number;
  lines: BilledLine[];
  credit: { invoiceKey: string; lines: BilledLine[] } | null;
}

/** Invoices whose assembled content the destination does not have yet. */
export async function pendingPushes(q: Queryable): Promise<InvoiceRow[]> {
  return q.rows<InvoiceRow>(sql`
    SELECT ${INVOICE_COLUMNS} FROM invoices
    WHERE live AND status IN ('draft','failed') AND content_hash IS DISTINCT FROM pushed_hash
    ORDER BY destination_id, key`);
}

export async function previousWrites(q: Queryable, invoiceIds: number[]): Promise<Map<number, PreviousWrite>> {
  if (invoiceIds.length === 0) return new Map();
  const rows = await q.rows<{
    id: number;
    remoteId: string | null;
    remoteStatus: string | null;
    remoteType: string | null;
    pushedHash: string | null;
    lineIds: Record<string, string> | null;
  }>(sql`
    SELECT i.id::int AS id, i.remote_id AS "remoteId", i.remote_status AS "remoteStatus", i.remote_type AS "remoteType", i.pushed_hash AS "pushedHash",
      (SELECT json_object_agg(l.line_key, l.remote_line_id) FROM invoice_lines l WHERE l.invoice_id = i.id AND l.remote_line_id IS NOT NULL) AS "lineIds"
    FROM invoices i WHERE i.id = ANY(${sql.param(invoiceIds)}::bigint[])`);
  return new Map(
    rows.map((r) => [
      r.id,
      {
        ...(r.remoteId ? { remoteId: r.remoteId } : {}),
        ...(r.remoteStatus ? { remoteStatus: r.remoteStatus } : {}),
        ...(r.remoteType === 'credit-note' || r.remoteType === 'invoice' ? { remoteType: r.remoteType } : {}),
        ...(r.pushedHash ? { pushedHash: r.pushedHash } : {}),
        ...(r.lineIds ? { remoteLineIds: r.lineIds } : {}),
      },
    ]),
  );
}

/** A confirmed write: the destination now holds exactly this content (snapshot kept for corrections). */
export async function recordWritten(
  ledger: Ledger,
  invoiceId: number,
  result: {
    contentHash: string;
    remoteId?: string | undefined;
    remoteStatus?: string | undefined;
    remoteTotal?: string | undefined;
    remoteTax?: string | undefined;
    remoteGross?: string | undefined;
    remoteType?: string | undefined;
    remoteLineIds?: Record<string, string> | undefined;
    emptied: boolean;
  },
): Promise<void> {
  await ledger.transaction(async (tx) => {
    await tx.rows(sql`
      UPDATE invoices SET
        status = CASE WHEN ${result.emptied} THEN 'deleted' ELSE 'pushed' END,
        live = NOT ${result.emptied},
        pushed_hash = ${result.contentHash}, last_error = NULL, updated_at = now(),
        remote_id = COALESCE(${result.remoteId ?? null}, remote_id),
        remote_status = COALESCE(${result.remoteStatus ?? null}, remote_status),
        remote_total = COALESCE(${result.remoteTotal ?? null}::numeric, remote_total),
        -- Tax and gross as read back with this write (null when the destination computes none).
        remote_tax = CASE WHEN ${result.remoteTotal ?? null}::numeric IS NULL THEN remote_tax ELSE ${result.remoteTax ?? null}::numeric END,
        remote_gross = CASE WHEN ${result.remoteTotal ?? null}::numeric IS NULL THEN remote_gross ELSE ${result.remoteGross ?? null}::numeric END,
        remote_type = COALESCE(${result.remoteType ?? null}, remote_type),
        -- The destination now holds what the ledger holds (draft and live links), so no copy is
        -- kept here: assembly saves one (savePushedSnapshots) just before it first changes them.
        pushed_snapshot = NULL
      WHERE id = ${invoiceId} AND content_hash = ${result.contentHash}`);
    // An emptied draft deleted at the destination is no longer open: its client assembles anew.
    if (result.emptied) await markInvoiceClient(tx, invoiceId);
    const lineIds = Object.entries(result.remoteLineIds ?? {});
    if (lineIds.length > 0) {
      await tx.rows(sql`
        UPDATE invoice_lines l SET remote_line_id = u.remote
        FROM unnest(${sql.param(lineIds.map(([k]) => k))}::text[], ${sql.param(lineIds.map(([, v]) => v))}::text[]) AS u(line_key, remote)
        WHERE l.invoice_id = ${invoiceId} AND l.line_key = u.line_key`);
    }
  });
}

/**
 * Keep what the destination holds before assembly changes it. While an invoice's content hash is
 * the one last written (`pushed_hash`) and it has no snapshot, its draft and live links are
 * exactly what was written; of those among `ids`, copy draft and links into `pushed_snapshot`
 * where `changing` says the content changes, or where a live link is about to go (an entry not
 * in `kept`). applyRemoteStatus restores that copy when finance approves a document that never
 * received the change. Taking the copy here, not at every write, makes a write cost one small
 * UPDATE per invoice instead of a copy of every link's lines.
 */
export async function savePushedSnapshots(q: Queryable, ids: number[], changing: number[], kept: number[]): Promise<void> {
  if (ids.length === 0) return;
  await q.rows(sql`
    UPDATE invoices i SET pushed_snapshot = jsonb_build_object('draft', i.draft, 'links',
      COALESCE((SELECT jsonb_agg(jsonb_build_object('entryId', l.entry_id, 'revision', l.entry_revision, 'lines', l.lines, 'credit', l.credit))
                FROM invoice_entries l WHERE l.invoice_id = i.id AND l.live), '[]'::jsonb))
    WHERE i.id = ANY(${sql.param(ids)}::bigint[]) AND i.pushed_snapshot IS NULL AND i.pushed_hash = i.content_hash
      AND (i.id = ANY(${sql.param(changing)}::bigint[])
        OR EXISTS (SELECT 1 FROM invoice_entries l WHERE l.invoice_id = i.id AND l.live AND l.entry_id <> ALL(${sql.param(kept)}::bigint[])))`);
}

export async function recordFailed(q: Queryable, invoiceId: number, message: string): Promise<void> {
  await q.rows(sql`UPDATE invoices SET status = 'failed', last_error = ${message}, updated_at = now() WHERE id = ${invoiceId}`);
}

export type RemoteStatus = 'approved' | 'paid' | 'voided' | 'deleted' | 'draft';

/**
 * Apply the accounting system's status to an invoice. Approved/paid lock it: its entries are
 * billed, and if a change was assembled but never written, the ledger returns to what the
 * destination holds (the pushed snapshot) so the change becomes a correction. Voided/deleted
 * release its entries back to unbilled.
 */
export async function applyRemoteStatus(
  ledger: Ledger,
  ref: { key?: string; destinationId?: string; remoteId?: string },
  status: RemoteStatus,
  remoteStatus: string,
): Promise<boolean> {
  return ledger.transaction(async (tx) => {
    const rows = await tx.rows<{
      id: number;
      status: string;
      contentHash: string;
      pushedHash: string | null;
      snapshot: { draft: InvoiceDraft; links: LinkSnapshot[] } | null;
    }>(sql`
      SELECT id::int AS id, status, content_hash AS "contentHash", pushed_hash AS "pushedHash", pushed_snapshot AS snapshot
      FROM invoices WHERE ${ref.key ? sql`key = ${ref.key}` : sql`destination_id = ${ref.destinationId ?? ''} AND remote_id = ${ref.remoteId ?? ''}`}
      FOR UPDATE`);
    const inv = rows[0];
    if (!inv) return false;
    await tx.rows(sql`SELECT pg_advisory_xact_lock(hashtext('hourbridge:invoice:' || ${inv.id}::text))`);
    // Approved, paid, voided or deleted: what the client's assembly reads has changed.
    if (status !== 'draft') await markInvoiceClient(tx, inv.id);
    if (status === 'draft') {
      await tx.rows(sql`UPDATE invoices SET remote_status = ${remoteStatus}, updated_at = now() WHERE id = ${inv.id}`);
      return true;
    }
    if (status === 'approved' || status === 'paid') {
      if (inv.pushedHash !== inv.contentHash && inv.snapshot) {
        // The destination never received the last change: it bills the snapshot.
        const links = inv.snapshot.links;
        const ids = links.map((l) => l.entryId);
        await tx.rows(sql`DELETE FROM invoice_entries WHERE invoice_id = ${inv.id}`);
        await tx.rows(sql`DELETE FROM invoice_entries WHERE live AND entry_id = ANY(${sql.param(ids)}::bigint[])`);
        if (links.length > 0) {
          await tx.rows(sql`
            INSERT INTO invoice_entries (entry_id, invoice_id, entry_revision, live, lines, credit)
            SELECT u.e, ${inv.id}, u.r, true, d.v->'lines', NULLIF(d.v->'credit', 'null'::jsonb)
            FROM unnest(${sql.param(ids)}::bigint[], ${sql.param(links.map((l) => l.revision))}::int[]) WITH ORDINALITY AS u(e, r, n)
            JOIN ${jsonRows(links.map((l) => ({ lines: l.lines, credit: l.credit ?? null })))} AS d(v, n) USING (n)`);
        }
        await tx.rows(sql`
          UPDATE invoices SET draft = ${JSON.stringify(inv.snapshot.draft)}::jsonb, content_hash = pushed_hash,
            total = ${inv.snapshot.draft.total}::numeric, hours = ${inv.snapshot.draft.hours}::numeric WHERE id = ${inv.id}`);
        // Entries dropped from the invoice go back to the pool; edited ones become corrections.
        await tx.rows(sql`
          UPDATE time_entries te SET status = CASE WHEN te.status = 'drafted' THEN 'rated' ELSE te.status END
          WHERE te.client_id = (SELECT client_id FROM invoices WHERE id = ${inv.id}) AND te.status = 'drafted'
            AND NOT EXISTS (SELECT 1 FROM invoice_entries ie WHERE ie.entry_id = te.id AND ie.live)`);
      }
      await tx.rows(sql`UPDATE invoices SET status = ${status}, remote_status = ${remoteStatus}, updated_at = now() WHERE id = ${inv.id}`);
      await tx.rows(sql`
        UPDATE time_entries te SET status = 'billed' FROM invoice_entries ie
        WHERE ie.invoice_id = ${inv.id} AND ie.live AND ie.entry_id = te.id AND te.revision = ie.entry_revision AND te.deleted_at IS NULL`);
      return true;
    }
    // voided or deleted: the invoice no longer bills anything; its entries are unbilled again.
    await tx.rows(
      sql`UPDATE invoices SET status = ${status}, remote_status = ${remoteStatus}, live = false, updated_at = now() WHERE id = ${inv.id}`,
    );
    await tx.rows(sql`
      UPDATE time_entries te SET status = 'rated' FROM invoice_entries ie
      WHERE ie.invoice_id = ${inv.id} AND ie.live AND ie.entry_id = te.id AND te.status IN ('drafted','billed') AND te.deleted_at IS NULL`);
    const credits = await tx.rows<{ entryId: number; creditedKey: string }>(sql`
      UPDATE invoice_entries SET live = false WHERE invoice_id = ${inv.id} AND live
      RETURNING entry_id::int AS "entryId", credit->>'invoiceKey' AS "creditedKey"`);
    // A voided correction no longer credits the approved invoice it corrected: that invoice bills
    // the entry again, so the next assembly sees the change and drafts a fresh correction.
    // If the credited invoice was voided too, nothing bills the entry and it is unbilled again.
    for (const c of credits) {
      if (!c.creditedKey) continue;
      const restored = await tx.rows<{ entryId: number }>(sql`
        UPDATE invoice_entries ie SET live = true FROM invoices i
        WHERE ie.invoice_id = i.id AND i.key = ${c.creditedKey} AND i.live AND i.status IN ('approved','paid') AND ie.entry_id = ${c.entryId}
        RETURNING ie.entry_id::int AS "entryId"`);
      if (restored.length > 0) {
        await tx.rows(sql`UPDATE time_entries SET status = 'billed' WHERE id = ${c.entryId} AND status = 'rated' AND deleted_at IS NULL`);
      }
    }
    // Credits of this invoice on other invoices' links (a correction drafted, or approved, after
    // it) stand no more: the next assembly drops them from open drafts and bills back the ones
    // an approved invoice already gave (see assembleClient).

    return true;
  });
}

export interface TouchedInvoice {
  key: string;
  client: string;
  clientName: string;
  period: string;
  periodStart: string;
  periodEnd: string;
  currency: string;
  /** Worked hours (time lines). */
  workedHours: string;
  /** Worked hours plus call-out minimum shortfalls. */
  billedHours: string;
  /** Net of tax: the sum of the net line amounts. */
  net: string;
  status: string;
  lines: number;
  error: string | null;
}

/** Invoices created or changed since `since` (a run's start), in the order a run summary lists them. */
export async function invoicesTouchedSince(q: Queryable, since: string): Promise<TouchedInvoice[]> {
  return q.rows<TouchedInvoice>(sql`
    SELECT i.key, i.client_id AS client, (i.draft->>'clientName') AS "clientName", i.period_label AS period,
      i.period_start::text AS "periodStart", i.period_end::text AS "periodEnd", i.currency,
      (i.draft->>'hours') AS "workedHours", COALESCE(i.draft->>'billedHours', i.draft->>'hours') AS "billedHours", (i.draft->>'total') AS net, i.status,
      jsonb_array_length(i.draft->'lines')::int AS lines, i.last_error AS error
    FROM invoices i WHERE i.updated_at >= ${since}::timestamptz ORDER BY i.client_id, i.period_start, i.sequence`);
}

/** Keys of the invoices waiting to be written, per destination (the push stage's work list). */
export async function pendingPushKeys(q: Queryable): Promise<Array<{ key: string; destinationId: string }>> {
  return q.rows<{ key: string; destinationId: string }>(sql`
    SELECT key, destination_id AS "destinationId" FROM invoices
    WHERE live AND status IN ('draft','failed') AND content_hash IS DISTINCT FROM pushed_hash
    ORDER BY destination_id, key`);
}
