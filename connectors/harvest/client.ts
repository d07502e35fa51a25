import { createHttpClient, type HttpClient } from '../../src/http/client';
import { retryPolicy } from '../../src/http/settings';
import type { ConnectorContext } from '../../src/connectors/contract';
import type { HarvestConfig } from './config.schema';
import type { HarvestTimeEntriesPage, HarvestUser, HarvestUsersPage } from './types';

export const HARVEST_AUTH_HINT =
  'the Harvest token (HARVEST_TOKEN), the accountId (Harvest-Account-Id) it belongs to, and that the user may see all time entries of the account';

/** One HTTP client per read/check, sharing the account's 100 requests / 15 s budget. */
export function harvestHttp(config: HarvestConfig, ctx: ConnectorContext): HttpClient {
  const origin = safeOrigin(config.baseUrl);
  return createHttpClient({
    connector: `harvest (${config.id})`,
    baseUrl: config.baseUrl,
    headers: {
      Authorization: `Bearer ${config.token}`,
      'Harvest-Account-Id': String(config.accountId),
      'User-Agent': config.userAgent,
    },
    secrets: [config.token],
    authHint: HARVEST_AUTH_HINT,
    rateLimit: {
      key: `harvest:${origin}:${config.accountId}`,
      points: config.rateLimit.requests,
      windowMs: config.rateLimit.perSeconds * 1000,
    },
    ...(ctx.services?.redisUrl ? { redisUrl: ctx.services.redisUrl } : {}),
    retry: retryPolicy(config.retry),
    log: ctx.log,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export type TimeEntriesQuery = {
  updated_since?: string;
  from?: string;
  to?: string;
  per_page: number;
};

// https://help.getharvest.com/api-v2/timesheets-api/timesheets/time-entries/#list-all-time-entries
export function timeEntriesUrl(http: HttpClient, query: TimeEntriesQuery): string {
  const u = new URL(http.resolve('time_entries'));
  for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
  return u.toString();
}

// https://help.getharvest.com/api-v2/timesheets-api/timesheets/time-entries/#list-all-time-entries
// (`url` is the first page built by timeEntriesUrl, or a `links.next` Harvest returned)
export async function fetchTimeEntriesPage(http: HttpClient, url: string): Promise<HarvestTimeEntriesPage> {
  const res = await http.request<HarvestTimeEntriesPage>({ url });
  return res.data;
}

// https://help.getharvest.com/api-v2/users-api/users/users/#list-all-users
export async function fetchAllUsers(http: HttpClient): Promise<HarvestUser[]> {
  const users: HarvestUser[] = [];
  let url: string | null = `${http.resolve('users')}?per_page=2000`;
  while (url) {
    const res: { data: HarvestUsersPage } = await http.request<HarvestUsersPage>({ url });
    users.push(...(res.data.users ?? []));
    url = res.data.links?.next ?? null;
  }
  return users;
}

// https://help.getharvest.com/api-v2/users-api/users/users/#retrieve-the-currently-authenticated-user
export async function fetchMe(http: HttpClient): Promise<HarvestUser> {
  return (await http.request<HarvestUser>({ url: 'users/me' })).data;
}
