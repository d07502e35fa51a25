import { createHttpClient, type HttpClient } from '../../src/http/client';
import { retryPolicy } from '../../src/http/settings';
import type { ConnectorContext } from '../../src/connectors/contract';
import type { KimaiConfig } from './config.schema';
import type { KimaiTimesheet, KimaiUser } from './types';

export const KIMAI_AUTH_HINT =
  "the Kimai API token (KIMAI_API_TOKEN), that baseUrl ends in /api of the installation, auth (bearer for Kimai 2, legacy with user for older versions), and that the user may view other users' timesheets";

export function kimaiHttp(config: KimaiConfig, ctx: ConnectorContext): HttpClient {
  // https://www.kimai.org/documentation/rest-api.html (Authentication)
  const headers: Record<string, string> =
    config.auth === 'legacy'
      ? { 'X-AUTH-USER': config.user ?? '', 'X-AUTH-TOKEN': config.token, Accept: 'application/json' }
      : { Authorization: `Bearer ${config.token}`, Accept: 'application/json' };
  let origin = config.baseUrl;
  try {
    origin = new URL(config.baseUrl).origin;
  } catch {
    /* keep as is */
  }
  return createHttpClient({
    connector: `kimai (${config.id})`,
    baseUrl: config.baseUrl,
    headers,
    secrets: [config.token],
    authHint: KIMAI_AUTH_HINT,
    rateLimit: { key: `kimai:${origin}`, points: config.rateLimit.requests, windowMs: config.rateLimit.perSeconds * 1000 },
    ...(ctx.services?.redisUrl ? { redisUrl: ctx.services.redisUrl } : {}),
    retry: retryPolicy(config.retry),
    log: ctx.log,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

export type TimesheetsQuery = {
  begin?: string;
  end?: string;
  modified_after?: string;
  page: number;
  size: number;
};

export interface TimesheetsPage {
  entries: KimaiTimesheet[];
  /** From X-Total-Pages; null when the header is missing. */
  totalPages: number | null;
}

// https://www.kimai.org/documentation/rest-api.html — GET /api/timesheets (user=all, full=true,
// order by begin ascending; pagination headers X-Page, X-Total-Count, X-Total-Pages, X-Per-Page)
export async function fetchTimesheets(http: HttpClient, q: TimesheetsQuery): Promise<TimesheetsPage> {
  const params: Record<string, string | number> = { user: 'all', full: 'true', orderBy: 'begin', order: 'ASC', page: q.page, size: q.size };
  if (q.begin) params.begin = q.begin;
  if (q.end) params.end = q.end;
  if (q.modified_after) params.modified_after = q.modified_after;
  const res = await http.request<KimaiTimesheet[]>({ url: 'timesheets', params });
  const header = (res.headers as Record<string, unknown> | undefined)?.['x-total-pages'];
  const totalPages = header === undefined || header === null || header === '' ? null : Number(header);
  return { entries: Array.isArray(res.data) ? res.data : [], totalPages: Number.isFinite(totalPages) ? totalPages : null };
}

// https://www.kimai.org/documentation/rest-api.html — GET /api/users/me
export async function fetchMe(http: HttpClient): Promise<KimaiUser> {
  return (await http.request<KimaiUser>({ url: 'users/me' })).data;
}
