import type { ClockifyReportEntry, ClockifyTimeEntry, ClockifyUser } from '../../connectors/clockify/types';
import { faultQueue, listen, readBody, sendJson, type Fault } from './fake-http';

/**
 * Local fake of Clockify: GET /api/v1/user, POST /reports/v1/workspaces/{ws}/reports/detailed
 * (paged by detailedFilter.page/pageSize, totals.entriesCount), GET /api/v1/workspaces/{ws}/users
 * and GET /api/v1/workspaces/{ws}/user/{id}/time-entries (bare arrays, ISO 8601 durations).
 */
export interface ClockifyFake {
  baseUrl: string;
  reportsBaseUrl: string;
  entries: ClockifyReportEntry[];
  users: ClockifyUser[];
  stats: { listing: number };
  /** When set, the detailed report answers with this status (e.g. 403 on plans without it). */
  reportStatus: number | null;
  fail(f: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

function toTimeEntry(e: ClockifyReportEntry): ClockifyTimeEntry {
  const secs = e.timeInterval.duration ?? 0;
  return {
    id: e._id,
    description: e.description ?? null,
    userId: e.userId,
    billable: e.billable ?? false,
    projectId: e.projectId ?? null,
    taskId: e.taskId ?? null,
    timeInterval: {
      start: e.timeInterval.start,
      end: e.timeInterval.end,
      duration: e.timeInterval.end ? `PT${Math.floor(secs / 3600)}H${Math.floor((secs % 3600) / 60)}M${secs % 60}S` : null,
    },
    hourlyRate: e.hourlyRate ?? null,
    costRate: e.costRate ?? null,
    type: e.type ?? 'REGULAR',
    project: e.projectId
      ? { id: e.projectId, name: e.projectName ?? '', clientId: e.clientId ?? null, clientName: e.clientName ?? null }
      : null,
    task: e.taskId ? { id: e.taskId, name: e.taskName ?? '' } : null,
    tags: (e.tags ?? []).map((t, i) => ({ id: t._id ?? `t${i}`, name: t.name })),
  };
}

export async function startClockifyFake(opts: {
  apiKey: string;
  workspaceId: string;
  entries: ClockifyReportEntry[];
  users: ClockifyUser[];
}): Promise<ClockifyFake> {
  const faults = faultQueue();
  const state = { entries: opts.entries, users: opts.users, stats: { listing: 0 }, reportStatus: null as number | null };
  const inRange = (e: ClockifyReportEntry, start: string, end: string) => {
    const t = Date.parse(e.timeInterval.start);
    return !Number.isNaN(t) ? t >= Date.parse(start) && t <= Date.parse(end) : true; // malformed rows still listed
  };
  const server = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.headers['x-api-key'] !== opts.apiKey)
      return sendJson(res, 401, { message: 'Full authentication is required to access this resource', code: 1000 });
    if (req.method === 'GET' && url.pathname === '/api/v1/user') return sendJson(res, 200, state.users[0] ?? { id: 'u0', name: 'Owner' });
    const ws = encodeURIComponent(opts.workspaceId);
    if (req.method === 'POST' && url.pathname === `/reports/v1/workspaces/${ws}/reports/detailed`) {
      state.stats.listing++;
      const f = faults.take();
      if (f) return sendJson(res, f.status, f.body ?? { message: 'fault' }, f.headers);
      if (state.reportStatus) return sendJson(res, state.reportStatus, { message: 'Reports are not available', code: state.reportStatus });
      const body = (await readBody(req)) as {
        dateRangeStart: string;
        dateRangeEnd: string;
        detailedFilter: { page: number; pageSize: number };
      };
      const all = state.entries.filter((e) => inRange(e, body.dateRangeStart, body.dateRangeEnd));
      const { page, pageSize } = body.detailedFilter;
      return sendJson(res, 200, {
        totals: [{ entriesCount: all.length, totalTime: all.reduce((s, e) => s + (e.timeInterval.duration ?? 0), 0) }],
        timeentries: all.slice((page - 1) * pageSize, page * pageSize),
      });
    }
    if (req.method === 'GET' && url.pathname === `/api/v1/workspaces/${ws}/users`) {
      const page = Number(url.searchParams.get('page') ?? 1);
      const size = Number(url.searchParams.get('page-size') ?? 50);
      return sendJson(res, 200, state.users.slice((page - 1) * size, page * size));
    }
    const m = /^\/api\/v1\/workspaces\/[^/]+\/user\/([^/]+)\/time-entries$/.exec(url.pathname);
    if (req.method === 'GET' && m) {
      state.stats.listing++;
      const f = faults.take();
      if (f) return sendJson(res, f.status, f.body ?? { message: 'fault' }, f.headers);
      const start = url.searchParams.get('start') ?? '1970-01-01T00:00:00Z';
      const end = url.searchParams.get('end') ?? '2999-01-01T00:00:00Z';
      const page = Number(url.searchParams.get('page') ?? 1);
      const size = Number(url.searchParams.get('page-size') ?? 50);
      const mine = state.entries.filter((e) => e.userId === decodeURIComponent(m[1]!) && inRange(e, start, end));
      return sendJson(res, 200, mine.slice((page - 1) * size, page * size).map(toTimeEntry));
    }
    sendJson(res, 404, { message: 'not found' });
  });
  return {
    baseUrl: `${server.url}/api/v1`,
    reportsBaseUrl: `${server.url}/reports/v1`,
    get entries() {
      return state.entries;
    },
    users: state.users,
    stats: state.stats,
    get reportStatus() {
      return state.reportStatus;
    },
    set reportStatus(v: number | null) {
      state.reportStatus = v;
    },
    fail: (f) => faults.push(f),
    clearFaults: () => faults.clear(),
    close: server.close,
  };
}
