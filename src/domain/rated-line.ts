import { z } from 'zod';
import { decimalString, isoDate, isoInstant } from './time-entry';

/** One step of the reasoning that priced a piece: shown by `hourbridge explain`. */
export const TraceStep = z.strictObject({
  /** Rule id from the config (e.g. "acme-senior"), or a built-in name ("rounding"). */
  rule: z.string(),
  kind: z.enum(['base', 'markup', 'surcharge', 'overtime', 'minimum', 'break', 'rounding', 'extra', 'nonbillable', 'info']),
  applied: z.boolean(),
  /** Human sentence: why it applied or why it was skipped. */
  detail: z.string(),
  /** Percent or amount contributed, when it has one. */
  value: z.string().optional(),
});
export type TraceStep = z.infer<typeof TraceStep>;

/**
 * A priced piece of one entry. An entry that crosses a surcharge boundary becomes several
 * pieces. `amount` is exact (hours × unitPrice, not rounded): rounding to cents happens once,
 * per invoice line, so the pieces of a line always add up to it.
 */
export const RatedLine = z.strictObject({
  sourceId: z.string(),
  externalId: z.string(),
  /** 0-based position of this piece among the entry's pieces. */
  piece: z.number().int().nonnegative(),
  kind: z.enum(['time', 'fee', 'expense', 'minimum']),
  clientId: z.string(),
  currency: z.string().length(3),
  /** Local date (client time zone) the piece is billed on; decides the invoice period. */
  date: isoDate,
  start: isoInstant.optional(),
  end: isoInstant.optional(),
  /** Hours before rounding (for time pieces), as worked minus breaks. */
  hoursRaw: decimalString,
  /** Billed quantity: hours after rounding, or the item count for fees/expenses. */
  quantity: decimalString,
  unitPrice: decimalString,
  amount: decimalString,
  /** The rule that set the unit price (base rule id, plus surcharge ids joined by "+"). */
  rule: z.string(),
  /** Short label for the invoice line, e.g. "Night +40%"; empty for plain base time. */
  label: z.string().default(''),
  taxType: z.string().optional(),
  /** Dimensions lines can be grouped by. */
  worker: z.string(),
  project: z.string().optional(),
  task: z.string().optional(),
  role: z.string().optional(),
  trace: z.array(TraceStep),
});
export type RatedLine = z.infer<typeof RatedLine>;

/**
 * A priced piece as assembly and invoice links carry it: the rated line without its trace. The
 * trace (about half of a stored line) stays in rated_lines, where `explain` reads it; invoices,
 * links and corrections never show it.
 */
export type BilledLine = Omit<RatedLine, 'trace'>;

/** Lines read from an older ledger may still carry their trace: leave it out, so lines compare equal either way. */
export function billedLines(lines: readonly (BilledLine & { trace?: unknown })[]): BilledLine[] {
  return lines.map((l) => {
    if (!('trace' in l)) return l;
    const { trace: _trace, ...rest } = l;
    return rest;
  });
}
