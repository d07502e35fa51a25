import { sql } from 'drizzle-orm';
import type { ClientConfig } from '../config/client.schema';
import type { BillingPeriod, InvoiceDraft } from '../domain/invoice';
import { billedLines, type BilledLine } from '../domain/rated-line';
import type { Ledger, Queryable } from '../ledger/db';
import { savePushedSnapshots, type LinkSnapshot } from '../ledger/invoices.repository';
import { jsonRows } from '../ledger/json-rows';
import { assemblyMark, markEntriesChanged, openInvoiceCount, recordAssembled } from '../ledger/assembly-marks.repository';
import { stableJson } from '../ledger/entries.repository';
import { hash } from 'node:crypto';
import { dec } from '../domain/money';
import type { CompiledRates } from '../rates/contract';
import { buildInvoiceDraft, earliestDate, type BillingItem } from './invoice-builder';
import { periodOf } from './periods';

export interface AssembleSummary {
  drafted: number;
  updated: number;
  unchanged: number;
  /** Open drafts left without lines (every entry deleted or excluded). */
  emptied: number;
  /** Entries whose billing on an approved invoice is being corrected. */
  corrections: number;
  /** Entries released from this client's drafts because their client changed at source. */
  released: number;
}

interface CandidateRow {
  entryId: number;
  entryKey: string;
  revision: number;
  clientId: string | null;
  eligible: boolean;
  notes: string | null;
  lines: BilledLine[];
  invoiceId: number | null;
  invoiceKey: string | null;
  invoiceStatus: string | null;
  linkedRevision: number | null;
  linkedLines: BilledLine[] | null;
  credit: LinkSnapshot['credit'];
}

interface OpenInvoice {
  id: number;
  key: string;
  periodLabel: string;
  destinationId: string;
  sequence: number;
  contentHash: string;
  pushedHash: string | null;
  status: string;
}

/** A link the period's invoice will hold; `liveOn`: the open invoice the entry is live on already with exactly this revision, lines and credit. */
interface PlannedLink extends LinkSnapshot {
  liveOn?: number;
}

interface PeriodWork {
  period: BillingPeriod;
  items: BillingItem[];
  links: PlannedLink[];
}

/** Lines with their sign turned: a credit of these lines on a correction bills them again. */
function negated(lines: BilledLine[]): BilledLine[] {
  return lines.map((l) => ({ ...l, quantity: dec(l.quantity).negated().toString(), amount: dec(l.amount).negated().toString() }));
}

/** A line and its negation cancel: drop such pairs (same piece, quantities and amounts summing to zero). */
function cancelPairs(lines: BilledLine[]): BilledLine[] {
  const rest = [...lines];
  const same = (a: BilledLine, b: BilledLine) =>
    JSON.stringify({ ...a, quantity: null, amount: null }) === JSON.stringify({ ...b, quantity: null, amount: null }) &&
    dec(a.quantity).plus(b.quantity).isZero() &&
    dec(a.amount).plus(b.amount).isZero();
  for (let i = 0; i < rest.length; i++) {
    const j = rest.findIndex((b, k) => k > i && same(rest[i]!, b));
    if (j > 0) {
      rest.splice(j, 1);
      rest.splice(i, 1);
      i--;
    }
  }
  return rest;
}

/** One link of an entry on a live approved (or paid) invoice: what that immutable document bills and credits for it. */
interface StandingLink {
  entryId: number;
  invoiceKey: string;
  lines: BilledLine[];
  credit: LinkSnapshot['credit'];
}

/**
 * What the live approved invoices bill for an entry, net: for each of them its lines less its
 * own credit (those documents are fixed, so their contribution is fixed while they are live; a
 * voided one contributes nothing). The open invoice credits exactly this and bills what is true
 * now, so the live invoices together bill the entry once, whatever order approvals, edits and
 * voids came in. Null when the approved invoices bill nothing for the entry.
 */
function standingCredit(links: StandingLink[] | undefined): LinkSnapshot['credit'] {
  if (!links || links.length === 0) return null;
  const lines = cancelPairs(links.flatMap((l) => [...l.lines, ...negated(l.credit?.lines ?? [])]));
  if (lines.length === 0) return null;
  return { invoiceKey: links[links.length - 1]!.invoiceKey, lines };
}

/**
 * The assemble stage for one client: every eligible priced entry lands on exactly one live
 * invoice for its period (the period of its start, in the client's time zone). Open drafts are
 * rebuilt from their entries; approved invoices are never touched — an entry changed or deleted
 * after approval is credited on the period's next invoice and billed again as it is now.
 * Runs in one transaction under a per-client advisory lock, so two workers assembling the same
 * client serialise, and the partial unique index on invoice_entries backs invariant 2.
 */
export async function assembleClient(ledger: Ledger, client: ClientConfig, rates: CompiledRates): Promise<AssembleSummary> {
  return ledger.transaction(async (tx) => {
    await tx.rows(sql`SELECT pg_advisory_xact_lock(hashtext(${`hourbridge:assemble:${client.id}`}))`);
    // Nothing it reads changed since the last assembly (same marker version, same config and
    // rules): its open drafts are what assembling again would make them, so it is skipped.
    const fingerprint = assemblyFingerprint(client, rates);
    const mark = await assemblyMark(tx, client.id);
    if (mark && mark.assembledVersion === mark.version && mark.fingerprint === fingerprint) {
      return { drafted: 0, updated: 0, unchanged: await openInvoiceCount(tx, client.id), emptied: 0, corrections: 0, released: 0 };
    }
    const { summary, released } = await assembleLocked(tx, client, rates);
    await recordAssembled(tx, client.id, mark?.version ?? 0, fingerprint);
    // Entries whose client changed were released here: the client they belong to now can take them.
    await markEntriesChanged(tx, released);
    return summary;
  });
}

/**
 * Bump when assembly's output for the same ledger and config changes (a new draft layout, say),
 * so every client is assembled again once after an upgrade.
 */
const ASSEMBLY_FORMAT = 1;

/** What a client's drafts depend on besides the ledger: its config, the rules and assembly's own format. */
export function assemblyFingerprint(client: ClientConfig, rates: CompiledRates): string {
  return hash('sha256', `${ASSEMBLY_FORMAT}\u0000${rates.hash}\u0000${stableJson(client)}`, 'base64url').slice(0, 32);
}

async function assembleLocked(
  tx: Queryable,
  client: ClientConfig,
  rates: CompiledRates,
): Promise<{ summary: AssembleSummary; released: number[] }> {
  const summary: AssembleSummary = { drafted: 0, updated: 0, unchanged: 0, emptied: 0, corrections: 0, released: 0 };
  const released: number[] = [];
  // No JIT for this transaction: the candidate query is index-served and short, but its cost
  // estimate on a large ledger passes jit_above_cost, and compiling it took ~0.4 s per client —
  // 90 % of its time at 100,000 entries. (The embedded ledger has no JIT; the setting is harmless.)
  await tx.rows(sql`SET LOCAL jit = off`);
  // The candidates: this client's priced entries on no live invoice, and every entry live on one
  // of its invoices that is open, or approved and changed since. Two index-served halves (the
  // rate-order index by client; invoices by client, then their links): one query with the OR
  // across both joined tables read every entry of the ledger for every client.
  const entryColumns = sql`te.id::int AS "entryId", te.source_id || ':' || te.external_id AS "entryKey", te.revision, te.client_id AS "clientId",
      (te.client_id = ${client.id} AND te.deleted_at IS NULL AND te.status IN ('rated','drafted','billed')) AS eligible,
      te.data->>'notes' AS notes,
      COALESCE((SELECT json_agg(rl.data - 'trace' ORDER BY rl.piece) FROM rated_lines rl WHERE rl.entry_id = te.id), '[]'::json) AS lines`;
  // An approved link is looked at again when its entry changed, when the invoice its credit
  // refers to is no longer live, or when an invoice the entry was on was voided: what the open
  // invoice credits is then worked out again from the live approved invoices (standingCredit).
  const creditLive = sql`(l.credit IS NULL OR EXISTS (SELECT 1 FROM invoices ci WHERE ci.key = l.credit->>'invoiceKey' AND ci.live))`;
  const rows = await tx.rows<CandidateRow>(sql`
    SELECT ${entryColumns},
      NULL::int AS "invoiceId", NULL::text AS "invoiceKey", NULL::text AS "invoiceStatus",
      NULL::int AS "linkedRevision", NULL::jsonb AS "linkedLines", NULL::jsonb AS credit
    FROM time_entries te
    WHERE COALESCE(te.client_id, '') = ${client.id} AND te.status IN ('rated','drafted') AND te.deleted_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM invoice_entries l WHERE l.entry_id = te.id AND l.live)
    UNION ALL
    SELECT ${entryColumns},
      i.id::int, i.key, i.status, l.entry_revision, l.lines, l.credit
    FROM invoices i
    JOIN invoice_entries l ON l.invoice_id = i.id AND l.live
    JOIN time_entries te ON te.id = l.entry_id
    WHERE i.client_id = ${client.id}
      AND (i.status IN ('draft','pushed','failed') OR (i.status IN ('approved','paid') AND (te.revision > l.entry_revision OR NOT ${creditLive}
        OR EXISTS (SELECT 1 FROM invoice_entries vl JOIN invoices vi ON vi.id = vl.invoice_id WHERE vl.entry_id = l.entry_id AND vi.status = 'voided'))))`);

  const standingRows = await tx.rows<StandingLink>(sql`
    SELECT l.entry_id::int AS "entryId", i.key AS "invoiceKey", l.lines, l.credit
    FROM invoices i JOIN invoice_entries l ON l.invoice_id = i.id
    WHERE i.client_id = ${client.id} AND i.live AND i.status IN ('approved','paid')
      AND l.entry_id = ANY(${sql.param([...new Set(rows.map((r) => r.entryId))])}::bigint[])
    ORDER BY i.id`);
  const standing = new Map<number, StandingLink[]>();
  for (const l of standingRows) {
    const link = { ...l, lines: billedLines(l.lines), credit: l.credit && { ...l.credit, lines: billedLines(l.credit.lines) } };
    standing.set(l.entryId, [...(standing.get(l.entryId) ?? []), link]);
  }

  const openInvoices = await tx.rows<OpenInvoice>(sql`
    SELECT id::int AS id, key, period_label AS "periodLabel", destination_id AS "destinationId", sequence,
      content_hash AS "contentHash", pushed_hash AS "pushedHash", status
    FROM invoices WHERE client_id = ${client.id} AND live AND status IN ('draft','pushed','failed')`);
  const openByPeriod = new Map(openInvoices.map((i) => [i.periodLabel, i]));

  const work = new Map<string, PeriodWork>();
  const periodWork = (date: string): PeriodWork => {
    const period = periodOf(date, client.period);
    let w = work.get(period.label);
    if (!w) {
      w = { period, items: [], links: [] };
      work.set(period.label, w);
    }
    return w;
  };
  const notes = new Map<string, string>();
  const supersede: number[] = [];

  for (const row of rows) {
    if (row.linkedLines) row.linkedLines = billedLines(row.linkedLines);
    if (row.credit) row.credit = { ...row.credit, lines: billedLines(row.credit.lines) };
    const eligible = row.eligible && row.lines.length > 0 && row.clientId === client.id;
    if (row.clientId !== client.id) {
      summary.released++;
      released.push(row.entryId);
    }
    if (row.notes) notes.set(row.entryKey, row.notes);
    const locked = row.invoiceStatus === 'approved' || row.invoiceStatus === 'paid';
    if (locked) {
      // Billed, then changed or deleted at source: credit what was billed, bill what is true now.
      // What the invoice billed for the entry is its lines less its own credit, unless the invoice
      // that credit refers to was voided since: then that credit was given for nothing and is
      // billed back here (credited with its sign turned).
      const credit = standingCredit(standing.get(row.entryId));
      // Looked at again because an invoice it was on was voided: when the live approved invoices
      // still bill it exactly as it is now, there is nothing to correct.
      if (
        row.revision === row.linkedRevision &&
        cancelPairs([...(credit?.lines ?? []), ...negated(eligible ? row.lines : [])]).length === 0
      )
        continue;
      summary.corrections++;
      supersede.push(row.entryId);
      if (!eligible && !credit) continue;
      const w = periodWork(eligible ? earliestDate(row.lines) : earliestDate(credit!.lines));
      if (credit) w.items.push({ entryKey: row.entryKey, lines: credit.lines, correctionOf: credit.invoiceKey });
      if (eligible) w.items.push({ entryKey: row.entryKey, lines: row.lines });
      w.links.push({ entryId: row.entryId, revision: row.revision, lines: eligible ? row.lines : [], credit });
      continue;
    }
    // Unlinked, or on an open draft: rebuilt from scratch, so edits, moves and removals all apply.
    // A credit of an invoice voided since is dropped: the voided invoice bills nothing.
    const credit = standingCredit(standing.get(row.entryId));
    if (!eligible && !credit) continue;
    const w = periodWork(eligible ? earliestDate(row.lines) : earliestDate(credit!.lines));
    if (credit) w.items.push({ entryKey: row.entryKey, lines: credit.lines, correctionOf: credit.invoiceKey });
    if (eligible) w.items.push({ entryKey: row.entryKey, lines: row.lines });
    const link: PlannedLink = { entryId: row.entryId, revision: row.revision, lines: eligible ? row.lines : [], credit };
    // Both sides come back from jsonb (same key order), so equal text means equal lines.
    if (
      row.invoiceId !== null &&
      row.linkedRevision === row.revision &&
      JSON.stringify(row.linkedLines) === JSON.stringify(link.lines) &&
      JSON.stringify(row.credit) === JSON.stringify(link.credit)
    ) {
      link.liveOn = row.invoiceId;
    }
    w.links.push(link);
  }
  // Open drafts that lost all their entries still need rebuilding (to empty).
  for (const inv of openInvoices) {
    if (!work.has(inv.periodLabel)) {
      const draftPeriod = await tx.rows<{ draft: InvoiceDraft }>(sql`SELECT draft FROM invoices WHERE id = ${inv.id}`);
      work.set(inv.periodLabel, { period: draftPeriod[0]!.draft.period, items: [], links: [] });
    }
  }
  if (work.size === 0) return { summary, released };

  const maxSeq = new Map(
    (
      await tx.rows<{ label: string; seq: number }>(sql`
        SELECT period_label AS label, max(sequence)::int AS seq FROM invoices
        WHERE client_id = ${client.id} AND destination_id = ${client.destination} GROUP BY period_label`)
    ).map((r) => [r.label, r.seq]),
  );

  // Links that stay exactly as they are: on the open invoice of their period already, with the
  // same revision, lines and credit. Neither deleted nor written again, so an unchanged re-run
  // does not rewrite every link of every open draft.
  const kept = new Set<number>();
  for (const [label, w] of work) {
    const open = openByPeriod.get(label);
    if (open) for (const l of w.links) if (l.liveOn === open.id) kept.add(l.entryId);
  }

  // Each period's invoice as it will be (pure: built before anything is written).
  const plans: Array<{ label: string; w: PeriodWork; open: OpenInvoice | undefined; draft: InvoiceDraft; sequence: number }> = [];
  for (const [label, w] of work) {
    const open = openByPeriod.get(label);
    if (!open && w.items.length === 0) continue;
    const sequence = open?.sequence ?? (maxSeq.get(label) ?? 0) + 1;
    const destinationId = open?.destinationId ?? client.destination;
    const draft = buildInvoiceDraft({ client, period: w.period, destinationId, sequence, items: w.items, rates, notes });
    plans.push({ label, w, open, draft, sequence });
  }

  // Phase 0: what the destination holds of a written draft is kept before it first changes.
  await savePushedSnapshots(
    tx,
    openInvoices.filter((i) => i.pushedHash !== null && i.pushedHash === i.contentHash).map((i) => i.id),
    plans.filter((p) => p.open && p.open.contentHash !== p.draft.contentHash).map((p) => p.open!.id),
    [...kept],
  );

  // Phase 1: drop every link that is about to change, so no entry is ever live on two invoices.
  if (supersede.length > 0) {
    await tx.rows(sql`UPDATE invoice_entries SET live = false WHERE live AND entry_id = ANY(${sql.param(supersede)}::bigint[])`);
  }
  const openIds = openInvoices.map((i) => i.id);
  if (openIds.length > 0) {
    await tx.rows(sql`DELETE FROM invoice_entries
      WHERE invoice_id = ANY(${sql.param(openIds)}::bigint[]) AND entry_id <> ALL(${sql.param([...kept])}::bigint[])`);
  }
  // No other open invoice holds a link of a touched entry: an entry was either on no live
  // invoice (the first half of the candidates), on one of this client's open invoices (their
  // links were just deleted) or on an approved one (superseded above, never deleted). A link
  // another client's assembly makes meanwhile is refused by the partial unique index on live
  // links, which fails this transaction rather than bill an entry twice. (A DELETE of the
  // touched entries' open links here cost 2.1 s of a 20,000-entry first sync, to delete none.)

  // Phase 2: write each period's invoice and its links.
  for (const { label, w, open, draft, sequence } of plans) {
    const destinationId = draft.destinationId;
    let invoiceId: number;
    if (!open) {
      const inserted = await tx.rows<{ id: number }>(sql`
        INSERT INTO invoices (key, client_id, destination_id, currency, period_start, period_end, period_label, sequence, status,
          hours, total, issue_date, due_date, content_hash, draft)
        VALUES (${draft.key}, ${client.id}, ${destinationId}, ${draft.currency}, ${draft.period.start}, ${draft.period.end}, ${label},
          ${sequence}, 'draft', ${draft.hours}::numeric, ${draft.total}::numeric, ${draft.issueDate}, ${draft.dueDate}, ${draft.contentHash},
          ${JSON.stringify(draft)}::jsonb)
        RETURNING id::int AS id`);
      invoiceId = inserted[0]!.id;
      summary.drafted++;
    } else if (draft.lines.length === 0 && open.pushedHash === null) {
      // Never written anywhere: nothing to undo at the destination.
      await tx.rows(sql`DELETE FROM invoices WHERE id = ${open.id}`);
      summary.emptied++;
      continue;
    } else {
      invoiceId = open.id;
      if (open.contentHash === draft.contentHash) summary.unchanged++;
      else {
        if (draft.lines.length === 0) summary.emptied++;
        else summary.updated++;
        await tx.rows(sql`
          UPDATE invoices SET draft = ${JSON.stringify(draft)}::jsonb, content_hash = ${draft.contentHash},
            hours = ${draft.hours}::numeric, total = ${draft.total}::numeric, issue_date = ${draft.issueDate}, due_date = ${draft.dueDate},
            status = CASE WHEN pushed_hash = ${draft.contentHash} THEN status ELSE 'draft' END, updated_at = now()
          WHERE id = ${open.id}`);
      }
    }
    if (!open || open.contentHash !== draft.contentHash) await writeLines(tx, invoiceId, draft);
    const write = w.links.filter((l) => !kept.has(l.entryId));
    if (write.length > 0) {
      await tx.rows(sql`
        INSERT INTO invoice_entries (entry_id, invoice_id, entry_revision, live, lines, credit)
        SELECT u.e, ${invoiceId}, u.r, true, d.v->'lines', NULLIF(d.v->'credit', 'null'::jsonb)
        FROM unnest(${sql.param(write.map((l) => l.entryId))}::bigint[], ${sql.param(write.map((l) => l.revision))}::int[]) WITH ORDINALITY AS u(e, r, n)
        JOIN ${jsonRows(write.map((l) => ({ lines: l.lines, credit: l.credit ?? null })))} AS d(v, n) USING (n)
        ON CONFLICT (entry_id, invoice_id) DO UPDATE SET entry_revision = EXCLUDED.entry_revision, live = true,
          lines = EXCLUDED.lines, credit = EXCLUDED.credit`);
      await tx.rows(sql`
        UPDATE time_entries SET status = 'drafted'
        WHERE id = ANY(${sql.param(w.links.map((l) => l.entryId))}::bigint[]) AND deleted_at IS NULL AND status IN ('rated','billed')`);
    }
  }
  return { summary, released };
}

async function writeLines(tx: Queryable, invoiceId: number, draft: InvoiceDraft): Promise<void> {
  // Keep the destination's line ids for lines that survive (in-place draft updates need them).
  const keep = await tx.rows<{ lineKey: string; remote: string | null }>(sql`
    SELECT line_key AS "lineKey", remote_line_id AS remote FROM invoice_lines WHERE invoice_id = ${invoiceId}`);
  const remote = new Map(keep.map((k) => [k.lineKey, k.remote]));
  await tx.rows(sql`DELETE FROM invoice_lines WHERE invoice_id = ${invoiceId}`);
  if (draft.lines.length === 0) return;
  const ls = draft.lines;
  await tx.rows(sql`
    INSERT INTO invoice_lines (invoice_id, position, line_key, description, quantity, unit_price, amount, remote_line_id)
    SELECT ${invoiceId}, * FROM unnest(${sql.param(ls.map((_, i) => i + 1))}::int[], ${sql.param(ls.map((l) => l.lineKey))}::text[],
      ${sql.param(ls.map((l) => l.description))}::text[], ${sql.param(ls.map((l) => l.quantity))}::numeric[],
      ${sql.param(ls.map((l) => l.unitPrice))}::numeric[], ${sql.param(ls.map((l) => l.amount))}::numeric[],
      ${sql.param(ls.map((l) => remote.get(l.lineKey) ?? null))}::text[])`);
}

/** Assemble every client; each in its own transaction and lock. */
export async function assembleAll(ledger: Ledger, clients: ClientConfig[], rates: CompiledRates): Promise<AssembleSummary> {
  const total: AssembleSummary = { drafted: 0, updated: 0, unchanged: 0, emptied: 0, corrections: 0, released: 0 };
  const pass = async (list: ClientConfig[]) => {
    let released = 0;
    for (const client of list) {
      const s = await assembleClient(ledger, client, rates);
      total.drafted += s.drafted;
      total.updated += s.updated;
      total.emptied += s.emptied;
      total.corrections += s.corrections;
      total.unchanged += s.unchanged;
      released += s.released;
    }
    return released;
  };
  // An entry whose client changed at source is released by its old client's pass; a second
  // pass lets the new client take it in the same run.
  if ((await pass(clients)) > 0) {
    total.unchanged = 0;
    await pass(clients);
  }
  total.released = 0;
  return total;
}
