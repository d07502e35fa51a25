/**
 * Raw Kimai shapes (Kimai 2 REST API, https://www.kimai.org/documentation/rest-api.html ; the
 * models TimesheetCollectionExpanded / ProjectExpanded / Customer / User of its OpenAPI document).
 * Only the fields Hourbridge reads. Date-times are ISO 8601 with an offset, e.g. 2019-03-14T10:00:00+0100.
 */
export interface KimaiUser {
  id: number;
  username?: string;
  alias?: string | null;
}

export interface KimaiCustomer {
  id: number;
  name: string;
  currency?: string | null;
}

export interface KimaiProject {
  id: number;
  name: string;
  customer?: KimaiCustomer | number | null;
}

export interface KimaiActivity {
  id: number;
  name: string;
}

/** One row of GET /api/timesheets?full=true. */
export interface KimaiTimesheet {
  id: number;
  begin: string;
  /** null while the timer runs. */
  end?: string | null;
  /** Seconds; 0 while running. */
  duration?: number | null;
  description?: string | null;
  rate?: number | null;
  hourlyRate?: number | null;
  fixedRate?: number | null;
  internalRate?: number | null;
  exported?: boolean;
  billable?: boolean;
  tags?: string[];
  user?: KimaiUser | number | null;
  project?: KimaiProject | number | null;
  activity?: KimaiActivity | number | null;
  metaFields?: Array<{ name: string; value: unknown }>;
}

export interface KimaiRawRecord {
  entry: KimaiTimesheet;
}
