import { sendJson } from './fake-http';
import { startRestApiFake, type RestApiFake } from './rest-api-server';

/**
 * A local Productive API for the `kind: rest` example (config/examples/rest-productive.yaml),
 * built from Productive's public API documentation:
 * - https://developer.productive.io : JSON:API; X-Auth-Token and X-Organization-Id on every
 *   request; Content-Type application/vnd.api+json (else 415); page[number] / page[size] with
 *   meta.current_page, total_pages, total_count and page_size in the answer;
 * - https://developer.productive.io/time_entries.html : GET /api/v2/time_entries with
 *   filter[after] / filter[before] (dates) and filter[updated_at]; the documented time entry
 *   (id "146": date, time 480, billable_time 480, note "test note", approved, invoiced,
 *   updated_at, currency; relationships person, service, task).
 * Relationships are sideloaded in `included` as a JSON:API compound document.
 */
export const PRODUCTIVE_DOCS = 'https://developer.productive.io/time_entries.html';

export interface ProductiveTimeEntry {
  id: string;
  type: 'time_entries';
  attributes: {
    date: string;
    created_at: string;
    time: number;
    billable_time: number;
    note: string | null;
    track_method_id: number;
    started_at: string | null;
    timer_started_at: string | null;
    timer_stopped_at: string | null;
    approved: boolean;
    approved_at: string | null;
    updated_at: string;
    invoiced: boolean;
    currency: string;
    [k: string]: unknown;
  };
  relationships: Record<string, { data: { type: string; id: string | number } | null }>;
}

const PEOPLE = [
  { type: 'people', id: '4415', attributes: { first_name: 'Ada', last_name: 'Lovelace' } },
  { type: 'people', id: '4416', attributes: { first_name: 'Grace', last_name: 'Hopper' } },
];
const SERVICES = [
  { type: 'services', id: '513', attributes: { name: 'Development' }, relationships: { deal: { data: { type: 'deals', id: '77' } } } },
];
const DEALS = [
  {
    type: 'deals',
    id: '77',
    attributes: { name: 'Website relaunch' },
    relationships: { company: { data: { type: 'companies', id: '31' } } },
  },
];
const COMPANIES = [{ type: 'companies', id: '31', attributes: { name: 'Acme BV' } }];
const ALL_INCLUDED = [...PEOPLE, ...SERVICES, ...DEALS, ...COMPANIES];

/** The time entry of the documentation page, dated `date` (the page's 2016 date is outside any window). */
export function documentedTimeEntry(date: string): ProductiveTimeEntry {
  return {
    id: '146',
    type: 'time_entries',
    attributes: {
      date,
      created_at: '2021-01-24T00:08:47.621+01:00',
      time: 480,
      billable_time: 480,
      note: 'test note',
      track_method_id: 1,
      tracking_type_id: null,
      started_at: null,
      timer_started_at: null,
      timer_stopped_at: null,
      approved: false,
      approved_at: null,
      updated_at: '2021-01-24T00:08:47.621+01:00',
      calendar_event_id: null,
      invoiced: false,
      rejected: false,
      currency: 'EUR',
      cost: 16000,
    },
    relationships: {
      organization: { data: { type: 'organizations', id: 1245 } },
      person: { data: { type: 'people', id: '4415' } },
      service: { data: { type: 'services', id: '513' } },
      task: { data: { type: 'tasks', id: '252' } },
    },
  };
}

export function productiveEntry(i: number, daysAgo: number): ProductiveTimeEntry {
  const day = new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
  const e = documentedTimeEntry(day);
  e.id = String(900 + i);
  e.attributes.time = 60 + i * 15;
  e.attributes.billable_time = 60 + i * 15;
  e.attributes.note = `Entry ${i}`;
  // Tracked with a timer: started_at is the start; billable_time (minutes) is what is billed.
  e.attributes.started_at = `${day}T08:00:00.000+00:00`;
  e.attributes.updated_at = new Date(Date.now() - 2 * 86_400_000).toISOString();
  e.relationships.person = { data: { type: 'people', id: i % 2 === 0 ? '4415' : '4416' } };
  return e;
}

export function startProductiveFake(token: string, org: string, records: ProductiveTimeEntry[]): Promise<RestApiFake<ProductiveTimeEntry>> {
  return startRestApiFake<ProductiveTimeEntry>({
    path: '/api/v2/time_entries',
    records,
    paging: { type: 'page', pageParam: 'page[number]', sizeParam: 'page[size]', firstPage: 1 },
    defaultSize: 30,
    dateOf: (r) => r.attributes.date,
    updatedOf: (r) => Date.parse(r.attributes.updated_at),
    window: { fromParam: 'filter[after]', toParam: 'filter[before]', exclusive: true },
    updatedSinceParam: 'filter[updated_at][gt_eq]',
    refuse: (req) =>
      hasJsonApiContentType(req.headers)
        ? undefined
        : { status: 415, body: { errors: [{ status: 415, title: 'Unsupported Media Type' }] } },
    authorised: (req) => req.headers['x-auth-token'] === token && req.headers['x-organization-id'] === org,
    body: (page, meta) => {
      const wanted = new Set(
        page.flatMap((e) => Object.values(e.relationships).flatMap((r) => (r.data ? [`${r.data.type}:${r.data.id}`] : []))),
      );
      // service.deal.company: the nested resources of every included service come along.
      const included = ALL_INCLUDED.filter((r) => wanted.has(`${r.type}:${r.id}`) || r.type === 'deals' || r.type === 'companies');
      return {
        data: page,
        included: page.length > 0 ? included : [],
        meta: { current_page: meta.page, total_pages: meta.totalPages, total_count: meta.totalCount, page_size: meta.size },
      };
    },
    extra: (_req, _url, _body, res) => {
      sendJson(res, 404, { errors: [{ status: 404, title: 'Not found' }] });
      return true;
    },
  });
}

/** Productive answers 415 without the JSON:API content type (developer.productive.io, Content Negotiation). */
export function hasJsonApiContentType(headers: Record<string, string | string[] | undefined>): boolean {
  return String(headers['content-type'] ?? '').startsWith('application/vnd.api+json');
}
