import { createHash } from 'node:crypto';
import { createHttpClient, type HttpClient } from '../../src/http/client';
import { retryPolicy } from '../../src/http/settings';
import type { ConnectorContext } from '../../src/connectors/contract';
import type { TogglConfig } from './config.schema';
import type { TogglMe, TogglReportRow, TogglV9TimeEntry } from './types';

export const TOGGL_AUTH_HINT =
  'the Toggl API token (TOGGL_API_TOKEN), the workspaceId, and that the token’s user is a workspace admin (workspace scope needs everyone’s entries)';

/** Toggl's limits are per user: the budget key is a one-way digest of the token, never the token. */
function tokenId(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

export function togglHttp(config: TogglConfig, ctx: ConnectorContext): HttpClient {
  return createHttpClient({
    connector: `toggl (${config.id})`,
    baseUrl: config.baseUrl,
    // https://engineering.toggl.com/docs/authentication : Basic <token>:api_token
    headers: {
      Authorization: `Basic ${Buffer.from(`${config.apiToken}:api_token`).toString('base64')}`,
      'Content-Type': 'application/json',
    },
    secrets: [config.apiToken, Buffer.from(`${config.apiToken}:api_token`).toString('base64')],
    authHint: TOGGL_AUTH_HINT,
    rateLimit: {
      key: `toggl:${tokenId(config.apiToken)}`,
      points: config.rateLimit.requests,
      windowMs: config.rateLimit.perSeconds * 1000,
    },
    ...(ctx.services?.redisUrl ? { redisUrl: ctx.services.redisUrl } : {}),
    // 402: hourly quota exhausted; the reset header says when it comes back.
    retry: { ...retryPolicy(config.retry), resetHeaders: ['x-toggl-quota-resets-in'] },
    log: ctx.log,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

// https://engineering.toggl.com/docs/api/me#get-me
export async function fetchMe(http: HttpClient): Promise<TogglMe> {
  return (await http.request<TogglMe>({ url: 'api/v9/me' })).data;
}

export interface ReportPosition {
  first_id?: number;
  first_row_number?: number;
  first_timestamp?: number;
}

// https://engineering.toggl.com/docs/reports/detailed_reports#post-search-time-entries
// Pagination: echo the X-Next-ID / X-Next-Row-Number / X-Next-Timestamp headers in the next body.
export async function searchTimeEntries(
  http: HttpClient,
  workspaceId: string,
  q: { start_date: string; end_date: string; page_size: number; time_entry_ids?: number[] } & ReportPosition,
): Promise<{ rows: TogglReportRow[]; next: ReportPosition | null }> {
  const res = await http.request<TogglReportRow[]>({
    method: 'POST',
    url: `reports/api/v3/workspace/${encodeURIComponent(workspaceId)}/search/time_entries`,
    data: { ...q, order_by: 'date', order_dir: 'ASC', enrich_response: true, grouped: false },
  });
  const id = res.headers['x-next-id'];
  const num = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : Number(Array.isArray(v) ? v[0] : v));
  const next =
    num(id) !== undefined
      ? {
          first_id: num(id)!,
          first_row_number: num(res.headers['x-next-row-number'])!,
          first_timestamp: num(res.headers['x-next-timestamp'])!,
        }
      : null;
  return { rows: Array.isArray(res.data) ? res.data : [], next };
}

// https://engineering.toggl.com/docs/api/time_entries#get-timeentries
export async function fetchMyTimeEntries(
  http: HttpClient,
  q: { since: number } | { start_date: string; end_date: string },
): Promise<TogglV9TimeEntry[]> {
  const res = await http.request<TogglV9TimeEntry[]>({ url: 'api/v9/me/time_entries', params: { ...q, meta: true } });
  return Array.isArray(res.data) ? res.data : [];
}

export interface TogglNames {
  projects: Map<number, { name: string; client_id: number | null }>;
  clients: Map<number, string>;
  users: Map<number, string>;
}

// Fallback when report rows come without names (not enriched):
// https://engineering.toggl.com/docs/api/projects#get-workspaceprojects
// https://engineering.toggl.com/docs/api/clients#get-list-clients
// https://engineering.toggl.com/docs/api/workspaces#get-workspace-users
export async function fetchNames(http: HttpClient, workspaceId: string): Promise<TogglNames> {
  const ws = encodeURIComponent(workspaceId);
  const projects = new Map<number, { name: string; client_id: number | null }>();
  const perPage = 200;
  for (let page = 1; ; page++) {
    const res = await http.request<Array<{ id: number; name: string; client_id?: number | null }>>({
      url: `api/v9/workspaces/${ws}/projects`,
      params: { active: 'both', page, per_page: perPage },
    });
    const batch = Array.isArray(res.data) ? res.data : [];
    for (const p of batch) projects.set(p.id, { name: p.name, client_id: p.client_id ?? null });
    if (batch.length < perPage) break;
  }
  const clientsRes = await http.request<Array<{ id: number; name: string }> | null>({
    url: `api/v9/workspaces/${ws}/clients`,
    params: { status: 'both' },
  });
  const usersRes = await http.request<Array<{ id: number; fullname?: string; name?: string }> | null>({
    url: `api/v9/workspaces/${ws}/users`,
  });
  return {
    projects,
    clients: new Map((clientsRes.data ?? []).map((c) => [c.id, c.name])),
    users: new Map((usersRes.data ?? []).map((u) => [u.id, u.fullname ?? u.name ?? ''])),
  };
}

/**
 * Names for the `me` scope: the projects and clients the token's user can see. v9 time entries
 * carry `client_name` only when the server honours `meta=true`; the documented entry itself has
 * just `project_id` (legacy `pid`), so the client is looked up through the project.
 * https://engineering.toggl.com/docs/api/me#get-projects
 * https://engineering.toggl.com/docs/api/me#get-clients
 */
export async function fetchMyNames(http: HttpClient): Promise<Pick<TogglNames, 'projects' | 'clients'>> {
  const projectsRes = await http.request<Array<{ id: number; name: string; client_id?: number | null; cid?: number | null }> | null>({
    url: 'api/v9/me/projects',
    params: { include_archived: true },
  });
  const clientsRes = await http.request<Array<{ id: number; name: string }> | null>({ url: 'api/v9/me/clients' });
  return {
    projects: new Map(
      (Array.isArray(projectsRes.data) ? projectsRes.data : []).map((p) => [
        p.id,
        { name: p.name, client_id: p.client_id ?? p.cid ?? null },
      ]),
    ),
    clients: new Map((Array.isArray(clientsRes.data) ? clientsRes.data : []).map((c) => [c.id, c.name])),
  };
}
