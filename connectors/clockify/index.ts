import type {
  CheckResult,
  ConnectorContext,
  Cursor,
  LiveSelection,
  ReadOptions,
  SourceConnector,
  SourcePage,
} from '../../src/connectors/contract';
import { ConnectorError } from '../../src/connectors/errors';
import { asConnectorError, checkWith } from '../../src/http/client';
import { instantsOf, splitWindow, windowForRun, windowWarning, type DateWindow } from '../../src/http/window';
import { ClockifyConfigSchema, type ClockifyConfig } from './config.schema';
import { clockifyHttp, fetchCurrentUser, fetchDetailedReport, fetchTimeEntry, fetchUserTimeEntries, fetchWorkspaceUsers } from './client';
import { clockifyWebhooks } from './webhooks';
import { clockifyToTimeEntry } from './to-time-entry';
import type { ClockifyRawRecord, ClockifyUser } from './types';

export const CLOCKIFY_STREAM = 'time_entries';

/**
 * Cursor of the `time_entries` stream. Clockify has no updated-since filter and reports no
 * deletions, so each run lists a date window (the first run: from startDate; later runs: the
 * reconciliation window). `pending` is the position inside an unfinished run's window.
 */
export interface ClockifyCursor extends Cursor {
  v: 1;
  synced: boolean;
  pending?: { via: 'report' | 'user'; window: DateWindow; part: number; page: number };
}

function parseCursor(c: Cursor | undefined): ClockifyCursor | undefined {
  return c && c.v === 1 ? (c as ClockifyCursor) : undefined;
}

function fallbackWorthy(err: unknown): boolean {
  return err instanceof ConnectorError && (err.details.status === 403 || err.details.status === 404);
}

/**
 * A live pull (webhook): each named entry read on its own (a deleted one answers 404), with the
 * workspace's users for names and zones; no reconciliation, no cursor.
 */
async function* readOnly(config: ClockifyConfig, only: LiveSelection, ctx: ConnectorContext): AsyncIterable<SourcePage> {
  const http = clockifyHttp(config, ctx, 'api');
  const users = new Map((await fetchWorkspaceUsers(http, config.workspaceId)).map((u) => [u.id, u]));
  const records: SourcePage['records'] = [];
  for (const id of only.externalIds) {
    const entry = await fetchTimeEntry(http, config.workspaceId, id);
    if (!entry) continue;
    const user = users.get(entry.userId);
    records.push({
      ref: { id: entry.id },
      data: {
        via: 'user',
        entry,
        userName: user?.name ?? null,
        userTimeZone: user?.settings?.timeZone ?? null,
      } satisfies ClockifyRawRecord,
    });
  }
  const seen = new Set(records.map((r) => r.ref.id));
  yield { stream: CLOCKIFY_STREAM, records, cursor: null, deletedExternalIds: only.deleted.filter((id) => !seen.has(id)) };
}

async function* readClockify(config: ClockifyConfig, options: ReadOptions, ctx: ConnectorContext): AsyncIterable<SourcePage> {
  const who = `clockify (${config.id})`;
  try {
    if (options.only) {
      yield* readOnly(config, options.only, ctx);
      return;
    }
    const cursor = parseCursor(options.cursors[CLOCKIFY_STREAM]);
    const synced = cursor?.synced ?? false;
    const resumed = cursor?.pending;
    const window =
      resumed?.window ??
      windowForRun({
        now: ctx.now,
        timeZone: config.timeZone,
        synced,
        ...(config.startDate ? { startDate: config.startDate } : {}),
        defaultHistoryDays: 365,
        reconcileDays: config.reconcileDays,
        ...(options.openSince ? { openSince: options.openSince } : {}),
      });
    let via: 'report' | 'user' = resumed?.via ?? (config.api === 'users' ? 'user' : 'report');
    // A resumed run continues an earlier run's window, which warned then.
    let warning = resumed
      ? undefined
      : windowWarning({
          connector: who,
          windowFrom: window.from,
          openPeriods: options.openPeriods,
          now: ctx.now,
          timeZone: config.timeZone,
          ...(config.startDate ? { startDate: config.startDate } : {}),
          sees: 'edits and deletions (Clockify has no changed-since filter)',
        });
    const pageOut = (records: SourcePage['records'], next: ClockifyCursor['pending'] | null): SourcePage => {
      const page: SourcePage = {
        stream: CLOCKIFY_STREAM,
        records,
        cursor: next ? { v: 1, synced, pending: next } : { v: 1, synced: true },
      };
      if (!next && !resumed) page.reconcile = { from: window.from, to: window.to };
      if (warning) {
        page.warnings = [warning];
        warning = undefined;
      }
      return page;
    };

    if (via === 'report') {
      const http = clockifyHttp(config, ctx, 'reports');
      const parts = splitWindow(window, config.reportSpanDays);
      let first = true;
      for (let part = resumed?.part ?? 0; part < parts.length; part++) {
        const { start, end } = instantsOf(parts[part]!, config.timeZone);
        for (let page = part === (resumed?.part ?? 0) ? (resumed?.page ?? 1) : 1; ; page++) {
          let report: Awaited<ReturnType<typeof fetchDetailedReport>>;
          try {
            report = await fetchDetailedReport(http, config.workspaceId, {
              dateRangeStart: start,
              dateRangeEnd: end,
              page,
              pageSize: config.pageSize,
              timeZone: config.timeZone,
            });
          } catch (err) {
            if (first && !resumed && config.api === 'auto' && fallbackWorthy(err)) {
              ctx.log.warn(
                { source: config.id },
                `${who}: the detailed report is not available to this key; reading each user's time entries instead`,
              );
              via = 'user';
              break;
            }
            throw err;
          }
          first = false;
          const entries = Array.isArray(report?.timeentries) ? report.timeentries : [];
          const count = report?.totals?.[0]?.entriesCount;
          const more = typeof count === 'number' ? page * config.pageSize < count : entries.length === config.pageSize;
          const next = more
            ? { via, window, part, page: page + 1 }
            : part + 1 < parts.length
              ? { via, window, part: part + 1, page: 1 }
              : null;
          yield pageOut(
            entries.map((entry) => ({ ref: { id: entry._id }, data: { via: 'report', entry } satisfies ClockifyRawRecord })),
            next,
          );
          if (!more) break;
        }
        if (via === 'user') break;
      }
      if (via === 'report') return;
    }

    // Per-user fallback: https://docs.clockify.me/#tag/Time-entry/operation/getTimeEntries
    const http = clockifyHttp(config, ctx, 'api');
    const users: ClockifyUser[] = (await fetchWorkspaceUsers(http, config.workspaceId)).sort((a, b) => a.id.localeCompare(b.id));
    const { start, end } = instantsOf(window, config.timeZone);
    const startUser = resumed?.via === 'user' ? resumed.part : 0;
    if (users.length === 0) {
      yield pageOut([], null);
      return;
    }
    for (let u = startUser; u < users.length; u++) {
      const user = users[u]!;
      for (let page = u === startUser && resumed?.via === 'user' ? resumed.page : 1; ; page++) {
        const entries = await fetchUserTimeEntries(http, config.workspaceId, user.id, { start, end, page, pageSize: config.pageSize });
        const more = entries.length === config.pageSize;
        const next = more
          ? { via: 'user' as const, window, part: u, page: page + 1 }
          : u + 1 < users.length
            ? { via: 'user' as const, window, part: u + 1, page: 1 }
            : null;
        yield pageOut(
          entries.map((entry) => ({
            ref: { id: entry.id },
            data: { via: 'user', entry, userName: user.name, userTimeZone: user.settings?.timeZone ?? null } satisfies ClockifyRawRecord,
          })),
          next,
        );
        if (!more) break;
      }
    }
  } catch (err) {
    throw asConnectorError(who, err, [config.apiKey]);
  }
}

async function checkClockify(config: ClockifyConfig, ctx: ConnectorContext): Promise<CheckResult> {
  return checkWith(`clockify (${config.id})`, [config.apiKey], async () => {
    const me = await fetchCurrentUser(clockifyHttp(config, ctx, 'api'));
    return `API key accepted for ${me.name}; reading workspace ${config.workspaceId}.`;
  });
}

export const clockifySource: SourceConnector<ClockifyConfig> = {
  kind: 'clockify',
  role: 'source',
  mode: 'incremental',
  configSchema: ClockifyConfigSchema,
  secretFields: ['apiKey'],
  check: checkClockify,
  webhooks: clockifyWebhooks,
  read: readClockify,
  map: (record, config, ctx) => clockifyToTimeEntry(record, config, ctx.now),
};

export default clockifySource;
export { ClockifyConfigSchema } from './config.schema';
export type { ClockifyConfig } from './config.schema';
