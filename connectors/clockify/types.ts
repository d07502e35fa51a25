/**
 * Raw Clockify shapes. Time-entry API: https://docs.clockify.me/#tag/Time-entry ;
 * detailed report: https://docs.clockify.me/#tag/Time-Entry-Report . Only the fields Hourbridge reads.
 */
export type ClockifyEntryType = 'REGULAR' | 'BREAK' | 'HOLIDAY' | 'TIME_OFF';

export interface ClockifyRate {
  /** Minor units (cents). */
  amount: number;
  currency?: string | null;
}

/** A row of POST /workspaces/{ws}/reports/detailed (duration in integer seconds). */
export interface ClockifyReportEntry {
  _id: string;
  description?: string | null;
  userId: string;
  userName?: string | null;
  userEmail?: string | null;
  billable?: boolean;
  projectId?: string | null;
  projectName?: string | null;
  clientId?: string | null;
  clientName?: string | null;
  taskId?: string | null;
  taskName?: string | null;
  tags?: Array<{ _id?: string; name: string }> | null;
  timeInterval: { start: string; end: string | null; duration: number | null };
  hourlyRate?: ClockifyRate | null;
  costRate?: ClockifyRate | null;
  amount?: number | null;
  isLocked?: boolean;
  type?: ClockifyEntryType;
}

export interface ClockifyDetailedReport {
  totals?: Array<{ entriesCount?: number; totalTime?: number } | null>;
  timeentries: ClockifyReportEntry[];
}

/** GET /workspaces/{ws}/user/{userId}/time-entries?hydrated=true (duration ISO 8601, e.g. PT7H30M). */
export interface ClockifyTimeEntry {
  id: string;
  description?: string | null;
  userId: string;
  billable?: boolean;
  projectId?: string | null;
  taskId?: string | null;
  tagIds?: string[] | null;
  timeInterval: { start: string; end: string | null; duration: string | null };
  workspaceId?: string;
  isLocked?: boolean;
  hourlyRate?: ClockifyRate | null;
  costRate?: ClockifyRate | null;
  type?: ClockifyEntryType;
  project?: { id: string; name: string; clientId?: string | null; clientName?: string | null } | null;
  task?: { id: string; name: string } | null;
  tags?: Array<{ id: string; name: string }> | null;
}

export interface ClockifyUser {
  id: string;
  name: string;
  email?: string;
  activeWorkspace?: string;
  settings?: { timeZone?: string | null } | null;
}

export type ClockifyRawRecord =
  | { via: 'report'; entry: ClockifyReportEntry }
  | { via: 'user'; entry: ClockifyTimeEntry; userName: string | null; userTimeZone: string | null };
