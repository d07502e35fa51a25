import { sql } from 'drizzle-orm';
import type { Ledger } from '../ledger/db';
import { applyRemoteStatus, type RemoteStatus } from '../ledger/invoices.repository';

/**
 * Status back from a destination, owned by the runtime: a connector declares how the package's
 * own status words map onto the ledger's (`StatusMap`), reads what the package holds, and hands
 * each status to `StatusService.apply`; what finance did (approve, pay, void, delete) then moves
 * the invoice's entries in the ledger (src/ledger/invoices.repository.ts `applyRemoteStatus`).
 */

/** The package's status word (compared case-insensitively) → the ledger's status; a word not in the map is ignored. */
export type StatusMap = Readonly<Record<string, RemoteStatus>>;

export function mapStatus(map: StatusMap, remoteStatus: string): RemoteStatus | undefined {
  const upper = remoteStatus.toUpperCase();
  for (const [word, status] of Object.entries(map)) if (word.toUpperCase() === upper) return status;
  return undefined;
}

/** A live invoice of a destination whose status the package may still change (not paid, voided or deleted). */
export interface OpenRemoteInvoice {
  id: number;
  key: string;
  remoteId: string;
  remoteStatus: string | null;
  remoteType: 'invoice' | 'credit-note' | null;
}

export type ApplyStatusFn = (
  ledger: Ledger,
  ref: { destinationId: string; remoteId: string },
  status: RemoteStatus,
  remoteStatus: string,
) => Promise<boolean>;

const defaultApply: ApplyStatusFn = (ledger, ref, status, remoteStatus) => applyRemoteStatus(ledger, ref, status, remoteStatus);

/** The status side of the ledger, narrowed to one destination. */
export interface StatusService {
  readonly destinationId: string;
  /** What to poll: the destination's live invoices that can still change. */
  open(): Promise<OpenRemoteInvoice[]>;
  /**
   * Apply the package's status of one of its documents. Returns false when the word is not in
   * the map or the ledger does not know the document (not ours).
   */
  apply(remoteId: string, remoteStatus: string): Promise<boolean>;
}

export function ledgerStatusService(
  ledger: Ledger,
  destinationId: string,
  map: StatusMap,
  apply: ApplyStatusFn = defaultApply,
): StatusService {
  return {
    destinationId,
    async open() {
      return ledger.rows<OpenRemoteInvoice>(sql`
        SELECT id::int AS id, key, remote_id AS "remoteId", remote_status AS "remoteStatus", remote_type AS "remoteType" FROM invoices
        WHERE destination_id = ${destinationId} AND remote_id IS NOT NULL AND live AND status NOT IN ('paid', 'voided', 'deleted')`);
    },
    async apply(remoteId, remoteStatus) {
      const status = mapStatus(map, remoteStatus);
      if (!status || !remoteId) return false;
      return apply(ledger, { destinationId, remoteId }, status, remoteStatus);
    },
  };
}
