import type { TimeEntry } from '../domain/time-entry';
import type { RatedLine } from '../domain/rated-line';

export function formatExplain(
  entry: TimeEntry,
  lines: RatedLine[],
  placements?: Array<{ piece: number; invoiceKey: string; lineDescription: string; lineAmount: string }>,
): string {
  void placements;
  return `${entry.sourceId}:${entry.externalId}: ${lines.length} lines`;
}
