import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  bigint,
} from 'drizzle-orm/pg-core';

/**
 * The ledger: Hourbridge's system of record. One PostgreSQL schema for the embedded PGlite
 * and for a PostgreSQL server. Money is `numeric`, instants are `timestamptz`.
 * Migrations are generated from this file (`npx drizzle-kit generate`) and applied on start.
 */

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });
const money = (name: string) => numeric(name, { precision: 20, scale: 6 });

export const runs = pgTable(
  'runs',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    startedAt: ts('started_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
    status: text('status').notNull().default('running'),
    summary: jsonb('summary'),
    /** `host:pid` of the process running an inline run (null for queue runs, which span processes). */
    owner: text('owner'),
    /** Renewed while the run's process is alive; a running run without a recent one was abandoned. */
    heartbeatAt: ts('heartbeat_at'),
  },
  // The runs page and the live pages read the latest runs.
  (t) => [index('runs_started_idx').on(sql`${t.startedAt} DESC`, sql`${t.id} DESC`)],
);

/**
 * One run at a time per source: a lease held while a source is read (inline: for the whole run),
 * renewed by its holder and free once it expires, so a killed holder never blocks for good.
 */
export const sourceLeases = pgTable('source_leases', {
  sourceId: text('source_id').primaryKey(),
  runId: text('run_id').notNull(),
  owner: text('owner').notNull(),
  acquiredAt: ts('acquired_at').notNull().defaultNow(),
  expiresAt: ts('expires_at').notNull(),
});

export const events = pgTable(
  'events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: text('run_id'),
    at: ts('at').notNull().defaultNow(),
    kind: text('kind').notNull(),
    subject: text('subject'),
    data: jsonb('data'),
  },
  (t) => [index('events_run_idx').on(t.runId)],
);

/**
 * Canonical entries keyed by (source_id, external_id). `status`:
 * new → rated → drafted → billed; `deleted` when gone at source; `excluded` when kept but not
 * invoiced (non-billable, unapproved, billed at source) — `status_reason` says why.
 */
export const timeEntries = pgTable(
  'time_entries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sourceId: text('source_id').notNull(),
    externalId: text('external_id').notNull(),
    revision: integer('revision').notNull().default(1),
    contentHash: text('content_hash').notNull(),
    status: text('status').notNull().default('new'),
    statusReason: text('status_reason'),
    clientId: text('client_id'),
    worker: text('worker').notNull(),
    workDate: date('work_date', { mode: 'string' }).notNull(),
    startAt: ts('start_at'),
    endAt: ts('end_at'),
    durationSeconds: integer('duration_seconds').notNull(),
    breakSeconds: integer('break_seconds').notNull().default(0),
    billable: boolean('billable').notNull(),
    approved: boolean('approved'),
    billedAtSource: boolean('billed_at_source').notNull().default(false),
    /** The full canonical TimeEntry. */
    data: jsonb('data').notNull(),
    /** Rules hash the current rated lines were computed with (null = not rated). */
    ratedWith: text('rated_with'),
    /**
     * Hash of `data` as stored (provenance included): a re-read that yields the same snapshot is
     * not written at all. Which keys a pull saw is kept by the pull (SeenKeys), not stamped here.
     */
    snapshotHash: text('snapshot_hash'),
    deletedAt: ts('deleted_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('time_entries_source_external_uq').on(t.sourceId, t.externalId),
    // The order the rate stage walks stale entries in (and finds overtime companions by). On
    // COALESCE(client_id, ''), as those queries write it: on the bare column the planner could
    // not use it for them and sorted every stale entry for every chunk. It also serves lookups
    // by client (written COALESCE(client_id, '') = $client). Every index here is paid for by
    // every ingested row (measured: each adds about a third to the server's cost of storing a
    // row), so there is no second one on (client_id, work_date) for lookups this one serves.
    index('time_entries_rate_order_idx').on(sql`COALESCE(${t.clientId}, '')`, t.worker, t.workDate, t.id),
  ],
);

/** Priced pieces of an entry's current revision, each with the trace of rules that priced it. */
export const ratedLines = pgTable(
  'rated_lines',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    entryId: bigint('entry_id', { mode: 'number' })
      .notNull()
      .references(() => timeEntries.id, { onDelete: 'cascade' }),
    entryRevision: integer('entry_revision').notNull(),
    piece: integer('piece').notNull(),
    kind: text('kind').notNull(),
    clientId: text('client_id').notNull(),
    currency: text('currency').notNull(),
    workDate: date('work_date', { mode: 'string' }).notNull(),
    quantity: money('quantity').notNull(),
    unitPrice: money('unit_price').notNull(),
    amount: money('amount').notNull(),
    rule: text('rule').notNull(),
    /** The whole RatedLine, trace included. */
    data: jsonb('data').notNull(),
  },
  (t) => [
    uniqueIndex('rated_lines_entry_piece_uq').on(t.entryId, t.piece),
    index('rated_lines_client_date_idx').on(t.clientId, t.workDate),
  ],
);

export const invoices = pgTable(
  'invoices',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    key: text('key').notNull(),
    clientId: text('client_id').notNull(),
    destinationId: text('destination_id').notNull(),
    currency: text('currency').notNull(),
    periodStart: date('period_start', { mode: 'string' }).notNull(),
    periodEnd: date('period_end', { mode: 'string' }).notNull(),
    periodLabel: text('period_label').notNull(),
    sequence: integer('sequence').notNull(),
    status: text('status').notNull().default('draft'),
    /** Whether the invoice still bills its entries (false once deleted/voided/superseded). */
    live: boolean('live').notNull().default(true),
    hours: money('hours').notNull(),
    total: money('total').notNull(),
    issueDate: date('issue_date', { mode: 'string' }).notNull(),
    dueDate: date('due_date', { mode: 'string' }).notNull(),
    contentHash: text('content_hash').notNull(),
    /** Content hash last confirmed written to the destination (null = never written). */
    pushedHash: text('pushed_hash'),
    remoteId: text('remote_id'),
    remoteStatus: text('remote_status'),
    /**
     * What the destination computed, read back after the last write. remote_total is the figure
     * comparable with `total` (the sum of line amounts: Xero's SubTotal for tax-exclusive lines,
     * its Total for tax-inclusive ones); remote_tax and remote_gross are its tax and its
     * tax-inclusive total, where the destination computes tax (null otherwise).
     */
    remoteTotal: money('remote_total'),
    remoteTax: money('remote_tax'),
    remoteGross: money('remote_gross'),
    /** What the destination holds under remote_id: 'invoice' or 'credit-note' (null = invoice). */
    remoteType: text('remote_type'),
    lastError: text('last_error'),
    /** The InvoiceDraft as last assembled. */
    draft: jsonb('draft').notNull(),
    /**
     * What the destination holds since the last confirmed write: the draft and, per entry key,
     * {entryId, revision, lines}. If the invoice is found approved before a pending change was
     * written, the ledger falls back to this and routes the change to a correction.
     */
    pushedSnapshot: jsonb('pushed_snapshot'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('invoices_key_uq').on(t.key),
    uniqueIndex('invoices_slot_uq').on(t.clientId, t.destinationId, t.periodLabel, t.sequence),
  ],
);

export const invoiceLines = pgTable(
  'invoice_lines',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    invoiceId: bigint('invoice_id', { mode: 'number' })
      .notNull()
      .references(() => invoices.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    lineKey: text('line_key').notNull(),
    description: text('description').notNull(),
    quantity: money('quantity').notNull(),
    unitPrice: money('unit_price').notNull(),
    amount: money('amount').notNull(),
    remoteLineId: text('remote_line_id'),
  },
  (t) => [uniqueIndex('invoice_lines_invoice_key_uq').on(t.invoiceId, t.lineKey)],
);

/**
 * Which invoice bills which entry. Invariant 2 lives here: the partial unique index allows an
 * entry on at most one live invoice, whatever crashes, retries or parallel workers happen.
 */
export const invoiceEntries = pgTable(
  'invoice_entries',
  {
    entryId: bigint('entry_id', { mode: 'number' })
      .notNull()
      .references(() => timeEntries.id),
    invoiceId: bigint('invoice_id', { mode: 'number' })
      .notNull()
      .references(() => invoices.id, { onDelete: 'cascade' }),
    entryRevision: integer('entry_revision').notNull(),
    live: boolean('live').notNull().default(true),
    /** The entry's RatedLines as this invoice bills them: what a correction credits back. */
    lines: jsonb('lines').notNull(),
    /** When this link corrects an approved invoice: {invoiceKey, lines} credited back here. */
    credit: jsonb('credit'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.entryId, t.invoiceId] }),
    uniqueIndex('invoice_entries_one_live_uq').on(t.entryId).where(sql`${t.live}`),
    index('invoice_entries_invoice_idx').on(t.invoiceId),
  ],
);

/** Per source stream; moved only after the records it covers are in the ledger. */
export const syncCursors = pgTable(
  'sync_cursors',
  {
    sourceId: text('source_id').notNull(),
    stream: text('stream').notNull(),
    cursor: jsonb('cursor').notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.stream] })],
);

/** Every input record that could not be accepted, with where it is and why. */
export const quarantine = pgTable(
  'quarantine',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sourceId: text('source_id').notNull(),
    /** Stable reference within the source: the external id when known, else file:row. */
    recordRef: text('record_ref').notNull(),
    file: text('file'),
    rowNumber: integer('row_number'),
    field: text('field'),
    column: text('column_name'),
    reason: text('reason').notNull(),
    raw: jsonb('raw'),
    runId: text('run_id'),
    firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
    resolvedAt: ts('resolved_at'),
  },
  (t) => [uniqueIndex('quarantine_source_ref_uq').on(t.sourceId, t.recordRef)],
);

/** OAuth token sets for destinations, encrypted at rest (AES-256-GCM); `version` guards refresh races. */
export const connections = pgTable('connections', {
  id: text('id').primaryKey(),
  kind: text('kind').notNull(),
  tenantId: text('tenant_id'),
  /** base64(iv ‖ ciphertext ‖ tag) of the token set JSON. */
  secret: text('secret').notNull(),
  expiresAt: ts('expires_at'),
  version: integer('version').notNull().default(1),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/**
 * The change marker of assembly, per client: `version` moves whenever something the client's
 * assembly reads changes (its entries' prices or deletions, an entry moving between clients,
 * an invoice's status at the destination); `assembled_version` and `fingerprint` (its config
 * and rules) say what the last assembly saw. Equal version and fingerprint: nothing to do.
 */
export const assemblyMarks = pgTable('assembly_marks', {
  clientId: text('client_id').primaryKey(),
  version: bigint('version', { mode: 'number' }).notNull().default(1),
  assembledVersion: bigint('assembled_version', { mode: 'number' }),
  fingerprint: text('fingerprint'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});
