import { startRestApiFake, type RestApiFake } from './rest-api-server';

/**
 * A local Everhour API for the `kind: rest` example (config/examples/rest-everhour.yaml), built
 * from the payload shapes of Everhour's public API reference:
 * - GET /team/time (https://developers.everhour.com/filtering): from= / to= inclusive dates,
 *   limit= and page=; the body is a JSON list of time records;
 * - the key in X-Api-Key (https://developers.everhour.com/api-reference/timers/get-all-team-timers);
 * - `time` in whole seconds, dates as YYYY-MM-DD, ranges inclusive
 *   (https://developers.everhour.com/dates-and-timezones);
 * - a time record: id, date, time (seconds), user (id), comment, and the task object as that
 *   reference documents it (id "ev:…", name, projects, labels, unbillable).
 */
export const EVERHOUR_DOCS = 'https://developers.everhour.com/api-reference/timers/get-all-team-timers';

export interface EverhourTask {
  id: string;
  name: string;
  projects: string[];
  labels?: string[];
  unbillable?: boolean;
}

export interface EverhourTimeRecord {
  id: number;
  date: string;
  time: number;
  user: number;
  comment?: string | null;
  task: EverhourTask;
  /** Not part of the payload the fake serves: when the record last changed (for tests). */
  _updated?: number;
}

/** The task object exactly as the API reference's example shows it. */
export function documentedTask(): EverhourTask {
  return { id: 'ev:9876543210', name: 'Task Name', projects: ['ev:1234567890'], labels: ['high', 'bug'], unbillable: true };
}

export function everhourRecord(i: number, daysAgo: number): EverhourTimeRecord {
  return {
    id: 5000 + i,
    date: new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10),
    time: 3600 + i * 900,
    user: i % 2 === 0 ? 1304 : 1543,
    comment: `Work ${i}`,
    task: { ...documentedTask(), id: `ev:98765432${i}`, name: `Task ${i}`, unbillable: false },
  };
}

export function startEverhourFake(key: string, records: EverhourTimeRecord[]): Promise<RestApiFake<EverhourTimeRecord>> {
  return startRestApiFake<EverhourTimeRecord>({
    path: '/team/time',
    records,
    paging: { type: 'page', pageParam: 'page', sizeParam: 'limit', firstPage: 1 },
    dateOf: (r) => r.date,
    window: { fromParam: 'from', toParam: 'to' },
    authorised: (req) => req.headers['x-api-key'] === key,
    body: (page) => page.map(({ _updated, ...r }) => r),
  });
}
