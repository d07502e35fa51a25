import { DateTime } from 'luxon';
import { ConnectorError } from '../../src/connectors/errors';
import type { DateWindow } from '../../src/http/window';
import type { PaginationConfig, RestConfig } from './config.schema';
import type { RestHttp } from './client';
import { isBlankValue, resolvePointer } from './pointer';

/** Where the next listing request starts; JSON for the cursor (no secret: see RestHttp.storable). */
export type Position = { page: number } | { offset: number } | { token: string } | { url: string };

export interface FetchedPage {
  records: unknown[];
  /** null: this was the last page. */
  next: Position | null;
}

/**
 * The `Link` header's rel="next" target (RFC 8288 §3: `<uri>; rel="next", <uri>; rel="last"`).
 * Hand-written: one split and one regex over a header the API sends once per page, where a
 * package would add a dependency for the same two lines.
 */
export function nextLink(header: unknown): string | undefined {
  const text = Array.isArray(header) ? header.join(',') : typeof header === 'string' ? header : '';
  for (const part of text.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (!m) continue;
    const rel = /(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(m[2]!);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) return m[1];
  }
  return undefined;
}

function sizeParams(p: PaginationConfig): Record<string, number> {
  if (p.type === 'offset') return { [p.limitParam]: p.limit };
  if (p.type === 'none') return {};
  return p.sizeParam ? { [p.sizeParam]: p.size } : {};
}

/** Query parameters of a page request that starts a listing or continues it at `pos`. */
export function pageParams(p: PaginationConfig, pos: Position | null): Record<string, string | number> {
  const out: Record<string, string | number> = { ...sizeParams(p) };
  if (p.type === 'page') out[p.pageParam] = pos && 'page' in pos ? pos.page : p.firstPage;
  if (p.type === 'offset') out[p.offsetParam] = pos && 'offset' in pos ? pos.offset : 0;
  if (p.type === 'cursor' && pos && 'token' in pos) out[p.cursorParam] = pos.token;
  return out;
}

function count(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

const MAX_DEPTH = 3;

/**
 * JSON:API compound documents (https://jsonapi.org/format/#document-compound-documents): each
 * relationship's `data` ({type, id}) is replaced by the included resource it names, to
 * MAX_DEPTH levels, so one pointer reaches e.g. the person's name. New objects throughout: the
 * included resources are shared between records and stay untouched.
 */
export function resolveIncluded(record: unknown, included: unknown): unknown {
  return includedResolver(included)(record);
}

/** The resolver of one page's included resources (indexed once per page, not per record). */
export function includedResolver(included: unknown): (record: unknown) => unknown {
  if (!Array.isArray(included) || included.length === 0) return (record) => record;
  const index = new Map<string, unknown>();
  for (const r of included) {
    if (r && typeof r === 'object') {
      const { type, id } = r as { type?: unknown; id?: unknown };
      if (type !== undefined && id !== undefined) index.set(`${String(type)}\u001f${String(id)}`, r);
    }
  }
  const link = (ref: unknown, depth: number): unknown => {
    if (!ref || typeof ref !== 'object' || Array.isArray(ref)) return ref;
    const { type, id } = ref as { type?: unknown; id?: unknown };
    const hit = index.get(`${String(type)}\u001f${String(id)}`);
    return hit ? expand(hit, depth + 1) : ref;
  };
  const expand = (resource: unknown, depth: number): unknown => {
    if (!resource || typeof resource !== 'object' || depth > MAX_DEPTH) return resource;
    const res = resource as { relationships?: Record<string, { data?: unknown } | null> };
    if (!res.relationships || typeof res.relationships !== 'object') return resource;
    const relationships: Record<string, unknown> = {};
    for (const [name, rel] of Object.entries(res.relationships)) {
      if (!rel || typeof rel !== 'object' || !('data' in rel)) {
        relationships[name] = rel;
        continue;
      }
      const data = Array.isArray(rel.data) ? rel.data.map((d) => link(d, depth)) : link(rel.data, depth);
      relationships[name] = { ...rel, data };
    }
    return { ...res, relationships };
  };
  return (record) => expand(record, 0);
}

/** One listing request: the records on it and where the next page starts. */
export async function fetchPage(
  http: RestHttp,
  config: RestConfig,
  filters: Record<string, string | number | boolean>,
  pos: Position | null,
): Promise<FetchedPage> {
  const who = `rest (${config.id})`;
  const p = config.pagination;
  // https://datatracker.ietf.org/doc/html/rfc8288 (Link) and each API's own paging: a URL the
  // API gave already carries its query; otherwise the request is path + params + position.
  const fromUrl = pos && 'url' in pos;
  const res = fromUrl
    ? await http.get(pos.url, {})
    : await http.get(config.request.path, { ...config.request.params, ...filters, ...pageParams(p, pos) });
  const body = res.data;
  const list = resolvePointer(body, config.records.path);
  if (!Array.isArray(list)) {
    throw new ConnectorError(
      'permanent',
      `${who}: records.path ${JSON.stringify(config.records.path)} is not a list in the answer to GET ${config.request.path} (found ${list === undefined ? 'nothing' : Array.isArray(list) ? 'a list' : typeof list}); check records.path.`,
      { connector: who },
    );
  }
  const included = config.records.included !== undefined ? resolvePointer(body, config.records.included) : undefined;
  const resolve = included ? includedResolver(included) : undefined;
  const records = resolve ? list.map(resolve) : list;

  let next: Position | null = null;
  switch (p.type) {
    case 'none':
      break;
    case 'page': {
      const page = pos && 'page' in pos ? pos.page : p.firstPage;
      const total =
        (p.totalPagesPath !== undefined ? count(resolvePointer(body, p.totalPagesPath)) : undefined) ??
        (p.totalPagesHeader !== undefined ? count(res.headers[p.totalPagesHeader.toLowerCase()]) : undefined);
      const lastNumber = total === undefined ? undefined : total - 1 + p.firstPage;
      const more = lastNumber !== undefined ? page < lastNumber : list.length >= p.size;
      next = more && list.length > 0 ? { page: page + 1 } : null;
      break;
    }
    case 'offset': {
      const offset = pos && 'offset' in pos ? pos.offset : 0;
      const total = p.totalPath !== undefined ? count(resolvePointer(body, p.totalPath)) : undefined;
      const after = offset + list.length;
      const more = total !== undefined ? after < total : list.length >= p.limit;
      next = more && list.length > 0 ? { offset: after } : null;
      break;
    }
    case 'cursor': {
      const token = resolvePointer(body, p.cursorPath);
      if (!isBlankValue(token) && typeof token !== 'object') {
        const t = String(token);
        if (pos && 'token' in pos && pos.token === t) {
          throw new ConnectorError('permanent', `${who}: the cursor at ${p.cursorPath} did not move (${t}); check pagination.cursorPath.`, {
            connector: who,
          });
        }
        next = { token: t };
      }
      break;
    }
    case 'linkHeader':
    case 'nextUrl': {
      const raw = p.type === 'linkHeader' ? nextLink(res.headers.link) : resolvePointer(body, p.nextPath);
      if (typeof raw === 'string' && raw.trim() !== '') {
        const url = http.storable(new URL(raw.trim(), res.url).toString());
        if (fromUrl && url === http.storable(pos.url)) {
          throw new ConnectorError('permanent', `${who}: the next page link points at the page just read; check pagination.`, {
            connector: who,
          });
        }
        next = { url };
      }
      break;
    }
  }
  return { records, next };
}

export function formatParam(format: 'date' | 'datetime' | 'unix' | 'unixMs', at: DateTime): string | number {
  switch (format) {
    case 'date':
      return at.toISODate()!;
    case 'datetime':
      return at.toUTC().toISO({ suppressMilliseconds: true })!;
    case 'unix':
      return Math.floor(at.toSeconds());
    case 'unixMs':
      return at.toMillis();
  }
}

/** The date filters of the window listing, in the API's format (exclusive bounds widened by a day). */
export function windowParams(config: RestConfig, w: DateWindow): Record<string, string | number> {
  const win = config.window!;
  const zone = config.timeZone;
  let from = DateTime.fromISO(w.from, { zone }).startOf('day');
  let to = DateTime.fromISO(w.to, { zone }).endOf('day');
  if (win.fromExclusive) from = from.minus({ days: 1 });
  if (win.toExclusive) to = to.plus({ days: 1 }).startOf('day');
  const out: Record<string, string | number> = { [win.fromParam]: formatParam(win.format, from) };
  if (win.toParam) out[win.toParam] = formatParam(win.format, to.set({ millisecond: 0 }));
  return out;
}
