import type { z } from 'zod';
import type { Logger } from 'pino';
import type { TimeEntry } from '../domain/time-entry';
import type { InvoiceDraft } from '../domain/invoice';
import type { FailureCategory } from './errors';
import type { Ledger } from '../ledger/db';
import type { IntentLog } from '../destinations/intent-log';
import type { StatusMap, StatusService } from '../destinations/statuses';
import type { RateLimiter } from '../http/rate-limit';
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
  /**
   * The runtime's services for the destination being called, narrowed to it (set by the push
   * and status stages; a connector called without them gets them from `destinationServicesOf`).
   */
  destination?: DestinationServices;
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
  /**
   * A live pull after a tracker's webhook (connectors with `webhooks`): read only these entries
   * (their dates lie in `window`, local dates in the source's zone), report the ones of `deleted`
   * the source no longer has in `deletedExternalIds`, and neither reconcile a window nor move the
   * stream's cursor (the live runtime drops page cursors; the scheduled sync keeps its own).
   */
  only?: LiveSelection;
}

export interface LiveSelection {
  externalIds: string[];
  /** Ids a webhook reported deleted: confirmed against the source before they are marked. */
  deleted: string[];
  window: { from: string; to: string };
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

/** What a tracker's webhook reported, once its signature held. */
export type SourceHookEvent =
  /** A handshake (Toggl PING): answered 200 with `reply` as the body when there is one. */
  | { kind: 'ping'; reply?: Record<string, string> }
  | {
      kind: 'change';
      externalId: string;
      deleted: boolean;
      /** Local date of the entry (source zone), when the event carries its start. */
      date?: string;
      /** Unique per delivery of this event: a second delivery with the same key is a replay. */
      eventKey: string;
      /** When the tracker says it sent the event (signed), for the replay window. */
      sentAt?: Date;
    }
  | { kind: 'ignored'; reason: string; eventKey: string; sentAt?: Date };

/** A subscription as stored (sealed) in the ledger after `hourbridge connect <kind>`. */
export interface StoredSubscription {
  /** The tracker's ids of the subscription(s) (Clockify: one webhook per event type). */
  ids: string[];
  /** Signing secrets or tokens, one per subscription; a request is verified against any of them. */
  secrets: string[];
  url: string;
}

export interface WebhookRequest {
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** A source whose tracker pushes changes: how to subscribe, verify and read its events. */
export interface SourceWebhooks<C> {
  /** Registers the subscription(s) for `url` with the tracker's API and returns their secrets. */
  register(config: C, url: string, ctx: ConnectorContext): Promise<StoredSubscription>;
  /** Constant-time check of the request's signature against the stored secrets. */
  verify(req: WebhookRequest, subscription: StoredSubscription): boolean;
  /** The events of a verified request (never trusted for content: the entry is read from the API). */
  parse(req: WebhookRequest, config: C): SourceHookEvent[];
}

export interface SourceConnector<C extends { id: string; kind: string } = { id: string; kind: string }> extends ConnectorBase<C> {
  role: 'source';
  /** Present when the tracker can push changes (webhooks); `read` then honours `ReadOptions.only`. */
  webhooks?: SourceWebhooks<C>;
  /**
   * For sources without webhooks: a cheap look at whether anything changed since the `previous`
   * token (one small request), so a frequent poll reads the source only when it did.
   */
  pollChange?(config: C, previous: string | undefined, ctx: ConnectorContext): Promise<{ changed: boolean; token: string }>;
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

/**
 * What a destination can do, declared once beside its code: the runtime, the docs and the
 * conformance suite read it instead of knowing destinations by name.
 */
export interface DestinationCapabilities {
  /** The package holds real drafts that finance approves there (false: what is written is final, or the receiver decides). */
  realDrafts: boolean;
  /** A written draft is updated in place (same document) while it is still a draft. */
  updateInPlace: boolean;
  /** A draft that lost every line is deleted at the destination. */
  deleteEmptied: boolean;
  /** A correction that credits more than it bills is written as a credit note (or credit invoice). */
  creditNotes: boolean;
  /** How statuses come back: polled (`pollStatuses`), pushed (`webhook`), or not at all (empty). */
  statusReadBack: readonly ('poll' | 'webhook')[];
  /**
   * `computed`: the package adds tax by each line's tax type/rate id and reports it back; `sent`:
   * the amounts sent include it; `none`: net amounts (with each line's tax type) and no tax read back.
   */
  tax: 'computed' | 'sent' | 'none';
  /** Decimal places of a unit price the destination accepts. */
  unitPriceDecimals: readonly number[];
  /** Most invoices one write request carries (1: one request per invoice). */
  batchSize: number;
  /** The vendor's documented request limit per account, which the connector keeps to (absent: none). */
  rateLimit?: { requests: number; windowMs: number; concurrent?: number; perDay?: number; per: string };
  /**
   * What makes a retry safe: `idempotency-key` (the vendor dedupes a request key; look-up by
   * number before any re-create), `reference-lookup` (no key: the intent log and a look-up by
   * our reference before any re-create), `receiver-dedupe` (the receiver upserts by invoice key),
   * `overwrite` (the document is named by its key, e.g. a file).
   */
  idempotency: 'idempotency-key' | 'reference-lookup' | 'receiver-dedupe' | 'overwrite';
}

/** An inbound webhook request as the HTTP service received it: the raw bytes and the headers. */
export interface InboundWebhook {
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** A verified event: the document it names (its status is then read from the destination, never trusted from the body). */
export interface WebhookEvent {
  remoteId: string;
  /** Stable per event (deduplication of redeliveries). */
  eventId: string;
}

/**
 * Inbound webhooks as an optional capability: the service's one route `/webhooks/:destinationId`
 * finds the destination, asks it to verify and parse, and queues a status refresh per event.
 */
export interface DestinationWebhook<C> {
  /** Where the signing key is configured, for the message when there is none (e.g. "server.webhooks.xero"). */
  keyHint: string;
  /**
   * Check the signature. `serverKeys` are the `server.webhooks` keys of the config (Xero's key
   * lives there); a destination may keep its own in its config. `no-key`: nothing to check
   * against (the service answers 503); `invalid`: 401.
   */
  verify(request: InboundWebhook, config: C, serverKeys: Readonly<Record<string, string | undefined>>): 'ok' | 'invalid' | 'no-key';
  /** Events of a verified body (unknown or malformed ones are left out). */
  parse(request: InboundWebhook, config: C): WebhookEvent[];
}

/** The runtime's services a destination is given, narrowed to it (instead of the whole ledger). */
export interface DestinationServices {
  /** Write-ahead notes of creates, for a look-up before any re-create after an uncertain outcome. */
  intents: IntentLog;
  /** The ledger's status side for this destination; absent without a ledger (pure tests). */
  statuses?: StatusService;
  /** A request budget shared by every worker process talking to this account (Redis in the queue runner). */
  budget(key: string, requests: number, windowMs: number): RateLimiter;
  /** Redis URL when budgets are shared across processes (queue runner). */
  redisUrl?: string;
}

export interface DestinationConnector<C extends { id: string; kind: string } = { id: string; kind: string }> extends ConnectorBase<C> {
  role: 'destination';
  capabilities: DestinationCapabilities;
  /** The package's status words → ledger statuses (for the runtime's status service). */
  statusMap?: StatusMap;
  /** Inbound webhooks (signature check and parsing), where the package sends them. */
  webhook?: DestinationWebhook<C>;
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
