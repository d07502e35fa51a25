import os from 'node:os';
import { sql } from 'drizzle-orm';
import type { Ledger } from './db';

/** A lease lives this long without renewal; its holder renews it every third of it. */
export const LEASE_TTL_MS = 60_000;
/** An inline run whose heartbeat is older than this (and whose process is not known alive) was abandoned. */
export const RUN_STALE_MS = 2 * LEASE_TTL_MS;

/** `host:pid` of this process: who holds a lease, who runs an inline run. */
export function processOwner(): string {
  return `${os.hostname()}:${process.pid}`;
}

/**
 * Whether the process named by `owner` is alive: known only on this host (signal 0 probes a pid
 * without touching it; EPERM means it exists under another user). Elsewhere: undefined, and the
 * heartbeat's age decides.
 */
export function ownerAlive(owner: string | null): boolean | undefined {
  if (!owner) return undefined;
  const at = owner.lastIndexOf(':');
  const host = owner.slice(0, at);
  const pid = Number(owner.slice(at + 1));
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0) return undefined;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LeaseHolder {
  sourceId: string;
  runId: string;
  owner: string;
  expiresAt: string;
}

/** A source is being read by another run: this one does not start (inline) or waits (queue). */
export class SourceBusyError extends Error {
  override readonly name = 'SourceBusyError';
  readonly code = 'source_busy';
  constructor(readonly holder: LeaseHolder) {
    super(
      `source "${holder.sourceId}" is being synced by run ${holder.runId} (process ${holder.owner}); ` +
        `two runs over one source cannot run at once — try again when that run has finished (its lease runs until ${holder.expiresAt} unless renewed)`,
    );
  }
}

/**
 * Take the leases of `sourceIds` for `runId`, all or none. A lease is free when it has expired,
 * when it is this run's already (a retried job), or when its holder is a process on this host
 * that no longer exists. Returns the holder of the first lease that is not free.
 */
export async function acquireSourceLeases(
  ledger: Ledger,
  sourceIds: string[],
  runId: string,
  owner: string,
  ttlMs = LEASE_TTL_MS,
): Promise<{ ok: true } | { ok: false; holder: LeaseHolder }> {
  if (sourceIds.length === 0) return { ok: true };
  const sorted = [...new Set(sourceIds)].sort();
  // Held by a dead process on this host: free now rather than after the TTL.
  const held = await ledger.rows<{ sourceId: string; owner: string }>(sql`
    SELECT source_id AS "sourceId", owner FROM source_leases
    WHERE source_id = ANY(${sql.param(sorted)}::text[]) AND run_id <> ${runId} AND expires_at > now()`);
  const dead = held.filter((h) => ownerAlive(h.owner) === false).map((h) => h.sourceId);
  if (dead.length > 0)
    await ledger.rows(sql`DELETE FROM source_leases WHERE source_id = ANY(${sql.param(dead)}::text[]) AND expires_at > now()`);
  class Busy extends Error {
    constructor(readonly holder: LeaseHolder) {
      super('busy');
    }
  }
  try {
    await ledger.transaction(async (tx) => {
      for (const sourceId of sorted) {
        const taken = await tx.rows<{ sourceId: string }>(sql`
          INSERT INTO source_leases AS l (source_id, run_id, owner, expires_at)
          VALUES (${sourceId}, ${runId}, ${owner}, now() + ${`${ttlMs} milliseconds`}::interval)
          ON CONFLICT (source_id) DO UPDATE SET run_id = EXCLUDED.run_id, owner = EXCLUDED.owner, acquired_at = now(), expires_at = EXCLUDED.expires_at
          WHERE l.expires_at <= now() OR l.run_id = EXCLUDED.run_id
          RETURNING source_id AS "sourceId"`);
        if (taken.length === 0) {
          const [holder] = await tx.rows<LeaseHolder>(sql`
            SELECT source_id AS "sourceId", run_id AS "runId", owner, to_json(expires_at)#>>'{}' AS "expiresAt" FROM source_leases WHERE source_id = ${sourceId}`);
          throw new Busy(holder ?? { sourceId, runId: 'unknown', owner: 'unknown', expiresAt: 'unknown' });
        }
      }
    });
    return { ok: true };
  } catch (err) {
    if (err instanceof Busy) return { ok: false, holder: err.holder };
    throw err;
  }
}

/** The holder is alive: push its leases' expiry out and stamp its run's heartbeat. */
export async function renewRun(ledger: Ledger, runId: string, ttlMs = LEASE_TTL_MS): Promise<void> {
  await ledger.rows(sql`UPDATE source_leases SET expires_at = now() + ${`${ttlMs} milliseconds`}::interval WHERE run_id = ${runId}`);
  await ledger.rows(sql`UPDATE runs SET heartbeat_at = now() WHERE id = ${runId} AND status = 'running'`);
}

export async function releaseSourceLeases(ledger: Ledger, runId: string, sourceIds?: string[]): Promise<void> {
  await ledger.rows(sql`
    DELETE FROM source_leases WHERE run_id = ${runId}
      ${sourceIds ? sql`AND source_id = ANY(${sql.param(sourceIds)}::text[])` : sql``}`);
}

/**
 * Renew `runId`'s heartbeat and leases every third of the TTL until stopped. The timer does not
 * keep the process alive, and a failed renewal is reported, not thrown (the next one may work).
 */
export function keepAlive(ledger: Ledger, runId: string, onError: (err: Error) => void, ttlMs = LEASE_TTL_MS): { stop(): void } {
  const timer = setInterval(
    () => {
      renewRun(ledger, runId, ttlMs).catch((err: unknown) => onError(err as Error));
    },
    Math.max(50, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

export interface AbandonedRun {
  id: string;
  kind: string;
  owner: string | null;
  message: string;
}

/**
 * Inline runs left `running` by a process that is gone (killed with -9, machine lost): marked
 * `abandoned` with a message saying why, and their leases freed. Gone means: on this host, the
 * pid no longer exists; elsewhere, no heartbeat for `staleMs`. Queue runs span processes and
 * are settled from their queue state instead (QueueRunner.settleAbandonedRuns).
 */
export async function markAbandonedRuns(ledger: Ledger, staleMs = RUN_STALE_MS): Promise<AbandonedRun[]> {
  const running = await ledger.rows<{ id: string; kind: string; owner: string | null; stale: boolean; seen: string | null }>(sql`
    SELECT id, kind, owner, COALESCE(heartbeat_at, started_at) < now() - ${`${staleMs} milliseconds`}::interval AS stale,
      to_json(COALESCE(heartbeat_at, started_at))#>>'{}' AS seen
    FROM runs WHERE status = 'running' AND owner IS NOT NULL`);
  const out: AbandonedRun[] = [];
  for (const r of running) {
    const alive = ownerAlive(r.owner);
    if (alive === true || (alive === undefined && !r.stale)) continue;
    const message =
      alive === false
        ? `abandoned: its process ${r.owner} is gone (last heartbeat ${r.seen}); the next run picks up from what the ledger holds`
        : `abandoned: no heartbeat from ${r.owner} since ${r.seen}; the next run picks up from what the ledger holds`;
    out.push(await settleAbandoned(ledger, r.id, r.kind, r.owner, message));
  }
  return out;
}

/** Mark one run abandoned (if it is still running) and free its leases. */
export async function settleAbandoned(
  ledger: Ledger,
  id: string,
  kind: string,
  owner: string | null,
  message: string,
): Promise<AbandonedRun> {
  await ledger.rows(sql`
    UPDATE runs SET status = 'abandoned', finished_at = now(), summary = ${JSON.stringify({ error: message })}::jsonb
    WHERE id = ${id} AND status = 'running'`);
  await releaseSourceLeases(ledger, id);
  return { id, kind, owner, message };
}
