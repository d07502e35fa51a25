import { DateTime } from 'luxon';
import type { KimaiTimesheet, KimaiUser } from '../../connectors/kimai/types';
import { faultQueue, listen, sendJson, type Fault } from './fake-http';

/**
 * Local fake of a Kimai 2 installation, from https://www.kimai.org/documentation/rest-api.html :
 * - auth: `Authorization: Bearer <token>` (Kimai 2) or `X-AUTH-USER` + `X-AUTH-TOKEN` (older);
 *   anything else is answered 401 {"code":401,"message":"Unauthorized"}.
 * - GET /api/users/me → the token's user.
 * - GET /api/timesheets?user=all&full=true&begin&end&modified_after&page&size → a bare JSON array
 *   ordered by begin, with the pagination headers X-Page, X-Total-Count, X-Total-Pages, X-Per-Page.
 *   begin/end/modified_after are HTML5 local date-times (2019-03-14T10:00:00) in the user's zone.
 *   begin/end compare with the timesheet's begin; modified_after with its last change.
 */
export interface KimaiFakeEntry extends KimaiTimesheet {
  /** Not in the payload: the fake's record of the last change (for modified_after). */
  modifiedAt?: string;
}

export interface KimaiFake {
  baseUrl: string;
  entries: KimaiFakeEntry[];
  stats: { listing: number; lastQuery: URLSearchParams | null };
  /** Marks an entry changed now (what Kimai does on every edit). */
  touch(e: KimaiFakeEntry): void;
  fail(f: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

/** Kimai serialises date-times in the user's zone with a basic offset: 2019-03-14T10:00:00+0100. */
export function kimaiTime(d: DateTime, zone: string): string {
  return d.setZone(zone).toFormat("yyyy-MM-dd'T'HH:mm:ssZZZ");
}

/**
 * A row of GET /api/timesheets?full=true (https://www.kimai.org/documentation/rest-api.html,
 * TimesheetCollectionExpanded in Kimai's OpenAPI document): `seconds` from `begin`, 85.00 an hour.
 */
export function fakeTimesheet(
  i: number,
  begin: DateTime,
  seconds: number,
  zone: string,
  overrides: Partial<KimaiFakeEntry> = {},
): KimaiFakeEntry {
  return {
    id: 100 + i,
    begin: kimaiTime(begin, zone),
    end: kimaiTime(begin.plus({ seconds }), zone),
    duration: seconds,
    description: `Task ${i}`,
    rate: (seconds / 3600) * 85,
    hourlyRate: 85,
    fixedRate: null,
    internalRate: 40,
    exported: false,
    billable: true,
    tags: [],
    user: { id: 1, username: 'ada', alias: 'Ada Worker' },
    project: { id: 7, name: 'Website', customer: { id: 3, name: 'Acme BV', currency: 'EUR' } },
    activity: { id: 11, name: 'Development' },
    metaFields: [],
    ...overrides,
  };
}

/** Payload form without the fake's bookkeeping. */
function payload(e: KimaiFakeEntry): KimaiTimesheet {
  const { modifiedAt: _ignored, ...rest } = e;
  return rest;
}

export async function startKimaiFake(opts: {
  token: string;
  user: KimaiUser;
  timeZone: string;
  entries: KimaiFakeEntry[];
}): Promise<KimaiFake> {
  const faults = faultQueue();
  const state = { entries: opts.entries, stats: { listing: 0, lastQuery: null as URLSearchParams | null } };
  const old = new Date(Date.now() - 7200_000).toISOString();
  for (const e of state.entries) e.modifiedAt ??= old;
  const local = (v: string | null) => (v ? DateTime.fromISO(v, { zone: opts.timeZone }) : null);
  const server = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const bearer = req.headers.authorization === `Bearer ${opts.token}`;
    const legacy = req.headers['x-auth-user'] === opts.user.username && req.headers['x-auth-token'] === opts.token;
    if (!bearer && !legacy) return sendJson(res, 401, { code: 401, message: 'Unauthorized' });
    if (req.method === 'GET' && url.pathname === '/api/users/me') return sendJson(res, 200, opts.user);
    if (req.method === 'GET' && url.pathname === '/api/timesheets') {
      state.stats.listing++;
      state.stats.lastQuery = url.searchParams;
      const f = faults.take();
      if (f) return sendJson(res, f.status, f.body ?? { code: f.status, message: 'fault' }, f.headers);
      const q = url.searchParams;
      const begin = local(q.get('begin'));
      const end = local(q.get('end'));
      const modifiedAfter = local(q.get('modified_after'));
      const page = Number(q.get('page') ?? 1);
      const size = Number(q.get('size') ?? 50);
      const all = state.entries
        .filter((e) => {
          const b = DateTime.fromISO(String(e.begin), { setZone: true });
          if (!b.isValid) return true; // malformed rows are still listed
          if (begin && b < begin) return false;
          if (end && b > end) return false;
          if (modifiedAfter && DateTime.fromISO(e.modifiedAt!) < modifiedAfter) return false;
          return true;
        })
        .sort((a, b) => String(a.begin).localeCompare(String(b.begin)) || a.id - b.id);
      const totalPages = Math.ceil(all.length / size);
      if (page > Math.max(totalPages, 1)) return sendJson(res, 404, { code: 404, message: 'Not Found' });
      return sendJson(res, 200, all.slice((page - 1) * size, page * size).map(payload), {
        'X-Page': String(page),
        'X-Total-Count': String(all.length),
        'X-Total-Pages': String(totalPages),
        'X-Per-Page': String(size),
      });
    }
    sendJson(res, 404, { code: 404, message: 'Not Found' });
  });
  return {
    baseUrl: `${server.url}/api`,
    get entries() {
      return state.entries;
    },
    stats: state.stats,
    touch: (e) => {
      e.modifiedAt = new Date().toISOString();
    },
    fail: (f) => faults.push(f),
    clearFaults: () => faults.clear(),
    close: server.close,
  };
}
