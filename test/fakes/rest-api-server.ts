import type http from 'node:http';
import { faultQueue, listen, readBody, sendJson, type Fault } from './fake-http';

/**
 * A local JSON API for the declarative REST source (`kind: rest`): one listing endpoint over a
 * list of records, filtered by a date window and an updated-since parameter, paged in any of the
 * styles the source supports, behind a configurable credential check. The vendor fakes
 * (Everhour, Productive) are instances of it with the payload shapes their docs publish.
 */
export type PagingStyle =
  | { type: 'none' }
  | { type: 'page'; pageParam: string; sizeParam: string; firstPage: 0 | 1; totalPagesAt?: 'body' | 'header' }
  | { type: 'offset'; offsetParam: string; limitParam: string }
  | { type: 'cursor'; cursorParam: string; sizeParam: string }
  | { type: 'linkHeader'; sizeParam: string; pageParam: string }
  | { type: 'nextUrl'; sizeParam: string; pageParam: string };

export interface RestApiOptions<R> {
  path: string;
  records: R[];
  paging: PagingStyle;
  defaultSize?: number;
  /** The record's work date (YYYY-MM-DD), for the window filter. */
  dateOf: (r: R) => string;
  /** The record's last change (epoch ms), for the updated-since filter. */
  updatedOf?: (r: R) => number;
  /** Query parameters of the window (values as the API documents them: dates). */
  window?: { fromParam: string; toParam?: string; exclusive?: boolean };
  /** Query parameter of the updated-since filter (ISO instant or date). */
  updatedSinceParam?: string;
  /** An answer that refuses the request before the credentials are looked at (e.g. 415 for a missing content type). */
  refuse?: (req: http.IncomingMessage) => { status: number; body: unknown } | undefined;
  /** True when the request carries valid credentials. */
  authorised: (req: http.IncomingMessage, url: URL) => boolean;
  /** The response body of one page (records already filtered and paged). */
  body: (
    page: R[],
    meta: { totalPages: number; totalCount: number; next?: string; cursor?: string; page: number; size: number },
  ) => unknown;
  /** Extra headers on every listing answer (rate-limit budget headers). */
  headers?: () => Record<string, string>;
  /** Answers other paths (token endpoints, look-ups); return false to 404. */
  extra?: (req: http.IncomingMessage, url: URL, body: unknown, res: http.ServerResponse) => boolean | Promise<boolean>;
}

export interface RestApiFake<R> {
  baseUrl: string;
  records: R[];
  stats: { listing: number; other: number; lastQuery: URLSearchParams | null; queries: URLSearchParams[] };
  fail(f: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

export async function startRestApiFake<R>(o: RestApiOptions<R>): Promise<RestApiFake<R>> {
  const faults = faultQueue();
  const stats: RestApiFake<R>['stats'] = { listing: 0, other: 0, lastQuery: null, queries: [] };
  const fake = { records: o.records } as RestApiFake<R>;
  const server = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const body = req.method === 'POST' ? await readBodySafe(req) : undefined;
    if (url.pathname !== o.path) {
      stats.other++;
      if (o.extra && (await o.extra(req, url, body, res))) return;
      return sendJson(res, 404, { error: 'not found' });
    }
    stats.listing++;
    stats.lastQuery = url.searchParams;
    stats.queries.push(url.searchParams);
    const fault = faults.take();
    if (fault) return sendJson(res, fault.status, fault.body ?? { error: 'fault' }, fault.headers);
    const refused = o.refuse?.(req);
    if (refused) return sendJson(res, refused.status, refused.body);
    if (!o.authorised(req, url)) return sendJson(res, 401, { error: 'unauthorised' });

    const q = url.searchParams;
    let rows = fake.records.slice();
    if (o.window) {
      const from = q.get(o.window.fromParam);
      const to = o.window.toParam ? q.get(o.window.toParam) : null;
      const day = (v: string) => v.slice(0, 10);
      if (from) rows = rows.filter((r) => (o.window!.exclusive ? o.dateOf(r) > day(from) : o.dateOf(r) >= day(from)));
      if (to) rows = rows.filter((r) => (o.window!.exclusive ? o.dateOf(r) < day(to) : o.dateOf(r) <= day(to)));
    }
    if (o.updatedSinceParam && o.updatedOf) {
      const since = q.get(o.updatedSinceParam);
      if (since) {
        const at = /^\d+$/.test(since) ? Number(since) * 1000 : Date.parse(since);
        rows = rows.filter((r) => o.updatedOf!(r) > at);
      }
    }
    const p = o.paging;
    const size = Number(q.get('sizeParam' in p ? p.sizeParam : p.type === 'offset' ? p.limitParam : '') || o.defaultSize || 100);
    const totalPages = Math.max(1, Math.ceil(rows.length / size));
    let offset = 0;
    let pageNo = 1;
    if (p.type === 'page') {
      pageNo = Number(q.get(p.pageParam) ?? p.firstPage) - p.firstPage + 1;
      offset = (pageNo - 1) * size;
    } else if (p.type === 'offset') offset = Number(q.get(p.offsetParam) ?? 0);
    else if (p.type === 'cursor') offset = q.get(p.cursorParam) ? Number(Buffer.from(q.get(p.cursorParam)!, 'base64url').toString()) : 0;
    else if (p.type === 'linkHeader' || p.type === 'nextUrl') {
      pageNo = Number(q.get(p.pageParam) ?? 1);
      offset = (pageNo - 1) * size;
    }
    const pageRows = p.type === 'none' ? rows : rows.slice(offset, offset + size);
    const more = p.type !== 'none' && offset + size < rows.length;
    const headers: Record<string, string> = { ...o.headers?.() };
    let next: string | undefined;
    let cursor: string | undefined;
    if (more && (p.type === 'linkHeader' || p.type === 'nextUrl')) {
      const n = new URL(`${fake.baseUrl}${url.pathname}${url.search}`);
      n.searchParams.set(p.pageParam, String(pageNo + 1));
      next = n.toString();
      if (p.type === 'linkHeader') headers.Link = `<${next}>; rel="next", <${fake.baseUrl}${o.path}?page=${totalPages}>; rel="last"`;
    }
    if (more && p.type === 'cursor') cursor = Buffer.from(String(offset + size)).toString('base64url');
    if (p.type === 'page' && p.totalPagesAt === 'header') headers['X-Total-Pages'] = String(totalPages);
    sendJson(res, 200, o.body(pageRows, { totalPages, totalCount: rows.length, next, cursor, page: pageNo, size }), headers);
  });
  fake.baseUrl = server.url;
  fake.stats = stats;
  fake.fail = (f) => faults.push(f);
  fake.clearFaults = () => faults.clear();
  fake.close = server.close;
  return fake;
}

async function readBodySafe(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  const type = String(req.headers['content-type'] ?? '');
  if (type.includes('application/json')) return readBody(req).catch(() => undefined);
  await new Promise<void>((resolve) => {
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve());
  });
  return Buffer.concat(chunks).toString('utf8');
}
