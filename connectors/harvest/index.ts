import type { CheckResult, ConnectorContext, Cursor, ReadOptions, SourceConnector, SourcePage } from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { asConnectorError, checkWith } from '../../src/http/client';
import { cursorCeiling, previousDay, reconcileFrom as windowStart } from '../../src/http/settings';
import { windowWarning } from '../../src/http/window';
import { HarvestConfigSchema, type HarvestConfig } from './config.schema';
import { fetchAllUsers, fetchMe, fetchTimeEntriesPage, harvestHttp, timeEntriesUrl, type TimeEntriesQuery } from './client';
import { harvestZoneToIana } from './time-zones';
import { harvestToTimeEntry } from './to-time-entry';
import type { HarvestRawRecord, HarvestTimeEntriesPage } from './types';

export const HARVEST_STREAM = 'time_entries';

type Phase = 'full' | 'incremental' | 'reconcile';

/**
 * Cursor of the `time_entries` stream.
 * - `updatedSince`: lower bound of the next incremental listing (a run's start minus the safety lag).
 * - `pending`: a run that stopped mid-listing; the next read resumes at `next` (a URL Harvest
 *   itself returned, or the first page of the next phase) instead of starting over.
 */
export interface HarvestCursor extends Cursor {
  v: 1;
  updatedSince: string | null;
  pending?: {
    ceiling: string;
    phase: Phase;
    next: string;
    reconcileFrom: string | null;
    /** `next` continues a phase already under way (false: it is the phase's first page). */
    midPhase?: boolean;
  };
  /**
   * Users' zones (IANA) by Harvest user id, from the last read that could list users: when
   * `GET /v2/users` fails, these are used instead, so a failed optional call does not move
   * known users' started/ended times (and make new revisions) for one run.
   */
  userZones?: Record<string, string>;
}

interface Step {
  phase: Phase;
  url: string;
  /** Continued from a cursor: this read did not see the phase's first pages. */
  resumed: boolean;
}

function parseCursor(c: Cursor | undefined): HarvestCursor | undefined {
  if (c?.v !== 1) return undefined;
  return c as HarvestCursor;
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function maxDate(a: string | null, b: string | undefined): string | null {
  if (!b) return a;
  if (a === null) return null;
  return a > b ? a : b;
}

/**
 * Plans one run. First sync: one full listing, which is also the reconciliation of everything
 * (so a first sync of N entries costs ⌈N/perPage⌉ calls). Later syncs split the work so no entry
 * is listed twice: `updated_since=U&to=<day before window>` for edits to older entries, then the
 * whole reconciliation window `from=<window start>` (new, edited and surviving entries in it).
 */
function plan(config: HarvestConfig, options: ReadOptions, ctx: ConnectorContext, http: ReturnType<typeof harvestHttp>) {
  const cursor = parseCursor(options.cursors[HARVEST_STREAM]);
  const q = (extra: Omit<TimeEntriesQuery, 'per_page'>) => timeEntriesUrl(http, { per_page: config.perPage, ...extra });

  if (cursor?.pending) {
    const p = cursor.pending;
    let sameOrigin = false;
    try {
      sameOrigin = new URL(p.next).origin === new URL(http.baseUrl).origin;
    } catch {
      sameOrigin = false;
    }
    if (sameOrigin) {
      // Only a phase resumed in its middle has pages this read never sees: it cannot reconcile.
      const steps: Step[] = [{ phase: p.phase, url: p.next, resumed: p.midPhase !== false }];
      if (p.phase === 'incremental' && p.reconcileFrom !== null) {
        steps.push({ phase: 'reconcile', url: q({ from: p.reconcileFrom }), resumed: false });
      }
      return { steps, ceiling: p.ceiling, updatedSince: cursor.updatedSince, reconcileFrom: p.reconcileFrom };
    }
    ctx.log.warn({ source: config.id }, 'harvest: saved position points at another baseUrl; starting the listing over');
  }

  const ceiling = isoSeconds(cursorCeiling(ctx.now, config.safetyLagSeconds));
  if (!cursor?.updatedSince) {
    const from = config.startDate ?? null;
    return {
      steps: [{ phase: 'full' as Phase, url: q(from ? { from } : {}), resumed: false }],
      ceiling,
      updatedSince: null,
      reconcileFrom: from,
    };
  }
  const U = cursor.updatedSince;
  const from = maxDate(windowStart(ctx.now, config.timeZone, config.reconcileDays, options.openSince), config.startDate);
  const steps: Step[] = [];
  if (from === null) {
    steps.push({
      phase: 'incremental',
      url: q({ updated_since: U, ...(config.startDate ? { from: config.startDate } : {}) }),
      resumed: false,
    });
  } else {
    const to = previousDay(from);
    if (!config.startDate || to >= config.startDate) {
      steps.push({
        phase: 'incremental',
        url: q({ updated_since: U, to, ...(config.startDate ? { from: config.startDate } : {}) }),
        resumed: false,
      });
    }
    steps.push({ phase: 'reconcile', url: q({ from }), resumed: false });
  }
  return { steps, ceiling, updatedSince: U, reconcileFrom: from };
}

interface UserZones {
  zones: Map<number, string>;
  /** Set when the optional users call failed: what was used instead, for the run's summary. */
  warning?: string;
}

/**
 * Users' zones are an optional look-up: started/ended times are read in the user's own zone
 * when Harvest says which, else in `timeZone`. A failed `GET /v2/users` (any category, after the
 * HTTP layer's retries) degrades with a warning instead of failing the read: the zones of the
 * last successful read (kept in the cursor) are used, and `timeZone` for anyone else.
 */
async function loadUserZones(
  config: HarvestConfig,
  http: ReturnType<typeof harvestHttp>,
  ctx: ConnectorContext,
  cached: Record<string, string> | undefined,
): Promise<UserZones> {
  const zones = new Map<number, string>();
  if (!config.userTimeZones) return { zones };
  try {
    for (const u of await fetchAllUsers(http)) {
      const zone = harvestZoneToIana(u.timezone);
      if (zone) zones.set(u.id, zone);
      else if (u.timezone)
        ctx.log.warn({ source: config.id, user: u.id, timezone: u.timezone }, `harvest: unknown time zone; using ${config.timeZone}`);
    }
    return { zones };
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    const e = asConnectorError(`harvest (${config.id})`, err, [config.token]);
    for (const [id, zone] of Object.entries(cached ?? {})) if (harvestZoneToIana(zone)) zones.set(Number(id), zone);
    return { zones, warning: userZonesWarning(config, e, zones.size) };
  }
}

function userZonesWarning(config: HarvestConfig, e: ConnectorError, known: number): string {
  const kept = known > 0 ? `the zones of ${known} user(s) known from the last read are kept; everyone else's` : 'every';
  const fix = e.category === 'auth' ? ' Give the token a role that may list users, or set userTimeZones: false to skip the call.' : '';
  return (
    `harvest (${config.id}): the optional look-up of users' time zones (GET /v2/users) failed (${e.category}): ${e.message} — ` +
    `${kept} started/ended times are read in the source zone ${config.timeZone} this run.${fix}`
  );
}

async function* readHarvest(config: HarvestConfig, options: ReadOptions, ctx: ConnectorContext): AsyncIterable<SourcePage> {
  const http = harvestHttp(config, ctx);
  try {
    const { steps, ceiling, updatedSince, reconcileFrom } = plan(config, options, ctx, http);
    const { zones, warning } = await loadUserZones(config, http, ctx, parseCursor(options.cursors[HARVEST_STREAM])?.userZones);
    const userZones = zones.size > 0 ? Object.fromEntries([...zones].map(([id, z]) => [String(id), z])) : undefined;
    let warnings = warning ? [warning] : [];
    // Only later syncs rely on the window (the first is a full listing), and a resumed one warned when it started.
    const windowed = updatedSince !== null && !parseCursor(options.cursors[HARVEST_STREAM])?.pending;
    const late = windowed
      ? windowWarning({
          connector: `harvest (${config.id})`,
          windowFrom: reconcileFrom,
          openPeriods: options.openPeriods,
          now: ctx.now,
          timeZone: config.timeZone,
          ...(config.startDate ? { startDate: config.startDate } : {}),
          sees: 'deletions (Harvest reports none; edits are found through updated_since)',
        })
      : undefined;
    if (late) warnings.push(late);
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      let url: string | null = step.url;
      let current: Promise<HarvestTimeEntriesPage> | null = fetchTimeEntriesPage(http, url);
      while (url && current) {
        const page: HarvestTimeEntriesPage = await current;
        if (!page || !Array.isArray(page.time_entries)) {
          throw new ConnectorError(
            'permanent',
            `harvest (${config.id}): unexpected response from ${new URL(url).pathname}: no time_entries array.`,
            {
              connector: 'harvest',
            },
          );
        }
        const next: string | null = page.links?.next ?? null;
        if (next) http.resolve(next); // refuses a link to another origin before it is saved in a cursor
        // Fetch the next page while the runtime stores this one. A failure surfaces when it is
        // awaited, after this page (and its cursor) went out, so resuming still starts at `next`.
        current = next ? fetchTimeEntriesPage(http, next) : null;
        current?.catch(() => undefined);
        const following = next ?? steps[i + 1]?.url ?? null;
        const followingPhase = next ? step.phase : steps[i + 1]?.phase;
        const cursor: HarvestCursor = following
          ? { v: 1, updatedSince, pending: { ceiling, phase: followingPhase!, next: following, reconcileFrom, midPhase: next !== null } }
          : { v: 1, updatedSince: ceiling };
        if (userZones) cursor.userZones = userZones;
        const records = page.time_entries.map((entry) => ({
          ref: { id: String(entry.id) },
          data: { entry, userTimeZone: zones.get(entry.user?.id) ?? null } satisfies HarvestRawRecord,
        }));
        const out: SourcePage = { stream: HARVEST_STREAM, records, cursor };
        if (warnings.length > 0) {
          out.warnings = warnings;
          warnings = [];
        }
        if (!next && (step.phase === 'full' || step.phase === 'reconcile') && !step.resumed) {
          out.reconcile = { from: reconcileFrom, to: null };
        }
        yield out;
        url = next;
      }
    }
    ctx.log.debug({ source: config.id, calls: http.stats.calls, retries: http.stats.retries }, 'harvest: read finished');
  } catch (err) {
    throw asConnectorError(`harvest (${config.id})`, err, [config.token]);
  }
}

async function checkHarvest(config: HarvestConfig, ctx: ConnectorContext): Promise<CheckResult> {
  const http = harvestHttp(config, ctx);
  const result = await checkWith(`harvest (${config.id})`, [config.token], async () => {
    const me = await fetchMe(http);
    return `signed in to account ${config.accountId} as ${me.first_name} ${me.last_name}.`;
  });
  if (!result.ok || !config.userTimeZones) return result;
  // The read's optional call too: a token that may not list users still syncs, degraded; say so.
  const { warning } = await loadUserZones(config, http, ctx, undefined);
  return warning ? { ...result, warnings: [warning] } : { ...result, message: `${result.message} Users' time zones can be read.` };
}

/**
 * The poll's cheap look: anything updated since the last look (less the safety lag)?
 * https://help.getharvest.com/api-v2/timesheets-api/timesheets/time-entries/#list-all-time-entries
 * with `updated_since` and `per_page=1`: one request whatever the account's size. Deletions are
 * invisible to `updated_since`; the scheduled runs' reconciliation finds them.
 */
async function pollHarvest(config: HarvestConfig, previous: string | undefined, ctx: ConnectorContext) {
  const token = isoSeconds(cursorCeiling(ctx.now, config.safetyLagSeconds));
  if (previous === undefined) return { changed: true, token };
  try {
    const http = harvestHttp(config, ctx);
    const page = await fetchTimeEntriesPage(http, timeEntriesUrl(http, { updated_since: previous, per_page: 1 }));
    return { changed: (page.total_entries ?? page.time_entries?.length ?? 0) > 0, token };
  } catch (err) {
    throw asConnectorError(`harvest (${config.id})`, err, [config.token]);
  }
}

export const harvestSource: SourceConnector<HarvestConfig> = {
  kind: 'harvest',
  role: 'source',
  mode: 'incremental',
  configSchema: HarvestConfigSchema as unknown as SourceConnector<HarvestConfig>['configSchema'],
  secretFields: ['token'],
  check: checkHarvest,
  read: readHarvest,
  pollChange: pollHarvest,
  map: (record, config, ctx) => harvestToTimeEntry(record, config, ctx.now),
};

export default harvestSource;
export { HarvestConfigSchema } from './config.schema';
export type { HarvestConfig } from './config.schema';
