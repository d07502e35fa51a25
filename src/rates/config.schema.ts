import { z } from 'zod';

/*
 * The `rates:` section of the configuration. One zod schema is the single source of truth for
 * validation, the TypeScript type and the JSON Schema editors use, so every field carries a
 * `.describe()` text. No transforms: decimals stay as written (number or string) and the
 * compiler converts them to exact decimals via their text, never through float arithmetic.
 */

const DECIMAL_RE = /^\d+(\.\d+)?$/;

function decimalValue(what: string) {
  return z.union([z.number(), z.string()]).superRefine((v, ctx) => {
    const text = typeof v === 'number' ? String(v) : v.trim();
    if (typeof v === 'number' && !Number.isFinite(v)) {
      ctx.addIssue({ code: 'custom', message: `${what} must be a finite number, got ${v}` });
    } else if (text.startsWith('-')) {
      ctx.addIssue({ code: 'custom', message: `${what} must be ≥ 0, got ${text}` });
    } else if (!DECIMAL_RE.test(text)) {
      ctx.addIssue({ code: 'custom', message: `${what} must be a decimal number such as 42.50, got ${JSON.stringify(v)}` });
    }
  });
}
export type DecimalValue = number | string;

/** Converts a validated config decimal to its exact text (YAML `42.50` arrives as the number 42.5). */
export function decimalText(v: DecimalValue): string {
  return typeof v === 'number' ? String(v) : v.trim();
}

const HHMM_RE = /^(\d{2}):(\d{2})$/;

/** Minutes since local midnight for a validated "HH:MM" (24:00 → 1440). */
export function hhmmToMinutes(v: string): number {
  const m = HHMM_RE.exec(v)!;
  return Number(m[1]) * 60 + Number(m[2]);
}

const hhmm = z
  .string()
  .describe('Local wall-clock time as HH:MM (00:00–24:00) in the client time zone.')
  .superRefine((v, ctx) => {
    const m = HHMM_RE.exec(v);
    const ok = m && Number(m[2]) < 60 && Number(m[1]) * 60 + Number(m[2]) <= 1440;
    if (!ok) ctx.addIssue({ code: 'custom', message: `expected HH:MM between 00:00 and 24:00, got ${v}` });
  });

const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .describe('A local calendar date, YYYY-MM-DD.');

/** YAML turns an unquoted 2026-01-01 into a Date; accept both and keep the text. */
const dateLike = z.union([isoDay, z.date()]).describe('A local calendar date, YYYY-MM-DD (quoted or not).');

export function dateText(v: string | Date): string {
  return typeof v === 'string' ? v : v.toISOString().slice(0, 10);
}

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const weekday = z.enum(WEEKDAYS).describe('Weekday: mon, tue, wed, thu, fri, sat, sun.');
const weekStartDay = z
  .enum(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'])
  .describe('First day of the week for weekly overtime.');

export const matchSchema = z
  .strictObject({
    client: z.string().min(1).optional().describe('Configured client id (clients[].id).'),
    project: z.string().min(1).optional().describe('Project name as the source spells it (case-insensitive).'),
    task: z.string().min(1).optional().describe('Task / activity name (case-insensitive).'),
    worker: z.string().min(1).optional().describe('Worker id or name (case-insensitive).'),
    role: z.string().min(1).optional().describe('Role / function (case-insensitive).'),
    tags: z.array(z.string().min(1)).min(1).optional().describe('All of these tags must be on the entry.'),
    source: z.string().min(1).optional().describe('Source id (sources[].id) the entry came from.'),
  })
  .describe(
    'Which entries a rule applies to. Every given field must match. Precedence when several base rules match: task > project > worker > role > tags > source > client.',
  );
export type MatchConfig = z.infer<typeof matchSchema>;

const effective = {
  from: dateLike.optional().describe('First local date (inclusive) the rule is in force.'),
  until: dateLike.optional().describe('Last local date (inclusive) the rule is in force.'),
};

export const baseRuleSchema = z
  .strictObject({
    id: z.string().min(1).describe('Rule id, shown on lines and by `hourbridge explain`.'),
    match: matchSchema.default({}),
    hourly: decimalValue('hourly rate').optional().describe('Bill rate per hour.'),
    fixed: decimalValue('fixed rate')
      .optional()
      .describe('Fixed price per entry/shift, whatever its length (surcharges and overtime do not apply).'),
    markup: decimalValue('markup factor')
      .optional()
      .describe("Bill rate = pay rate × this factor. The pay rate is the entry's costRate, else a matching payRates entry."),
    sourceRate: z
      .literal(true)
      .optional()
      .describe('Bill the hourly rate the source carries on the entry (e.g. Harvest billable_rate); an entry without one is quarantined.'),
    ...effective,
  })
  .describe('A base rate: exactly one of hourly, fixed, markup or sourceRate.')
  .superRefine((r, ctx) => {
    const n = [r.hourly, r.fixed, r.markup, r.sourceRate].filter((x) => x !== undefined).length;
    if (n !== 1) ctx.addIssue({ code: 'custom', message: `expected exactly one of hourly, fixed, markup or sourceRate, got ${n}` });
  });
export type BaseRuleConfig = z.infer<typeof baseRuleSchema>;

export const payRateSchema = z
  .strictObject({
    match: matchSchema.default({}),
    rate: decimalValue('pay rate').describe('Hourly pay (cost) rate used by markup rules.'),
    ...effective,
  })
  .describe('A pay rate per worker or role for markup rules, used when the entry carries no costRate.');

const percentValue = decimalValue('percent');

export const surchargeSchema = z
  .strictObject({
    id: z.string().min(1).describe('Surcharge id, shown on lines and in explain.'),
    label: z.string().optional().describe('Short text for invoice lines, e.g. "night". Defaults to the id.'),
    percent: percentValue.optional().describe('Percent of the base rate added, e.g. 40 for +40 %.'),
    amount: decimalValue('amount').optional().describe('Absolute amount added per hour.'),
    days: z.array(weekday).min(1).optional().describe("Only on these weekdays (of each piece's local date)."),
    time: z
      .strictObject({ from: hhmm, to: hhmm })
      .optional()
      .describe('Time-of-day band in the client zone; may cross midnight (22:00–06:00). Entries are split at its edges.'),
    dates: z
      .array(z.strictObject({ from: dateLike, until: dateLike }))
      .min(1)
      .optional()
      .describe('Only on these local date ranges (inclusive).'),
    holiday: z.boolean().optional().describe('true: only on public holidays of the ruleset calendar; false: never on them.'),
    match: matchSchema.optional(),
    blockMinutes: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Count surcharged time only in whole blocks of this many minutes per entry; the rest is billed without it.'),
    onlyIf: z
      .strictObject({
        startsBefore: hhmm.optional().describe('The shift starts before this local time.'),
        endsAfter: hhmm.optional().describe('The shift ends after this local time (of its start day; later days count as after).'),
      })
      .optional()
      .describe('Apply only if any of these shift conditions holds.'),
  })
  .describe('A surcharge on the base rate, percent or absolute per hour.')
  .superRefine((s, ctx) => {
    if ((s.percent === undefined) === (s.amount === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of percent or amount' });
    }
  });
export type SurchargeConfig = z.infer<typeof surchargeSchema>;

export const overtimeRuleSchema = z
  .strictObject({
    id: z.string().min(1),
    label: z.string().optional(),
    per: z.enum(['day', 'week']).describe('Count hours per worker per day (of the shift start) or per week.'),
    afterHours: decimalValue('afterHours').describe('Hours beyond this threshold are overtime.'),
    percent: percentValue.optional().describe('Percent added to the base rate for overtime hours.'),
    amount: decimalValue('amount').optional().describe('Absolute amount added per overtime hour.'),
  })
  .describe('Overtime: hours beyond a daily/weekly threshold, counted in chronological order, get a surcharge.')
  .superRefine((s, ctx) => {
    if ((s.percent === undefined) === (s.amount === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of percent or amount' });
    }
  });

const holidayAdd = z.strictObject({ date: dateLike, name: z.string().min(1) });

export const holidaysSchema = z
  .strictObject({
    country: z.string().min(2).describe('ISO country code known to date-holidays, e.g. NL, DE.'),
    region: z.string().optional().describe('Region/state code, e.g. BY for Bavaria.'),
    types: z
      .array(z.enum(['public', 'bank', 'school', 'optional', 'observance']))
      .min(1)
      .default(['public'])
      .describe('Which date-holidays types count as holidays.'),
    add: z.array(holidayAdd).default([]).describe('Extra holidays of the agreement, e.g. Good Friday.'),
    remove: z.array(dateLike).default([]).describe('Dates the agreement does not treat as holidays.'),
  })
  .describe('Public holiday calendar of the ruleset.');

const roundingDirection = z.enum(['up', 'down', 'nearest']);

export const roundingSchema = z
  .strictObject({
    time: z
      .strictObject({
        incrementMinutes: z.number().int().min(1).max(60).describe('Round billed time to this many minutes.'),
        direction: roundingDirection.default('nearest'),
        scope: z
          .enum(['entry', 'day', 'line'])
          .default('entry')
          .describe("entry: each entry's net time; day/line: applied by invoice assembly per worker-day / per line."),
      })
      .optional(),
    quantityDecimals: z.number().int().min(0).max(4).default(2).describe('Billed hours precision (decimals).'),
    unitPriceDecimals: z
      .union([z.literal(2), z.literal(4)])
      .default(2)
      .describe('Unit price precision: 2 or 4 decimals.'),
  })
  .describe('Time and money rounding.');

export const breaksSchema = z
  .strictObject({
    position: z
      .enum(['middle', 'start', 'end'])
      .default('middle')
      .describe('Where in the shift a break is taken; decides which band loses the time. Default: centred on the shift.'),
    statutory: z
      .array(z.strictObject({ afterHours: decimalValue('afterHours'), minutes: z.number().int().positive() }))
      .default([])
      .describe('Automatic break when none is recorded: the largest rule whose afterHours the shift exceeds applies.'),
  })
  .describe('Unpaid breaks.');

export const extraSchema = z
  .strictObject({
    kind: z.string().min(1).describe('entry.extras[].kind this applies to, e.g. km, parking, shift-fee.'),
    line: z.enum(['fee', 'expense']).default('expense').describe('Line kind on the invoice.'),
    unitPrice: decimalValue('unitPrice').optional().describe('Price per unit; when omitted the entry must carry it.'),
    label: z.string().optional().describe('Line description text, e.g. "Travel (km)".'),
    taxType: z.string().optional().describe('Tax code of this line in the accounting system.'),
  })
  .describe('How an extra item carried by an entry is billed.');

export const nonBillableSchema = z
  .strictObject({
    id: z.string().min(1),
    project: z.string().min(1).optional().describe('Project name pattern; * matches anything (case-insensitive).'),
    task: z.string().min(1).optional().describe('Task name pattern; * matches anything (case-insensitive).'),
    match: matchSchema.optional(),
    reason: z.string().optional().describe('Why these entries are not billed (shown in reports).'),
  })
  .describe('Entries that are kept but never invoiced.');

export const rulesetSchema = z
  .strictObject({
    clients: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Client ids priced by this ruleset. Omit on at most one ruleset: it prices every other client.'),
    base: z.array(baseRuleSchema).min(1).describe('Base rates; the most specific match in force wins.'),
    payRates: z.array(payRateSchema).default([]),
    surcharges: z.array(surchargeSchema).default([]),
    stacking: z.enum(['max', 'sum']).default('max').describe('When several surcharges apply: max = highest only, sum = add them up.'),
    holidays: holidaysSchema.optional(),
    overtime: z
      .strictObject({
        weekStart: weekStartDay.default('monday'),
        rules: z.array(overtimeRuleSchema).min(1),
      })
      .optional(),
    minimums: z
      .strictObject({
        shiftHours: decimalValue('shiftHours').optional().describe('Each shift is billed at least this many hours (call-out).'),
        invoiceAmount: decimalValue('invoiceAmount').optional().describe('Each invoice totals at least this amount.'),
      })
      .optional(),
    breaks: breaksSchema.default({ position: 'middle', statutory: [] }),
    rounding: roundingSchema.default({ quantityDecimals: 2, unitPriceDecimals: 2 }),
    extras: z.array(extraSchema).default([]),
    nonBillable: z.array(nonBillableSchema).default([]),
  })
  .describe('A rate card: base rates, surcharges, overtime, minimums, breaks, rounding, extras for some clients.');
export type RulesetConfig = z.infer<typeof rulesetSchema>;

export const ratesConfigSchema = z
  .strictObject({
    rulesets: z
      .record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected a ruleset name of letters, digits, - and _'), rulesetSchema)
      .describe('Named rate cards; each client is priced by exactly one.'),
  })
  .describe('Rate rules: how time entries become priced lines.');
export type RatesConfig = z.infer<typeof ratesConfigSchema>;
