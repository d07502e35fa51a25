import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { HarvestTimeEntriesPage, HarvestTimeEntry, HarvestUser } from '../../connectors/harvest/types';

/**
 * A local fake of the Harvest API v2 (https://help.getharvest.com/api-v2/), enough for the
 * connector: GET /v2/time_entries (updated_since, from, to, page, per_page ≤ 2000, links.next),
 * GET /v2/users, GET /v2/users/me. Enforces the documented headers and a fixed-window rate
 * limit (default 100 requests / 15 s, answered with 429 + Retry-After), and can inject faults.
 */
export interface HarvestFakeOptions {
  token: string;
  accountId: string;
  /** Explicit, mutable entries (conformance tests) … */
  entries?: HarvestTimeEntry[];
  /** … or N generated ones (benchmarks); generated entries are produced per page, not stored. */
  generate?: { count: number; make: (i: number) => HarvestTimeEntry };
  users?: HarvestUser[];
  rateLimit?: { requests: number; windowMs: number };
  maxPerPage?: number;
}

export interface Fault {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** How many consecutive time_entries requests get this answer. */
  times: number;
  /** Let this many time_entries requests through first. */
  after?: number;
}

export interface HarvestFake {
  url: string;
  baseUrl: string;
  entries: HarvestTimeEntry[];
  users: HarvestUser[];
  stats: { requests: number; timeEntryRequests: number; served: number; throttled: number; faulted: number };
  /** Queue a fault on upcoming time_entries requests. */
  fail(fault: Fault): void;
  clearFaults(): void;
  /** Replace an entry's fields and bump updated_at (an edit in Harvest). */
  edit(id: number, patch: Partial<HarvestTimeEntry>, at?: Date): void;
  remove(id: number): void;
  /** When set, GET /v2/users answers with this status (a role that may not list users, an outage). */
  usersStatus: number | null;
  close(): Promise<void>;
}

/** The page the documented example comes from. */
export const HARVEST_TIME_ENTRIES_DOCS = 'https://help.getharvest.com/api-v2/timesheets-api/timesheets/time-entries/';

/**
 * The documented "List all time entries" example response (GET /v2/time_entries), field for
 * field, from HARVEST_TIME_ENTRIES_DOCS (test/fixtures/harvest/list-time-entries.json): four
 * entries of Kim Allen; the first is `hours: 2.11` with started_time 3:00pm, ended_time 5:00pm,
 * billable at 100.0 and not invoiced; the other three are invoiced or non-billable.
 * A fresh copy per call: tests edit entries in place.
 */
export function documentedTimeEntries(): HarvestTimeEntry[] {
  const page = JSON.parse(
    readFileSync(new URL('../fixtures/harvest/list-time-entries.json', import.meta.url), 'utf8'),
  ) as HarvestTimeEntriesPage;
  return page.time_entries;
}

/** "3:00pm" for 15:00, as Harvest's 12-hour accounts write wall-clock times. */
export function harvestClock(minutesOfDay: number): string {
  const h = Math.floor(minutesOfDay / 60) % 24;
  const m = minutesOfDay % 60;
  return `${h % 12 === 0 ? 12 : h % 12}:${String(m).padStart(2, '0')}${h < 12 ? 'am' : 'pm'}`;
}

export function sampleUser(id: number, timezone = 'Amsterdam'): HarvestUser {
  return { id, first_name: `Worker`, last_name: `${id}`, email: `worker${id}@example.test`, timezone, is_active: true };
}

/** A plausible Harvest entry, deterministic in `i`. */
export function generatedEntry(i: number, base = Date.UTC(2024, 0, 1)): HarvestTimeEntry {
  const day = new Date(base + (i % 365) * 86_400_000).toISOString().slice(0, 10);
  const updated = new Date(base + i * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const userId = 1000 + (i % 20);
  return {
    id: 1_000_000 + i,
    spent_date: day,
    hours: ((i % 16) + 1) * 0.5,
    rounded_hours: ((i % 16) + 1) * 0.5,
    started_time: null,
    ended_time: null,
    user: { id: userId, name: `Worker ${userId}` },
    client: { id: 10 + (i % 7), name: `Client ${i % 7}`, currency: 'EUR' },
    project: { id: 100 + (i % 30), name: `Project ${i % 30}`, code: null },
    task: { id: 500 + (i % 5), name: `Task ${i % 5}` },
    billable: i % 10 !== 0,
    billable_rate: i % 10 !== 0 ? 95 : null,
    cost_rate: 40,
    is_billed: false,
    invoice: null,
    is_locked: false,
    locked_reason: null,
    approval_status: 'approved',
    is_running: false,
    notes: `Work item ${i}`,
    created_at: updated,
    updated_at: updated,
  };
}

export async function startHarvestFake(options: HarvestFakeOptions): Promise<HarvestFake> {
  const entries = options.entries ?? [];
  const users = options.users ?? [];
  const limit = options.rateLimit ?? { requests: 100, windowMs: 15_000 };
  const maxPerPage = options.maxPerPage ?? 2000;
  const faults: Fault[] = [];
  const stats = { requests: 0, timeEntryRequests: 0, served: 0, throttled: 0, faulted: 0 };
  const state = { usersStatus: null as number | null };
  let windowStart = 0;
  let windowCount = 0;

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const server = http.createServer((req, res) => {
    stats.requests++;
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const now = Date.now();
    // Fixed window starting with the first request after the previous window ended.
    if (now - windowStart >= limit.windowMs) {
      windowStart = now;
      windowCount = 0;
    }
    if (windowCount >= limit.requests) {
      stats.throttled++;
      const retryAfter = Math.max(1, Math.ceil((windowStart + limit.windowMs - now) / 1000));
      return send(res, 429, { message: 'Too Many Requests' }, { 'Retry-After': String(retryAfter) });
    }
    windowCount++;

    if (req.headers.authorization !== `Bearer ${options.token}` || req.headers['harvest-account-id'] !== options.accountId) {
      return send(res, 401, {
        error: 'invalid_token',
        error_description: 'The access token provided is expired, revoked, malformed or invalid for other reasons.',
      });
    }
    if (!req.headers['user-agent']) return send(res, 400, { message: 'User-Agent header required' });

    if (url.pathname === '/v2/users/me') {
      const me = users[0] ?? sampleUser(1);
      return send(res, 200, me);
    }
    // https://help.getharvest.com/api-v2/users-api/users/users/#list-all-users
    if (url.pathname === '/v2/users') {
      if (state.usersStatus) return send(res, state.usersStatus, { error: 'fault', error_description: `users fault ${state.usersStatus}` });
      return send(res, 200, { users, per_page: 2000, total_pages: 1, total_entries: users.length, page: 1, links: { next: null } });
    }
    if (url.pathname !== '/v2/time_entries') return send(res, 404, { status: 404, error: 'Not Found' });

    stats.timeEntryRequests++;
    const fault = faults[0];
    if (fault) {
      if (fault.after && fault.after > 0) {
        fault.after--;
      } else {
        fault.times--;
        if (fault.times <= 0) faults.shift();
        stats.faulted++;
        return send(res, fault.status, fault.body ?? { message: `fault ${fault.status}` }, fault.headers);
      }
    }

    const perPage = Math.min(maxPerPage, Math.max(1, Number(url.searchParams.get('per_page') ?? 2000)));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
    const updatedSince = url.searchParams.get('updated_since');
    const from = url.searchParams.get('from');
    const to = url.searchParams.get('to');
    const filtered = updatedSince !== null || from !== null || to !== null;

    let total: number;
    let slice: HarvestTimeEntry[];
    if (options.generate && !filtered) {
      total = options.generate.count;
      slice = [];
      for (let i = (page - 1) * perPage; i < Math.min(total, page * perPage); i++) slice.push(options.generate.make(i));
    } else {
      const all = options.generate ? Array.from({ length: options.generate.count }, (_, i) => options.generate!.make(i)) : entries;
      const since = updatedSince ? Date.parse(updatedSince) : null;
      const matching = all.filter(
        (e) =>
          (since === null || Date.parse(e.updated_at) >= since) &&
          (from === null || e.spent_date >= from) &&
          (to === null || e.spent_date <= to),
      );
      total = matching.length;
      slice = matching.slice((page - 1) * perPage, page * perPage);
    }
    const totalPages = Math.max(1, Math.ceil(total / perPage));
    const link = (p: number) => {
      const u = new URL(url);
      u.searchParams.set('page', String(p));
      u.searchParams.set('per_page', String(perPage));
      return u.toString();
    };
    stats.served += slice.length;
    send(res, 200, {
      time_entries: slice,
      per_page: perPage,
      total_pages: totalPages,
      total_entries: total,
      next_page: page < totalPages ? page + 1 : null,
      previous_page: page > 1 ? page - 1 : null,
      page,
      links: {
        first: link(1),
        next: page < totalPages ? link(page + 1) : null,
        previous: page > 1 ? link(page - 1) : null,
        last: link(totalPages),
      },
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseUrl: `${url}/v2`,
    entries,
    users,
    stats,
    fail: (f) => void faults.push({ ...f }),
    clearFaults: () => void faults.splice(0),
    edit(id, patch, at = new Date()) {
      const e = entries.find((x) => x.id === id);
      if (!e) throw new Error(`no entry ${id}`);
      Object.assign(e, patch, { updated_at: at.toISOString().replace(/\.\d{3}Z$/, 'Z') });
    },
    remove(id) {
      const i = entries.findIndex((x) => x.id === id);
      if (i >= 0) entries.splice(i, 1);
    },
    get usersStatus() {
      return state.usersStatus;
    },
    set usersStatus(v: number | null) {
      state.usersStatus = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
