import type { z } from 'zod';
import type { Logger } from 'pino';
import type { TimeEntry } from '../domain/time-entry';
import type { InvoiceDraft } from '../domain/invoice';
import type { FailureCategory } from './errors';
import type { Ledger } from '../ledger/db';
import type { ConnectionStore } from '../destinations/token-store';

/** Opaque per-stream position, JSON-serialisable. Committed only after its records are in the ledger. */
export type Cursor = Record<string, unknown>;

/** Where a raw record sits in its source, for quarantine and provenance. */
export interface RecordRef {
  file?: string;
  sheet?: string;
  /** 1-based row as a person sees it in the sheet (header = row 1). */
  row?: number;
  /** The source's own id for the record, when it has one. */
  id?: string;
}

export interface RawRecord {
  ref: RecordRef;
  data: unknown;
}

export interface SourcePage {
  /** snake_case stream name, e.g. "time_entries". */
  stream: string;
  records: RawRecord[];
  /** Position after this page; the runtime commits it once the page is in the ledger. */
  cursor: Cursor | null;
  /** Ids the source itself reports as deleted (e.g. Toggl `server_deleted_at`). */
  deletedExternalIds?: string[];
  /**
   * Set on the last page of a complete listing: every live entry of this stream whose `date`
   * lies in [from, to] (null = unbounded) was in this read. Entries of the stream in that range
   * that were not seen are deleted at source. Snapshot sources (files) send {from:null,to:null}.
   */
  reconcile?: { from: string | null; to: string | null };
  /**
   * Things the run's summary must say although the read went on: an optional look-up that
   * failed (and what was used instead), or a re-listed window that does not reach back to a
   * client's open billing period. Each a human sentence naming the connector.
   */
  warnings?: string[];
}

export interface Problem {
  /** Canonical field (e.g. "hours", "date"). */
  field?: string;
  /** Source column or API field the value came from (e.g. "Uren", "spent_date"). */
  column?: string;
  value?: unknown;
  reason: string;
}

export type MapResult =
  | { kind: 'entry'; entry: TimeEntry }
  /** Deliberately not an entry (running timer, BREAK entry, blank row): counted, not quarantined. */
  | { kind: 'skip'; reason: string }
  | { kind: 'invalid'; problems: Problem[]; externalId?: string };

export interface ConnectorContext {
  log: Logger;
  /** Shared services a connector may use (token store, shared rate limits); absent in pure tests. */
  services?: {
    ledger?: Ledger;
    /** Redis URL in the queue runner: rate-limit budgets are shared across processes there. */
    redisUrl?: string;
  };
  /** Run start; used to cap updated-since cursors. */
  now: Date;
  /** Directory relative paths in the config are resolved against. */
  configDir: string;
  signal?: AbortSignal;
}

export interface CheckResult {
  ok: boolean;
  category?: FailureCategory;
  /** Human sentence: what was checked, or what to fix. */
  message: string;
  /**
   * Optional calls the read makes that failed while the required ones passed (the read would
   * go on, degraded): the check is still ok, but says so instead of OK-silently.
   */
  warnings?: string[];
}

export interface ReadOptions {
  /** Last committed cursor per stream (absent on a first run). */
  cursors: Record<string, Cursor | undefined>;
  /**
   * Earliest work date of any entry of this source on a still-open (unapproved) draft invoice.
   * Incremental sources widen their reconciliation window back to it, so a deletion in an open
   * period is always seen.
   */
  openSince?: string;
  /**
   * Start of each client's open (current) billing period, in the client's zone, for the clients
   * this source has entries of. A source that finds edits and deletions only by re-listing a
   * window warns (SourcePage.warnings) when one of these starts before its window.
   */
  openPeriods?: OpenPeriod[];
}

export interface OpenPeriod {
  clientId: string;
  /** First date (YYYY-MM-DD) of the period that contains the run's date in the client's zone. */
  start: string;
}

interface ConnectorBase<C extends { id: string; kind: string }> {
  kind: C['kind'];
  /** zod schema of this connector's YAML section: the single source of its types, validation and JSON Schema. */
  configSchema: z.ZodType<C>;
  /** Dotted paths of config fields that hold secrets (never logged, never in job data). */
  secretFields: readonly string[];
  check(config: C, ctx: ConnectorContext): Promise<CheckResult>;
}

export interface SourceConnector<C extends { id: string; kind: string } = { id: string; kind: string }> extends ConnectorBase<C> {
  role: 'source';
  /** `snapshot`: every read is complete (files). `incremental`: cursors + reconciliation. */
  mode: 'snapshot' | 'incremental';
  read(config: C, options: ReadOptions, ctx: ConnectorContext): AsyncIterable<SourcePage>;
  map(record: RawRecord, config: C, ctx: ConnectorContext): MapResult;
}

export type WriteOutcome =
  | {
      key: string;
      status: 'written';
      remoteId?: string;
      remoteStatus?: string;
      /**
       * The destination's own figure for what the ledger calls the total (the sum of line
       * amounts, net of any tax the destination adds), read back after the write: compared with
       * the ledger's (invariant 5). For Xero: SubTotal on tax-exclusive lines, Total otherwise.
       */
      remoteTotal?: string;
      /** Tax the destination computed on it, where it computes tax (Xero TotalTax). */
      remoteTax?: string;
      /** The destination's tax-inclusive total (Xero Total). */
      remoteGross?: string;
      /** What remoteId names, when a destination writes more than one kind of document. */
      remoteType?: 'invoice' | 'credit-note';
      /** The destination's id for each line, by InvoiceLineDraft.lineKey (for in-place updates). */
      remoteLineIds?: Record<string, string>;
      location?: string;
      /** Human notes worth surfacing in the run summary (e.g. a total mismatch). */
      warnings?: string[];
    }
  | { key: string; status: 'failed'; category: FailureCategory; message: string }
  /** Remote invoice is no longer a draft: the ledger must route changes to the correction path. */
  | { key: string; status: 'locked'; remoteId?: string; remoteStatus: string };

/** What the ledger knows of each draft's earlier writes, by invoice key. */
export interface PreviousWrite {
  remoteId?: string;
  remoteStatus?: string;
  remoteLineIds?: Record<string, string>;
  /** What remoteId names (absent: an invoice). */
  remoteType?: 'invoice' | 'credit-note';
  /** Content hash last confirmed written; equal to the draft's → nothing to do. */
  pushedHash?: string;
}

export interface WriteContext extends ConnectorContext {
  previous: Map<string, PreviousWrite>;
}

export interface DestinationConnector<C extends { id: string; kind: string } = { id: string; kind: string }> extends ConnectorBase<C> {
  role: 'destination';
  /** Idempotent by invoice key: writing the same draft twice never makes a second invoice. */
  write(config: C, drafts: InvoiceDraft[], ctx: WriteContext): Promise<WriteOutcome[]>;
  /**
   * Status back by polling (the fallback for missed webhooks): read what the accounting system
   * did with written invoices (approved, paid, voided, deleted) and apply it to the ledger.
   */
  pollStatuses?(config: C, ctx: ConnectorContext): Promise<{ checked: number; changed: number }>;
  /**
   * Optional capability: `hourbridge connect <kind>` for destinations that authorise with
   * OAuth 2.0 (the runtime's flow in src/destinations/oauth-connect.ts; tokens through `connections`).
   */
  connect?(config: C, options: ConnectOptions): Promise<ConnectSummary>;
}

export interface ConnectOptions {
  /** Where the token set is stored (sealed in the ledger). */
  connections: ConnectionStore;
  /** Local port of the callback server (the redirect URI registered with the vendor's app). */
  port: number;
  /** Opens the consent page (a browser); default prints the URL. */
  openUrl?: (url: string) => void | Promise<void>;
  log?: Logger;
  timeoutMs?: number;
}

export interface ConnectSummary {
  /** The vendor account the consent covers: Xero tenant, QuickBooks realm, Exact division. */
  tenantId: string;
  tenantName?: string;
  /** Human sentence for the terminal. */
  message: string;
}
