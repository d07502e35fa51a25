import type {
  CheckResult,
  ConnectorContext,
  Cursor,
  LiveSelection,
  ReadOptions,
  SourceConnector,
  SourcePage,
} from '../../src/connectors/contract';
import { asConnectorError, checkWith } from '../../src/http/client';
import { cursorCeiling } from '../../src/http/settings';
import { splitWindow, windowForRun, windowWarning, type DateWindow } from '../../src/http/window';
import { TogglConfigSchema, type TogglConfig } from './config.schema';
import {
  fetchMe,
  fetchMyNames,
  fetchMyTimeEntries,
  fetchNames,
  searchTimeEntries,
  togglHttp,
  type ReportPosition,
  type TogglNames,
} from './client';
import { togglToTimeEntry } from './to-time-entry';
import type { TogglRawRecord, TogglReportRow, TogglV9TimeEntry } from './types';
import { togglWebhooks } from './webhooks';

export const TOGGL_STREAM = 'time_entries';

/**
 * `GET /me/time_entries?since=<unix>` returns the entries modified since then, deleted ones
 * included (`server_deleted_at`): https://engineering.toggl.com/docs/api/time_entries#get-timeentries .
 * How far back `since` may reach is not in the reference; Toggl's own engineers put it at three
 * months (https://github.com/toggl/mobileapp/issues/405, https://github.com/toggl/toggl_api_docs/issues/294),
 * so a cursor older than this re-lists a window instead.
 */
const SINCE_REACH_DAYS = 80;

/**
 * Cursor of the `time_entries` stream.
 * workspace scope: `synced` + `pending` (window part and Reports position) like any windowed source;
 * me scope: `since` (unix seconds, the run's start minus the safety lag).
 */
export interface TogglCursor extends Cursor {
  v: 1;
  synced?: boolean;
  pending?: { window: DateWindow; part: number; position: ReportPosition | null };
  since?: number;
}

function parseCursor(c: Cursor | undefined): TogglCursor | undefined {
  return c && c.v === 1 ? (c as TogglCursor) : undefined;
}

function warningBase(config: TogglConfig, ctx: ConnectorContext) {
  return {
    connector: `toggl (${config.id})`,
    now: ctx.now,
    timeZone: config.timeZone,
    ...(config.startDate ? { startDate: config.startDate } : {}),
  };
}

/** Rows normally carry names (enrich_response); when they don't, they are looked up once per read. */
function reportNames(http: ReturnType<typeof togglHttp>, config: TogglConfig) {
  let names: Promise<TogglNames> | undefined;
  return async (row: Omit<TogglReportRow, 'time_entries'>) => {
    const lacks = (row.project_id && (!row.project_name || !row.client_name)) || !row.username;
    if (!lacks) return row;
    names ??= fetchNames(http, String(config.workspaceId));
    const n = await names;
    const project = row.project_id ? n.projects.get(row.project_id) : undefined;
    const client = project?.client_id ? n.clients.get(project.client_id) : undefined;
    return {
      ...row,
      project_name: row.project_name || project?.name || null,
      client_name: row.client_name || client || null,
      username: row.username || n.users.get(row.user_id) || null,
    };
  };
}

async function* readWorkspace(config: TogglConfig, options: ReadOptions, ctx: ConnectorContext): AsyncIterable<SourcePage> {
  const http = togglHttp(config, ctx);
  const cursor = parseCursor(options.cursors[TOGGL_STREAM]);
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
  const parts = splitWindow(window, config.reportSpanDays);
  // A resumed run continues an earlier run's window, which warned then.
  let warning = resumed
    ? undefined
    : windowWarning({
        ...warningBase(config, ctx),
        windowFrom: window.from,
        openPeriods: options.openPeriods,
        sees: 'edits and deletions (the Reports API has no changed-since filter)',
      });
  const withNames = reportNames(http, config);
  for (let part = resumed?.part ?? 0; part < parts.length; part++) {
    let position: ReportPosition | null = part === (resumed?.part ?? 0) ? (resumed?.position ?? null) : null;
    for (;;) {
      const { rows, next } = await searchTimeEntries(http, String(config.workspaceId), {
        start_date: parts[part]!.from,
        end_date: parts[part]!.to,
        page_size: config.pageSize,
        ...(position ?? {}),
      });
      const pending = next ? { window, part, position: next } : part + 1 < parts.length ? { window, part: part + 1, position: null } : null;
      const records = [];
      for (const row of rows) {
        const { time_entries, ...rest } = row;
        const shared = await withNames(rest);
        for (const entry of time_entries ?? []) {
          records.push({ ref: { id: String(entry.id) }, data: { via: 'report', row: shared, entry } satisfies TogglRawRecord });
        }
      }
      const page: SourcePage = { stream: TOGGL_STREAM, records, cursor: pending ? { v: 1, synced, pending } : { v: 1, synced: true } };
      if (warning) {
        page.warnings = [warning];
        warning = undefined;
      }
      if (!pending && !resumed) page.reconcile = { from: window.from, to: window.to };
      yield page;
      if (!next) break;
      position = next;
    }
  }
}

async function* readMe(config: TogglConfig, options: ReadOptions, ctx: ConnectorContext): AsyncIterable<SourcePage> {
  const http = togglHttp(config, ctx);
  const cursor = parseCursor(options.cursors[TOGGL_STREAM]);
  const ceiling = Math.floor(cursorCeiling(ctx.now, config.safetyLagSeconds).getTime() / 1000);
  const me = await fetchMe(http);
  const reach = Math.floor(ctx.now.getTime() / 1000) - SINCE_REACH_DAYS * 86_400;
  let entries: Awaited<ReturnType<typeof fetchMyTimeEntries>>;
  let reconcile: SourcePage['reconcile'];
  if (cursor?.since !== undefined && cursor.since >= reach) {
    // Modified since: includes deletions (server_deleted_at).
    entries = await fetchMyTimeEntries(http, { since: cursor.since });
  } else {
    // First run, or a cursor older than `since` can reach: list a window (deletions then show
    // as absence, so the window is a reconciliation).
    const window = windowForRun({
      now: ctx.now,
      timeZone: config.timeZone,
      synced: false,
      ...(config.startDate ? { startDate: config.startDate } : {}),
      defaultHistoryDays: SINCE_REACH_DAYS,
      reconcileDays: config.reconcileDays,
    });
    entries = await fetchMyTimeEntries(http, { start_date: window.from, end_date: window.to });
    reconcile = { from: window.from, to: window.to };
  }
  const deleted = entries.filter((e) => e.server_deleted_at).map((e) => String(e.id));
  const live = await withMyNames(
    http,
    entries.filter((e) => !e.server_deleted_at).map((e) => modernFields(e, me.id)),
  );
  const page: SourcePage = {
    stream: TOGGL_STREAM,
    records: live.map((entry) => ({
      ref: { id: String(entry.id) },
      data: { via: 'me', entry, userName: me.fullname ?? null } satisfies TogglRawRecord,
    })),
    cursor: { v: 1, since: ceiling },
  };
  if (deleted.length > 0) page.deletedExternalIds = deleted;
  if (reconcile) page.reconcile = reconcile;
  yield page;
}

/**
 * The documented v9 payloads still use wid/pid/tid/uid beside (or instead of) the long names.
 * Every `me` entry is the token owner's, so a missing user id is theirs.
 */
function modernFields(e: TogglV9TimeEntry, ownerId: number): TogglV9TimeEntry {
  return {
    ...e,
    workspace_id: e.workspace_id ?? e.wid ?? 0,
    project_id: e.project_id ?? e.pid ?? null,
    task_id: e.task_id ?? e.tid ?? null,
    user_id: e.user_id ?? e.uid ?? ownerId,
  };
}

/**
 * Client (and project) names for `me` entries that came without them: looked up once per read,
 * only when needed, through the entry's project. Without this an entry as Toggl documents it
 * (project_id, no client_name) had no client and was quarantined.
 */
async function withMyNames(http: ReturnType<typeof togglHttp>, entries: TogglV9TimeEntry[]): Promise<TogglV9TimeEntry[]> {
  const lacking = (e: TogglV9TimeEntry) => Boolean(e.project_id) && (!e.client_name || !e.project_name);
  if (!entries.some(lacking)) return entries;
  const names = await fetchMyNames(http);
  return entries.map((e) => {
    if (!lacking(e)) return e;
    const project = names.projects.get(e.project_id!);
    const client = project?.client_id ? names.clients.get(project.client_id) : undefined;
    return { ...e, project_name: e.project_name || project?.name || null, client_name: e.client_name || client || null };
  });
}

/**
 * A live pull (webhook): just the named entries, from the Reports API's `time_entry_ids` filter
 * (https://engineering.toggl.com/docs/track/reports/detailed_reports#post-search-time-entries)
 * or, in the `me` scope, the token owner's listing of the window. Ids reported deleted that the
 * source no longer lists are passed on as deleted; no reconciliation, no cursor.
 */
async function* readOnly(config: TogglConfig, only: LiveSelection, ctx: ConnectorContext): AsyncIterable<SourcePage> {
  const http = togglHttp(config, ctx);
  const wanted = new Set(only.externalIds);
  const records: SourcePage['records'] = [];
  if (config.scope === 'me') {
    const me = await fetchMe(http);
    const listed = await fetchMyTimeEntries(http, { start_date: only.window.from, end_date: only.window.to });
    const live = await withMyNames(
      http,
      listed.filter((e) => wanted.has(String(e.id)) && !e.server_deleted_at).map((e) => modernFields(e, me.id)),
    );
    for (const entry of live)
      records.push({ ref: { id: String(entry.id) }, data: { via: 'me', entry, userName: me.fullname ?? null } satisfies TogglRawRecord });
  } else {
    const withNames = reportNames(http, config);
    const ids = only.externalIds.map(Number).filter((n) => Number.isSafeInteger(n));
    let position: ReportPosition | null = null;
    while (ids.length > 0) {
      const { rows, next }: Awaited<ReturnType<typeof searchTimeEntries>> = await searchTimeEntries(http, String(config.workspaceId), {
        start_date: only.window.from,
        end_date: only.window.to,
        page_size: config.pageSize,
        time_entry_ids: ids,
        ...(position ?? {}),
      });
      for (const row of rows) {
        const { time_entries, ...rest } = row;
        const shared = await withNames(rest);
        for (const entry of time_entries ?? []) {
          if (wanted.has(String(entry.id)))
            records.push({ ref: { id: String(entry.id) }, data: { via: 'report', row: shared, entry } satisfies TogglRawRecord });
        }
      }
      if (!next) break;
      position = next;
    }
  }
  const seen = new Set(records.map((r) => r.ref.id));
  yield { stream: TOGGL_STREAM, records, cursor: null, deletedExternalIds: only.deleted.filter((id) => !seen.has(id)) };
}

async function* readToggl(config: TogglConfig, options: ReadOptions, ctx: ConnectorContext): AsyncIterable<SourcePage> {
  try {
    if (options.only) yield* readOnly(config, options.only, ctx);
    else yield* config.scope === 'me' ? readMe(config, options, ctx) : readWorkspace(config, options, ctx);
  } catch (err) {
    throw asConnectorError(`toggl (${config.id})`, err, [config.apiToken]);
  }
}

async function checkToggl(config: TogglConfig, ctx: ConnectorContext): Promise<CheckResult> {
  return checkWith(`toggl (${config.id})`, [config.apiToken], async () => {
    const me = await fetchMe(togglHttp(config, ctx));
    return `token accepted for ${me.fullname ?? me.email ?? `user ${me.id}`}; reading workspace ${config.workspaceId}.`;
  });
}

export const togglSource: SourceConnector<TogglConfig> = {
  kind: 'toggl',
  role: 'source',
  mode: 'incremental',
  configSchema: TogglConfigSchema,
  secretFields: ['apiToken'],
  check: checkToggl,
  webhooks: togglWebhooks,
  read: readToggl,
  map: (record, config, ctx) => togglToTimeEntry(record, config, ctx.now),
};

export default togglSource;
export { TogglConfigSchema } from './config.schema';
export type { TogglConfig } from './config.schema';
