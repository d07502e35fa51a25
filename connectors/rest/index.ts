import { DateTime } from 'luxon';
import type {
  CheckResult,
  ConnectorContext,
  Cursor,
  RawRecord,
  ReadOptions,
  SourceConnector,
  SourcePage,
} from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { asConnectorError } from '../../src/http/client';
import { cursorCeiling } from '../../src/http/settings';
import { windowForRun, windowWarning, type DateWindow } from '../../src/http/window';
import { RestConfigSchema, type RestConfig } from './config.schema';
import { restHttp, type RestHttp } from './client';
import { fetchPage, formatParam, windowParams, type Position } from './paginate';
import { recordId, restToTimeEntry } from './to-time-entry';
import { checkRest } from './check';

export const REST_STREAM = 'records';

type Phase = 'full' | 'incremental' | 'window';

/**
 * Cursor of the `records` stream.
 * - `synced`: a first complete listing was read (later runs re-list the reconcile window only).
 * - `updatedSince`: lower bound of the next updated-since listing (a run's start minus the lag).
 * - `pending`: a run that stopped mid-listing resumes at `phase` / `position`.
 */
export interface RestCursor extends Cursor {
  v: 1;
  synced: boolean;
  updatedSince: string | null;
  pending?: {
    phase: Phase;
    position: Position | null;
    ceiling: string;
    window: DateWindow | null;
    /** The phase was under way: this read does not see its first pages, so it cannot reconcile. */
    midPhase: boolean;
  };
}

function parseCursor(c: Cursor | undefined): RestCursor | undefined {
  return c && c.v === 1 ? (c as RestCursor) : undefined;
}

interface Step {
  phase: Phase;
  position: Position | null;
  midPhase: boolean;
}

/**
 * Plans one run.
 * - No window: every run lists everything, which is also the reconciliation of everything.
 * - A window: the first run lists startDate (or historyDays back) to tomorrow; later runs re-list
 *   the reconcile window (reconcileDays back, widened to open drafts) — new, edited and surviving
 *   entries in it; entries of the window it no longer lists were deleted.
 * - An updated-since filter besides: later runs first ask for everything changed since the last
 *   run (edits to entries older than the window), then re-list the window. A record both
 *   listings return is handed over once.
 */
function plan(config: RestConfig, options: ReadOptions, ctx: ConnectorContext) {
  const cursor = parseCursor(options.cursors[REST_STREAM]);
  const synced = cursor?.synced ?? false;
  // A position saved under another config (a window or updated-since filter since removed) is dropped: the listing starts over.
  const p = cursor?.pending;
  const resumable = p && (p.phase === 'full' || (config.window && (p.phase === 'window' || config.incremental)));
  if (p && !resumable) ctx.log.warn({ source: config.id }, 'rest: saved position belongs to another listing config; starting over');
  if (p && resumable) {
    const steps: Step[] = [{ phase: p.phase, position: p.position, midPhase: p.midPhase }];
    if (p.phase === 'incremental') steps.push({ phase: 'window', position: null, midPhase: false });
    return { steps, ceiling: p.ceiling, window: p.window, updatedSince: cursor.updatedSince, synced, resumed: true };
  }
  const ceiling = cursorCeiling(ctx.now, config.safetyLagSeconds).toISOString();
  if (!config.window) {
    return {
      steps: [{ phase: 'full' as Phase, position: null, midPhase: false }],
      ceiling,
      window: null,
      updatedSince: null,
      synced,
      resumed: false,
    };
  }
  const window = windowForRun({
    now: ctx.now,
    timeZone: config.timeZone,
    synced,
    ...(config.startDate ? { startDate: config.startDate } : {}),
    defaultHistoryDays: config.historyDays,
    reconcileDays: config.reconcileDays,
    ...(options.openSince ? { openSince: options.openSince } : {}),
  });
  const steps: Step[] = [];
  const updatedSince = config.incremental && synced ? (cursor?.updatedSince ?? null) : null;
  if (updatedSince !== null) steps.push({ phase: 'incremental', position: null, midPhase: false });
  steps.push({ phase: 'window', position: null, midPhase: false });
  return { steps, ceiling, window, updatedSince, synced, resumed: false };
}

export function filtersFor(config: RestConfig, phase: Phase, window: DateWindow | null, updatedSince: string | null) {
  if (phase === 'full' || !window) return {};
  if (phase === 'window') return windowParams(config, window);
  const inc = config.incremental!;
  const out: Record<string, string | number> = {
    [inc.param]: formatParam(inc.format, DateTime.fromISO(updatedSince!, { zone: 'utc' }).setZone(config.timeZone)),
  };
  // Entries before startDate are never read, edited or not.
  if (config.startDate)
    out[config.window!.fromParam] = windowParams(config, { from: config.startDate, to: window.to })[config.window!.fromParam]!;
  return out;
}

async function* readRest(config: RestConfig, options: ReadOptions, ctx: ConnectorContext): AsyncIterable<SourcePage> {
  const who = `rest (${config.id})`;
  let http: RestHttp | undefined;
  try {
    http = restHttp(config, ctx);
    const { steps, ceiling, window, updatedSince, synced, resumed } = plan(config, options, ctx);
    const late =
      synced && window && !resumed
        ? windowWarning({
            connector: who,
            windowFrom: window.from,
            openPeriods: options.openPeriods,
            now: ctx.now,
            timeZone: config.timeZone,
            ...(config.startDate ? { startDate: config.startDate } : {}),
            sees: config.incremental ? 'deletions' : 'edits and deletions',
          })
        : undefined;
    let warnings = late ? [late] : [];
    // Ids handed over in this read: a record both the updated-since and the window listing return comes once.
    const seen = new Set<string>();
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      let pos = step.position;
      let first = true;
      let pageNo = 0;
      // Ids of this phase: a page that brings only ids the phase already had means the API ignored
      // the position (a wrong pageParam, say): fail instead of listing the same page forever.
      const phaseIds = new Set<string>();
      for (;;) {
        pageNo++;
        const page = await fetchPage(http, config, filtersFor(config, step.phase, window, updatedSince), pos);
        const nextStep = steps[i + 1];
        const pending = page.next
          ? { phase: step.phase, position: page.next, ceiling, window, midPhase: true }
          : nextStep
            ? { phase: nextStep.phase, position: null, ceiling, window, midPhase: false }
            : undefined;
        const cursor: RestCursor = pending
          ? { v: 1, synced, updatedSince, pending }
          : { v: 1, synced: true, updatedSince: config.incremental ? ceiling : null };
        const records: RawRecord[] = [];
        let fresh = 0;
        let withId = 0;
        for (const data of page.records) {
          const id = recordId(config, data);
          if (id !== undefined) {
            withId++;
            if (!phaseIds.has(id)) fresh++;
            phaseIds.add(id);
            if (seen.has(id)) continue;
            seen.add(id);
          }
          records.push({ ref: id !== undefined ? { id } : {}, data });
        }
        if (pageNo > 1 && withId > 0 && fresh === 0 && page.next) {
          throw new ConnectorError(
            'config',
            `${who}: page ${pageNo} of the listing repeats records already read on this run; the API does not seem to take the page position (check pagination).`,
            { connector: who },
          );
        }
        const out: SourcePage = { stream: REST_STREAM, records, cursor };
        if (warnings.length > 0) {
          out.warnings = warnings;
          warnings = [];
        }
        const sawWholePhase = !(first && step.midPhase);
        if (!page.next && step.phase !== 'incremental' && sawWholePhase) {
          out.reconcile = step.phase === 'full' || !window ? { from: null, to: null } : { from: window.from, to: window.to };
        }
        yield out;
        if (!page.next) break;
        pos = page.next;
        first = false;
      }
    }
    ctx.log.debug({ source: config.id, calls: http.stats.calls, retries: http.stats.retries }, 'rest: read finished');
  } catch (err) {
    throw asConnectorError(who, err, http?.secrets ?? [config.auth.secret]);
  }
}

export const restSource: SourceConnector<RestConfig> = {
  kind: 'rest',
  role: 'source',
  mode: 'incremental',
  configSchema: RestConfigSchema as unknown as SourceConnector<RestConfig>['configSchema'],
  secretFields: ['auth.secret'],
  check: (config: RestConfig, ctx: ConnectorContext): Promise<CheckResult> => checkRest(config, ctx),
  read: readRest,
  map: (record, config, ctx) => restToTimeEntry(record, config, ctx.now),
};

export default restSource;
export { RestConfigSchema } from './config.schema';
export type { RestConfig } from './config.schema';
