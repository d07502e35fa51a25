/**
 * Raw Harvest API v2 shapes, as documented at https://help.getharvest.com/api-v2/timesheets-api/timesheets/time-entries/
 * Only the fields Hourbridge reads; the API sends more.
 */
export interface HarvestRef {
  id: number;
  name: string;
}

export interface HarvestTimeEntry {
  id: number;
  spent_date: string;
  hours: number;
  rounded_hours?: number | null;
  started_time?: string | null;
  ended_time?: string | null;
  user: HarvestRef;
  client: HarvestRef & { currency?: string };
  project: HarvestRef & { code?: string | null };
  task: HarvestRef;
  user_assignment?: { id: number } | null;
  task_assignment?: { id: number } | null;
  billable: boolean;
  billable_rate: number | null;
  cost_rate: number | null;
  is_billed: boolean;
  invoice?: { id: number; number: string } | null;
  is_locked: boolean;
  locked_reason?: string | null;
  approval_status?: 'unsubmitted' | 'submitted' | 'approved' | null;
  is_closed?: boolean;
  is_running: boolean;
  timer_started_at?: string | null;
  notes: string | null;
  external_reference?: unknown;
  created_at: string;
  updated_at: string;
}

export interface HarvestLinks {
  first?: string | null;
  next: string | null;
  previous?: string | null;
  last?: string | null;
}

export interface HarvestTimeEntriesPage {
  time_entries: HarvestTimeEntry[];
  per_page: number;
  total_pages?: number;
  total_entries?: number;
  next_page?: number | null;
  previous_page?: number | null;
  page?: number;
  links: HarvestLinks;
}

/** https://help.getharvest.com/api-v2/users-api/users/users/ */
export interface HarvestUser {
  id: number;
  first_name: string;
  last_name: string;
  email?: string;
  timezone?: string | null;
  is_active?: boolean;
}

export interface HarvestUsersPage {
  users: HarvestUser[];
  links: HarvestLinks;
}

/** What read() hands to map(): the entry plus the zone its wall-clock times are in. */
export interface HarvestRawRecord {
  entry: HarvestTimeEntry;
  /** IANA zone of the entry's user, when known. */
  userTimeZone: string | null;
}
