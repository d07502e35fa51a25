/**
 * Raw Toggl Track shapes. Reports v3: https://engineering.toggl.com/docs/reports/detailed_reports ;
 * v9 time entries: https://engineering.toggl.com/docs/api/time_entries . Only the fields Hourbridge reads.
 */
export interface TogglReportTimeEntry {
  id: number;
  /** Negative while running. */
  seconds: number;
  start: string;
  stop: string | null;
  at?: string;
}

/** One row of POST /reports/api/v3/workspace/{wid}/search/time_entries: entries grouped by shared fields. */
export interface TogglReportRow {
  user_id: number;
  username?: string | null;
  project_id?: number | null;
  project_name?: string | null;
  client_name?: string | null;
  task_id?: number | null;
  task_name?: string | null;
  billable: boolean;
  description?: string | null;
  tag_ids?: number[] | null;
  tag_names?: string[] | null;
  hourly_rate_in_cents?: number | null;
  billable_amount_in_cents?: number | null;
  currency?: string | null;
  row_number?: number;
  time_entries: TogglReportTimeEntry[];
}

export interface TogglV9TimeEntry {
  id: number;
  workspace_id: number;
  project_id?: number | null;
  task_id?: number | null;
  user_id: number;
  /** Legacy names of workspace_id / project_id / task_id / user_id, still in documented payloads. */
  wid?: number | null;
  pid?: number | null;
  tid?: number | null;
  uid?: number | null;
  description?: string | null;
  billable: boolean;
  start: string;
  stop?: string | null;
  duration: number;
  tags?: string[] | null;
  at: string;
  server_deleted_at?: string | null;
  /** With ?meta=true. */
  project_name?: string | null;
  client_name?: string | null;
  user_name?: string | null;
  task_name?: string | null;
}

export interface TogglMe {
  id: number;
  fullname?: string;
  email?: string;
  timezone?: string;
  default_workspace_id?: number;
}

export type TogglRawRecord =
  | { via: 'report'; row: Omit<TogglReportRow, 'time_entries'>; entry: TogglReportTimeEntry }
  | { via: 'me'; entry: TogglV9TimeEntry; userName: string | null };
