import { TimeEntry, type TimeEntryInput } from '../domain/time-entry';
import type { MapResult, Problem } from '../connectors/contract';
import { dec } from '../domain/money';

/**
 * Shared by the API sources' mappers: the final zod check of a mapped entry, turned into a
 * MapResult whose problems name the canonical field and the API field it came from.
 */
export function toMapResult(candidate: TimeEntryInput, apiFieldOf: Record<string, string> = {}): MapResult {
  const parsed = TimeEntry.safeParse(candidate);
  if (parsed.success) return { kind: 'entry', entry: parsed.data };
  const problems: Problem[] = parsed.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.') || undefined;
    const top = issue.path[0] === undefined ? undefined : String(issue.path[0]);
    let value: unknown = candidate;
    for (const key of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
    return {
      ...(field ? { field } : {}),
      ...(top && apiFieldOf[top] ? { column: apiFieldOf[top] } : {}),
      ...(value !== undefined ? { value } : {}),
      reason: issue.message,
    };
  });
  return { kind: 'invalid', problems, externalId: candidate.externalId || undefined };
}

/** A JSON number as an exact decimal string (no exponent), or undefined for null/absent. */
export function decimalOf(value: number | string | null | undefined): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  try {
    const d = dec(value);
    return d.isFinite() ? d.toFixed() : undefined;
  } catch {
    return undefined;
  }
}
