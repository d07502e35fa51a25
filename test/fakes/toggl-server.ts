import type { TogglReportRow, TogglV9TimeEntry } from '../../connectors/toggl/types';
import { faultQueue, listen, readBody, sendJson, type Fault } from './fake-http';

/**
 * Local fake of Toggl Track: GET /api/v9/me, GET /api/v9/me/time_entries (since / start_date,
 * deletions via server_deleted_at), GET /api/v9/me/projects and /me/clients and POST /reports/api/v3/workspace/{wid}/search/time_entries
 * with header-driven pagination (X-Next-ID / X-Next-Row-Number / X-Next-Timestamp).
 */
export interface TogglFake {
  baseUrl: string;
  rows: TogglReportRow[];
  v9: TogglV9TimeEntry[];
  stats: { listing: number };
  fail(f: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

export async function startTogglFake(opts: {
  token: string;
  workspaceId: string;
  rows: TogglReportRow[];
  v9?: TogglV9TimeEntry[];
}): Promise<TogglFake> {
  const faults = faultQueue();
  const state = { rows: opts.rows, v9: opts.v9 ?? [], stats: { listing: 0 } };
  const auth = `Basic ${Buffer.from(`${opts.token}:api_token`).toString('base64')}`;
  const server = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.headers.authorization !== auth) return sendJson(res, 401, 'Incorrect username and/or password');
    if (req.method === 'GET' && url.pathname === '/api/v9/me')
      return sendJson(res, 200, { id: 1, fullname: 'Toggl Owner', email: 'owner@example.test', timezone: 'Europe/Amsterdam' });
    // https://engineering.toggl.com/docs/api/me#get-projects and #get-clients: what the token's user sees.
    if (req.method === 'GET' && url.pathname === '/api/v9/me/projects') {
      const seen = new Map(
        state.v9
          .filter((e) => e.project_id ?? e.pid)
          .map((e) => [
            e.project_id ?? e.pid!,
            {
              id: e.project_id ?? e.pid!,
              name: e.project_name ?? `Project ${e.project_id ?? e.pid}`,
              client_id: 1,
              workspace_id: Number(opts.workspaceId),
            },
          ]),
      );
      return sendJson(res, 200, [...seen.values()]);
    }
    if (req.method === 'GET' && url.pathname === '/api/v9/me/clients')
      return sendJson(res, 200, [{ id: 1, name: 'Globex', wid: Number(opts.workspaceId) }]);
    const ws = `/api/v9/workspaces/${opts.workspaceId}`;
    if (req.method === 'GET' && url.pathname === `${ws}/projects`) {
      const seen = new Map(
        state.rows
          .filter((r) => r.project_id)
          .map((r) => [r.project_id!, { id: r.project_id!, name: r.project_name ?? `Project ${r.project_id}`, client_id: 1 }]),
      );
      return sendJson(res, 200, Number(url.searchParams.get('page') ?? 1) > 1 ? [] : [...seen.values()]);
    }
    if (req.method === 'GET' && url.pathname === `${ws}/clients`) return sendJson(res, 200, [{ id: 1, name: 'Globex' }]);
    if (req.method === 'GET' && url.pathname === `${ws}/users`) {
      return sendJson(res, 200, [
        ...new Map(state.rows.map((r) => [r.user_id, { id: r.user_id, fullname: r.username ?? `User ${r.user_id}` }])).values(),
      ]);
    }
    if (req.method === 'GET' && url.pathname === '/api/v9/me/time_entries') {
      state.stats.listing++;
      const since = url.searchParams.get('since');
      const from = url.searchParams.get('start_date');
      const to = url.searchParams.get('end_date');
      const list = state.v9.filter((e) =>
        since !== null
          ? Date.parse(e.at) / 1000 >= Number(since)
          : !e.server_deleted_at && (!from || e.start.slice(0, 10) >= from) && (!to || e.start.slice(0, 10) <= to),
      );
      return sendJson(res, 200, list);
    }
    if (req.method === 'POST' && url.pathname === `/reports/api/v3/workspace/${opts.workspaceId}/search/time_entries`) {
      state.stats.listing++;
      const f = faults.take();
      if (f) return sendJson(res, f.status, f.body ?? 'fault', f.headers);
      const body = (await readBody(req)) as { start_date: string; end_date: string; page_size: number; first_row_number?: number };
      const matching = state.rows
        .filter((r) => {
          const d = r.time_entries[0]?.start.slice(0, 10) ?? '';
          return !/^\d{4}-\d{2}-\d{2}$/.test(d) || (d >= body.start_date && d <= body.end_date);
        })
        .map((r, i) => ({ ...r, row_number: i + 1 }));
      const startAt = (body.first_row_number ?? 1) - 1;
      const page = matching.slice(startAt, startAt + body.page_size);
      const next = matching[startAt + body.page_size];
      const headers: Record<string, string> = next
        ? {
            'X-Next-ID': String(next.time_entries[0]?.id ?? 0),
            'X-Next-Row-Number': String(next.row_number),
            'X-Next-Timestamp': String(Math.floor(Date.parse(next.time_entries[0]?.start ?? '') / 1000) || 0),
          }
        : {};
      return sendJson(res, 200, page, headers);
    }
    sendJson(res, 404, 'Not Found');
  });
  return {
    baseUrl: server.url,
    get rows() {
      return state.rows;
    },
    get v9() {
      return state.v9;
    },
    stats: state.stats,
    fail: (f) => faults.push(f),
    clearFaults: () => faults.clear(),
    close: server.close,
  };
}
