import { ConnectorError } from '../../src/connectors/errors';
import { createHttpClient, type HttpClient } from '../../src/http/client';
import { retryPolicy } from '../../src/http/settings';
import type { ConnectorContext } from '../../src/connectors/contract';
import type { ClockifyConfig } from './config.schema';
import type { ClockifyDetailedReport, ClockifyTimeEntry, ClockifyUser } from './types';

export const CLOCKIFY_AUTH_HINT =
  "the Clockify API key (CLOCKIFY_API_KEY), the workspaceId, that the key's user may see every member's time (workspace admin), and that baseUrl/reportsBaseUrl match the workspace's region";

export function clockifyHttp(config: ClockifyConfig, ctx: ConnectorContext, which: 'api' | 'reports'): HttpClient {
  return createHttpClient({
    connector: `clockify (${config.id})`,
    baseUrl: which === 'api' ? config.baseUrl : config.reportsBaseUrl,
    headers: { 'X-Api-Key': config.apiKey, 'Content-Type': 'application/json' },
    secrets: [config.apiKey],
    authHint: CLOCKIFY_AUTH_HINT,
    // One budget per workspace, shared by the API and reports hosts.
    rateLimit: { key: `clockify:${config.workspaceId}`, points: config.rateLimit.requests, windowMs: config.rateLimit.perSeconds * 1000 },
    ...(ctx.services?.redisUrl ? { redisUrl: ctx.services.redisUrl } : {}),
    retry: retryPolicy(config.retry),
    log: ctx.log,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

// https://docs.clockify.me/#tag/User/operation/getLoggedUser
export async function fetchCurrentUser(http: HttpClient): Promise<ClockifyUser> {
  return (await http.request<ClockifyUser>({ url: 'user' })).data;
}

// https://docs.clockify.me/#tag/Time-Entry-Report/operation/generateDetailedReport
export async function fetchDetailedReport(
  http: HttpClient,
  workspaceId: string,
  body: { dateRangeStart: string; dateRangeEnd: string; page: number; pageSize: number; timeZone: string },
): Promise<ClockifyDetailedReport> {
  const res = await http.request<ClockifyDetailedReport>({
    method: 'POST',
    url: `workspaces/${encodeURIComponent(workspaceId)}/reports/detailed`,
    data: {
      dateRangeStart: body.dateRangeStart,
      dateRangeEnd: body.dateRangeEnd,
      dateRangeType: 'ABSOLUTE',
      timeZone: body.timeZone,
      exportType: 'JSON',
      sortOrder: 'ASCENDING',
      detailedFilter: { page: body.page, pageSize: body.pageSize, sortColumn: 'DATE', options: { totals: 'CALCULATE' } },
    },
  });
  return res.data;
}

// https://docs.clockify.me/#tag/User/operation/getUsersOfWorkspace
export async function fetchWorkspaceUsers(http: HttpClient, workspaceId: string): Promise<ClockifyUser[]> {
  const users: ClockifyUser[] = [];
  const pageSize = 500;
  for (let page = 1; ; page++) {
    const res = await http.request<ClockifyUser[]>({
      url: `workspaces/${encodeURIComponent(workspaceId)}/users`,
      params: { page, 'page-size': pageSize },
    });
    const batch = Array.isArray(res.data) ? res.data : [];
    users.push(...batch);
    if (batch.length < pageSize) return users;
  }
}

// https://docs.clockify.me/#tag/Time-entry/operation/getTimeEntries
export async function fetchUserTimeEntries(
  http: HttpClient,
  workspaceId: string,
  userId: string,
  q: { start: string; end: string; page: number; pageSize: number },
): Promise<ClockifyTimeEntry[]> {
  const res = await http.request<ClockifyTimeEntry[]>({
    url: `workspaces/${encodeURIComponent(workspaceId)}/user/${encodeURIComponent(userId)}/time-entries`,
    params: { start: q.start, end: q.end, page: q.page, 'page-size': q.pageSize, hydrated: true },
  });
  return Array.isArray(res.data) ? res.data : [];
}

// https://docs.clockify.me/#tag/Time-entry/operation/getTimeEntry : one entry of the workspace
// (hydrated: project, task and tags by name); 404 once it is deleted.
export async function fetchTimeEntry(http: HttpClient, workspaceId: string, id: string): Promise<ClockifyTimeEntry | undefined> {
  try {
    const res = await http.request<ClockifyTimeEntry>({
      url: `workspaces/${encodeURIComponent(workspaceId)}/time-entries/${encodeURIComponent(id)}`,
      params: { hydrated: true },
    });
    return res.data && typeof res.data === 'object' ? res.data : undefined;
  } catch (err) {
    if (err instanceof ConnectorError && err.details.status === 404) return undefined;
    throw err;
  }
}
