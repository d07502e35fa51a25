/**
 * A cell as spreadsheet readers hand it over: text (CSV, text cells), a number (Excel or
 * Google Sheets serials, numeric cells), a Date (exceljs converts date-formatted cells), a
 * boolean, or nothing. Rows are ragged: trailing empty cells may be missing.
 */
export type Cell = string | number | boolean | Date | null | undefined;

/** The result of parsing one value: the value, or why it could not be read. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function fail<T = never>(reason: string): Parsed<T> {
  return { ok: false, reason };
}

export function isBlank(cell: Cell): boolean {
  if (cell === null || cell === undefined) return true;
  if (typeof cell === 'string') return cell.trim().length === 0;
  if (typeof cell === 'number') return Number.isNaN(cell);
  return false;
}

/** A cell as text, trimmed (dates as ISO, numbers as JavaScript writes them). */
export function cellText(cell: Cell): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'string') return cell.trim();
  if (cell instanceof Date) return Number.isNaN(cell.getTime()) ? '' : cell.toISOString();
  return String(cell);
}
