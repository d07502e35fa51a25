import { DateTime } from 'luxon';
import type { CheckResult, ConnectorContext, Cursor, ReadOptions, SourceConnector, SourcePage } from '../../src/connectors/contract';
import { asConnectorError, checkWith } from '../../src/http/client';
import { cursorCeiling, reconcileFrom as windowStart } from '../../src/http/settings';
import { windowWarning } from '../../src/http/window';
import { KimaiConfigSchema, type KimaiConfig } from './config.schema';
import { fetchMe, fetchTimesheets, kimaiHttp, type TimesheetsQuery } from './client';
import { kimaiToTimeEntry } from './to-time-entry';
import type { KimaiRawRecord, KimaiTimesheet } from './types';

export const KIMAI_STREAM = 'timesheets';

type Phase = 'full' | 'incremental' | 'reconcile';

/**
 * Cursor of the `timesheets` stream.
 * - `modifiedAfter`: lower bound (UTC instant) of the next `modified_after` listing: a run's
 *   start minus the safety lag.
 * - `pending`: a run that stopped mid-listing resumes at `phase`/`page`.
 */
export interface KimaiCursor extends Cursor {
  v: 1;
  modifiedAfter: string | null;
  pending?: { ceiling: string; phase: Phase; page: number; reconcileFrom: string | null };
}

function parseCursor(c: Cursor | undefined): KimaiCursor | undefined {
  return c && c.v === 1 ? (c as KimaiCursor) : undefined;
}

/** Kimai's filters take "HTML5 local date-times" (2019-03-14T10:00:00) in the API user's zone. */
function localDateTime(instant: DateTime): string {
  return instant.toFormat("yyyy-MM-dd'T'HH:mm:ss");
}
function dayStart(date: string, zone: string): string {
  return localDateTime(DateTime.fromISO(date, { zone }).startOf('day'));
}

interface Step {
  phase: Phase;
  page: number;
}

/**
 * Plans one run. First sync: one full listing (from startDate), which also reconciles
 * everything. Later syncs: `modified_after=U&end=<window start>` for edits to entries before
 * the window, then the whole window `begin=<window start>` (new, edited, surviving entries),
 * so no entry is listed twice in one run.
 */
function plan(config: KimaiConfig, options: ReadOptions, ctx: ConnectorContext) {
  const cursor = parseCursor(options.cursors[KIMAI_STREAM]);
  if (cursor?.pending) {
    const p = cursor.pending;
    const steps: Step[] = [{ phase: p.phase, page: p.page }];
    if (p.phase === 'incremental' && p.reconcileFrom !== null) steps.push({ phase: 'reconcile', page: 1 });
    return { steps, ceiling: p.ceiling, modifiedAfter: cursor.modifiedAfter, reconcileFrom: p.reconcileFrom, resumedAt: p };
  }
  const ceiling = cursorCeiling(ctx.now, config.safetyLagSeconds).toISOString();
  if (!cursor?.modifiedAfter) {
    return {
      steps: [{ phase: 'full' as Phase, page: 1 }],
      ceiling,
      modifiedAfter: null,
      reconcileFrom: config.startDate ?? null,
      resumedAt: undefined,
    };
  }
  let from = windowStart(ctx.now, config.timeZone, config.reconcileDays, options.openSince);
  if (from !== null && config.startDate && from < config.startDate) from = config.startDate;
  const steps: Step[] = [{ phase: 'incremental', page: 1 }];
  if (from !== null) steps.push({ phase: 'reconcile', page: 1 });
  return { steps, ceiling, modifiedAfter: cursor.modifiedAfter, reconcileFrom: from, resumedAt: undefined };
}

function query(config: KimaiConfig, phase: Phase, page: number, modifiedAfter: string | null, from: string | null): TimesheetsQuery {
  const q: TimesheetsQuery = { page, size: config.pageSize };
  const zone = config.timeZone;
  if (phase === 'full') {
    if (config.startDate) q.begin = dayStart(config.startDate, zone);
  } else if (phase === 'incremental') {
    q.modified_after = localDateTime(DateTime.fromISO(modifiedAfter!, { zone: 'utc' }).setZone(zone));
    if (config.startDate) q.begin = dayStart(config.startDate, zone);
    if (from !== null) q.end = dayStart(from, zone);
  } else {
    q.begin = dayStart(from!, zone);
  }
  return q;
}

/** Kimai's `end` filter semantics are not spelled out: entries in the window are kept for the reconcile step only. */
function beforeWindow(e: KimaiTimesheet, from: string | null): boolean {
  if (from === null) return true;
  const begin = DateTime.fromISO(String(e?.begin ?? ''), { setZone: true });
  return !begin.isValid || begin.toISODate()! < from;
}

async function* readKimai(config: KimaiConfig, options: ReadOptions, ctx: ConnectorContext): AsyncIterable<SourcePage> {
  const who = `kimai (${config.id})`;
  const http = kimaiHttp(config, ctx);
  try {
    const { steps, ceiling, modifiedAfter, reconcileFrom, resumedAt } = plan(config, options, ctx);
    const late =
      modifiedAfter !== null && !resumedAt
        ? windowWarning({
            connector: who,
            windowFrom: reconcileFrom,
            openPeriods: options.openPeriods,
            now: ctx.now,
            timeZone: config.timeZone,
            ...(config.startDate ? { startDate: config.startDate } : {}),
            sees: 'deletions (Kimai reports none; edits are found through modified_after)',
          })
        : undefined;
    let warnings = late ? [late] : [];
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      const resumedMid = i === 0 && resumedAt !== undefined && step.page > 1;
      for (let page = step.page; ; page++) {
        const res = await fetchTimesheets(http, query(config, step.phase, page, modifiedAfter, reconcileFrom));
        const more = res.totalPages !== null ? page < res.totalPages : res.entries.length === config.pageSize;
        const nextStep = steps[i + 1];
        const cursor: KimaiCursor = more
          ? { v: 1, modifiedAfter, pending: { ceiling, phase: step.phase, page: page + 1, reconcileFrom } }
          : nextStep
            ? { v: 1, modifiedAfter, pending: { ceiling, phase: nextStep.phase, page: 1, reconcileFrom } }
            : { v: 1, modifiedAfter: ceiling };
        const entries = step.phase === 'incremental' ? res.entries.filter((e) => beforeWindow(e, reconcileFrom)) : res.entries;
        const out: SourcePage = {
          stream: KIMAI_STREAM,
          records: entries.map((entry) => ({ ref: { id: String(entry?.id) }, data: { entry } satisfies KimaiRawRecord })),
          cursor,
        };
        if (warnings.length > 0) {
          out.warnings = warnings;
          warnings = [];
        }
        if (!more && step.phase !== 'incremental' && !resumedMid) out.reconcile = { from: reconcileFrom, to: null };
        yield out;
        if (!more) break;
      }
    }
    ctx.log.debug({ source: config.id, calls: http.stats.calls, retries: http.stats.retries }, 'kimai: read finished');
  } catch (err) {
    throw asConnectorError(who, err, [config.token]);
  }
}

async function checkKimai(config: KimaiConfig, ctx: ConnectorContext): Promise<CheckResult> {
  const who = `kimai (${config.id})`;
  if (config.auth === 'legacy' && !config.user) {
    return { ok: false, category: 'config', message: `${who}: auth: legacy needs user (the Kimai username sent as X-AUTH-USER).` };
  }
  return checkWith(who, [config.token], async () => {
    const http = kimaiHttp(config, ctx);
    const me = await fetchMe(http);
    // The listing itself too: a token that may not see other users' timesheets fails here, not on the first sync.
    await fetchTimesheets(http, { page: 1, size: 1 });
    return `API token accepted for ${me.alias || me.username || `user ${me.id}`}; timesheets can be listed.`;
  });
}

export const kimaiSource: SourceConnector<KimaiConfig> = {
  kind: 'kimai',
  role: 'source',
  mode: 'incremental',
  configSchema: KimaiConfigSchema as unknown as SourceConnector<KimaiConfig>['configSchema'],
  secretFields: ['token'],
  check: checkKimai,
  read: readKimai,
  map: (record, config, ctx) => kimaiToTimeEntry(record, config, ctx.now),
};

export default kimaiSource;
export { KimaiConfigSchema } from './config.schema';
export type { KimaiConfig } from './config.schema';
