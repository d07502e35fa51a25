import { z } from 'zod';
import { IANAZone } from 'luxon';

/**
 * The column mapping every spreadsheet-like source shares (CSV, XLSX, Google Sheets): which
 * header holds which canonical field, how the sheet writes numbers, dates and times, and how
 * a row's stable external id is found. Connector config schemas spread `mappingShape` into
 * their own strict object and add `refineMapping` as a check.
 */

/** Canonical fields a column can be mapped to (extras are listed separately). */
export const MAPPED_FIELDS = [
  'date',
  'start',
  'end',
  'break',
  'hours',
  'worker',
  'workerId',
  'client',
  'project',
  'task',
  'role',
  'tags',
  'approved',
  'billable',
  'notes',
  'externalId',
  'sourceRate',
  'costRate',
] as const;
export type MappedField = (typeof MAPPED_FIELDS)[number];

/** Fields a derived external id may be built from. */
export const KEY_FIELDS = [
  'date',
  'start',
  'end',
  'worker',
  'workerId',
  'client',
  'project',
  'task',
  'role',
  'notes',
  'hours',
  'break',
] as const;
export type KeyField = (typeof KEY_FIELDS)[number];

/**
 * Default identity of a row when the sheet has no id column: who worked when, for whom.
 * Hours and the end time are deliberately not part of it, so correcting how long someone
 * worked is an edit (a new revision of the same entry), not a deletion plus a new entry.
 * Only the fields the mapping actually has are used.
 */
export const DEFAULT_DERIVE: readonly KeyField[] = ['date', 'start', 'worker', 'workerId', 'client', 'project', 'task'];

const header = z.string().min(1, 'expected a column header');

export const ExtraColumnSchema = z.strictObject({
  column: header.describe('Header of the column holding the quantity (e.g. "Km").'),
  kind: z.string().min(1).describe('What the quantity counts, e.g. "kilometres"; rate rules price extras by kind.'),
  unitPrice: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'expected a decimal such as "0.23"')
    .optional()
    .describe('Price per unit, when the sheet itself does not carry one.'),
  description: z.string().optional(),
});
export type ExtraColumn = z.infer<typeof ExtraColumnSchema>;

export const ColumnsSchema = z
  .strictObject({
    date: header.optional().describe('Work date (the local date of the start).'),
    start: header.optional().describe('Start time (7:30, 07:30:00, 3:00pm, a day fraction, or a date-time).'),
    end: header.optional().describe('End time; before the start means the next day (night shift); equal to the start, see equalStartEnd.'),
    break: header
      .optional()
      .describe('Unpaid break: a whole number is minutes (30), a decimal is hours (0,5), H:MM is hours and minutes (0:30).'),
    hours: header.optional().describe('Worked hours: 7:30, 7,5 or 7.5 (see hoursAre).'),
    worker: header.optional().describe('Name of the person who worked.'),
    workerId: header.optional().describe('Id of the person who worked.'),
    client: header.optional().describe('Client name as the sheet writes it; matched to configured clients.'),
    project: header.optional(),
    task: header.optional(),
    role: header.optional(),
    tags: header.optional().describe('Tags separated by comma, semicolon or |.'),
    approved: header.optional(),
    billable: header.optional(),
    notes: header.optional(),
    externalId: header.optional().describe('Column with a stable id per row; otherwise see externalId.derive.'),
    sourceRate: header.optional().describe('Hourly rate the sheet carries.'),
    costRate: header.optional().describe('Pay/cost rate, for markup rules.'),
    extras: z.array(ExtraColumnSchema).default([]).describe('Quantity columns billed as extras (kilometres, fees).'),
  })
  .describe('Header names of the columns holding each canonical field.');
export type Columns = z.infer<typeof ColumnsSchema>;

export const ConstantsSchema = z
  .strictObject({
    worker: z.string().min(1).optional(),
    client: z.string().min(1).optional(),
    project: z.string().min(1).optional(),
    task: z.string().min(1).optional(),
    role: z.string().min(1).optional(),
    tags: z.array(z.string().min(1)).optional(),
    billable: z.boolean().optional(),
    approved: z.boolean().optional(),
    sourceCurrency: z.string().length(3).optional(),
  })
  .describe('Values for fields the sheet has no column for; also used when a mapped cell is blank.');
export type Constants = z.infer<typeof ConstantsSchema>;

/** Date formats: d/dd day, M/MM month, yy/yyyy year, separated by any of - / . or space. */
const DATE_FORMAT_RE = /^(d{1,2}|M{1,2}|y{2}|y{4})([-/. ])(d{1,2}|M{1,2}|y{2}|y{4})\2(d{1,2}|M{1,2}|y{2}|y{4})$/;

export const LocaleSchema = z
  .strictObject({
    decimal: z.enum(['.', ',']).default('.').describe('Decimal separator of numbers written as text.'),
    dateFormat: z
      .string()
      .default('yyyy-MM-dd')
      .refine((f) => {
        const m = DATE_FORMAT_RE.exec(f);
        if (!m) return false;
        const parts = [m[1]!, m[3]!, m[4]!].map((p) => p[0]);
        return new Set(parts).size === 3;
      }, 'expected a date format of day, month and year, such as dd-MM-yyyy, d/M/yyyy or yyyy-MM-dd')
      .describe('Order and separator of dates written as text (one or two digit days and months are both read).'),
    timeFormat: z
      .enum(['auto', '24h', '12h'])
      .default('auto')
      .describe('auto reads 7:30, 07:30:00 and 3:00pm alike; 24h rejects am/pm; 12h requires it.'),
    durationNumbers: z
      .enum(['hours', 'days'])
      .default('hours')
      .describe(
        'How a numeric (not text) hours/break cell is read: hours (7.5), or a day fraction as Google Sheets serves durations (0.3125 = 7:30).',
      ),
    breakUnit: z
      .enum(['auto', 'minutes', 'hours'])
      .default('auto')
      .describe('auto: a whole number is minutes (30), a decimal is hours (0,5), H:MM is hours and minutes.'),
  })
  .describe('How the sheet writes numbers, dates and times.');
export type Locale = z.infer<typeof LocaleSchema>;

export const SkipRuleSchema = z
  .strictObject({
    column: header,
    equals: z.string().optional().describe('Skip when the cell equals this text (case-insensitive, trimmed).'),
    matches: z
      .string()
      .optional()
      .refine((re) => {
        if (re === undefined) return true;
        try {
          new RegExp(re, 'i');
          return true;
        } catch {
          return false;
        }
      }, 'expected a valid regular expression')
      .describe('Skip when the cell matches this regular expression (case-insensitive).'),
    blank: z.boolean().optional().describe('Skip when the cell is blank.'),
  })
  .refine((r) => [r.equals, r.matches, r.blank].filter((v) => v !== undefined).length === 1, {
    message: 'expected exactly one of equals, matches or blank',
  });
export type SkipRule = z.infer<typeof SkipRuleSchema>;

export const ExternalIdSchema = z
  .strictObject({
    derive: z
      .array(z.enum(KEY_FIELDS))
      .min(1)
      .describe('Fields whose values identify a row; hashed into a stable id. Two rows with the same values are duplicates.'),
  })
  .describe('How a row without an id column gets a stable id (never the row number: rows move).');

const DEFAULT_TRUTHY = ['yes', 'y', 'ja', 'j', 'true', 'waar', 'x', '1', 'ok', '✓', '✔'];
const DEFAULT_FALSY = ['no', 'n', 'nee', 'false', 'onwaar', '0', '-'];

const zoneSchema = z
  .string()
  .refine((z) => IANAZone.isValidZone(z), 'expected an IANA time zone such as Europe/Amsterdam')
  .describe("IANA time zone the sheet's wall-clock times are in, e.g. Europe/Amsterdam.");

/** The mapping fields, to spread into a connector's strict config object. */
export const mappingShape = {
  columns: ColumnsSchema,
  constants: ConstantsSchema.default({}),
  locale: LocaleSchema.default({
    decimal: '.',
    dateFormat: 'yyyy-MM-dd',
    timeFormat: 'auto',
    durationNumbers: 'hours',
    breakUnit: 'auto',
  }),
  timeZone: zoneSchema,
  hoursAre: z
    .enum(['net', 'gross'])
    .default('net')
    .describe('net: the hours column excludes the break (worked time); gross: it includes it.'),
  equalStartEnd: z
    .enum(['quarantine', '24h'])
    .default('quarantine')
    .describe(
      'A row whose end equals its start (08:00–08:00): quarantine (a zero-length or mistyped shift, the default), or 24h: a shift to the same time the next day.',
    ),
  truthy: z.array(z.string()).default(DEFAULT_TRUTHY).describe('Words read as yes in approved/billable columns (case-insensitive).'),
  falsy: z.array(z.string()).default(DEFAULT_FALSY).describe('Words read as no in approved/billable columns (case-insensitive).'),
  externalId: ExternalIdSchema.optional(),
  headerRow: z.number().int().min(1).default(1).describe('1-based row holding the headers; rows above it are ignored.'),
  skipRowsWhere: z.array(SkipRuleSchema).default([]).describe('Rows to skip (totals, separators); fully blank rows are always skipped.'),
};

const MappingObject = z.strictObject(mappingShape);
/** A parsed mapping (defaults applied). Connector configs that spread `mappingShape` are Mappings. */
export type Mapping = z.output<typeof MappingObject>;
export type MappingInput = z.input<typeof MappingObject>;

/** Cross-field rules of a mapping, as a zod check. Paths are relative to the object holding the mapping. */
export function refineMapping(m: Mapping, ctx: z.RefinementCtx): void {
  const c = m.columns;
  const need = (ok: boolean, path: (string | number)[], message: string) => {
    if (!ok) ctx.addIssue({ code: 'custom', path, message });
  };
  need(c.worker !== undefined || m.constants.worker !== undefined, ['columns', 'worker'], 'map a worker column or set constants.worker');
  need(c.client !== undefined || m.constants.client !== undefined, ['columns', 'client'], 'map a client column or set constants.client');
  need(c.date !== undefined || c.start !== undefined, ['columns', 'date'], 'map a date column (or a start column holding date and time)');
  need(
    c.hours !== undefined || (c.start !== undefined && c.end !== undefined),
    ['columns', 'hours'],
    'map an hours column, or both start and end',
  );
  need(c.end === undefined || c.start !== undefined, ['columns', 'start'], 'an end column needs a start column');
  need(
    !(c.externalId !== undefined && m.externalId !== undefined),
    ['externalId'],
    'use either columns.externalId or externalId.derive, not both',
  );
  if (m.externalId) {
    m.externalId.derive.forEach((f, i) => {
      const mapped = (c as Record<string, unknown>)[f] !== undefined || (m.constants as Record<string, unknown>)[f] !== undefined;
      need(mapped, ['externalId', 'derive', i], `"${f}" is not mapped to a column or constant`);
    });
  }
  const truthy = new Set(m.truthy.map((w) => w.trim().toLowerCase()));
  m.falsy.forEach((w, i) => {
    need(!truthy.has(w.trim().toLowerCase()), ['falsy', i], `"${w}" is also listed in truthy`);
  });
}

/** Standalone schema of just the mapping (tests, and sources that nest it). */
export const MappingSchema = MappingObject.superRefine(refineMapping);
