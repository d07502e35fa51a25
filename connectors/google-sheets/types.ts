/**
 * Raw Google Sheets API v4 shapes (https://developers.google.com/sheets/api/reference/rest).
 * Only the fields Hourbridge reads.
 */
/** With UNFORMATTED_VALUE + SERIAL_NUMBER: numbers (dates/times/durations as serials), text, booleans. */
export type SheetsCell = string | number | boolean | null;

export interface ValueRange {
  range: string;
  majorDimension?: 'ROWS' | 'COLUMNS';
  /** Ragged: trailing empty cells and rows are omitted. */
  values?: SheetsCell[][];
}

export interface BatchGetResponse {
  spreadsheetId: string;
  valueRanges?: ValueRange[];
}

export interface SpreadsheetProperties {
  title?: string;
  locale?: string;
  timeZone?: string;
}

export interface ServiceAccountKey {
  type?: string;
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
}
