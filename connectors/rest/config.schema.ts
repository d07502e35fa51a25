import { z } from 'zod';
import { LocaleSchema } from '../../src/mapping/mapping.schema';
import { retrySettings, timeZoneName, windowSettings } from '../../src/http/settings';

/**
 * YAML section of a declarative REST source (`kind: rest`): an admin describes a JSON API that
 * has no built-in connector — where its time records are, how to authenticate, how it pages, how
 * to ask for a date window or for changes since a time, and which record field is which
 * TimeEntry field. Everything is checked here, so a typo is a config error with file, line,
 * column and path, never a silent default.
 */

/** RFC 6901 JSON pointer: "" is the whole document, "/task/name" a nested field, "/tags/0" an item. */
export const jsonPointer = z
  .string()
  .regex(/^(\/.*)?$/, 'expected a JSON pointer such as /task/name ("" for the whole record)')
  .describe('JSON pointer (RFC 6901) into the record, e.g. /task/name; ~1 stands for / and ~0 for ~ in a key.');

const paramValue = z.union([z.string(), z.number(), z.boolean()]);
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const secret = z.string().min(1).describe('The credential (secret): write ${VAR} and set VAR in the environment, never the value itself.');

export const AuthSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('bearer'),
      secret: secret.describe('Token sent as `Authorization: Bearer <secret>` (secret; from the environment).'),
    }),
    z.strictObject({
      type: z.literal('basic'),
      username: z.string().min(1).describe('User name of HTTP Basic authentication.'),
      secret: secret.describe('Password of HTTP Basic authentication (secret; from the environment).'),
    }),
    z.strictObject({
      type: z.literal('apiKey'),
      in: z.enum(['header', 'query']).default('header').describe('Where the key goes: a request header or a query parameter.'),
      name: z.string().min(1).describe('Header or query parameter name, e.g. X-Api-Key or api_key.'),
      prefix: z.string().optional().describe('Text before the key in the header, e.g. "Token" for `Authorization: Token <key>`.'),
      secret: secret.describe('The API key (secret; from the environment).'),
    }),
    z.strictObject({
      type: z.literal('oauth2'),
      tokenUrl: z.url().describe('Token endpoint of the OAuth 2.0 client-credentials grant (RFC 6749 §4.4).'),
      clientId: z.string().min(1).describe('OAuth client id.'),
      secret: secret.describe('OAuth client secret (secret; from the environment).'),
      scope: z.string().optional().describe('Space-separated scopes to ask for.'),
      audience: z.string().optional().describe('`audience` parameter, for token servers that want one (Auth0 and similar).'),
      clientAuth: z
        .enum(['basic', 'body'])
        .default('basic')
        .describe(
          'How the client authenticates at the token endpoint: HTTP Basic (default, RFC 6749 §2.3.1) or client_id/client_secret in the form body.',
        ),
    }),
  ])
  .describe('How every request authenticates. `secret` is the one secret of each type, so it is always masked.');
export type AuthConfig = z.infer<typeof AuthSchema>;

const sizeShape = {
  sizeParam: z.string().min(1).optional().describe('Query parameter that sets the page size, e.g. per_page or limit.'),
  size: z.number().int().min(1).max(100_000).default(100).describe('Page size to ask for (and to expect, where the API decides it).'),
};

export const PaginationSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('none') }),
    z.strictObject({
      type: z.literal('page'),
      pageParam: z.string().min(1).default('page').describe('Query parameter of the page number.'),
      firstPage: z.number().int().min(0).max(1).default(1).describe('Number of the first page (0 or 1).'),
      ...sizeShape,
      totalPagesPath: jsonPointer.optional().describe('Pointer into the response body to the number of pages, e.g. /meta/total_pages.'),
      totalPagesHeader: z.string().optional().describe('Response header holding the number of pages, e.g. X-Total-Pages.'),
    }),
    z.strictObject({
      type: z.literal('offset'),
      offsetParam: z.string().min(1).default('offset').describe('Query parameter of the offset (records to skip).'),
      limitParam: z.string().min(1).default('limit').describe('Query parameter of the number of records per page.'),
      limit: z.number().int().min(1).max(100_000).default(100).describe('Records per page.'),
      totalPath: jsonPointer
        .optional()
        .describe('Pointer to the total number of records, e.g. /total; without it a short page ends the listing.'),
    }),
    z.strictObject({
      type: z.literal('cursor'),
      cursorParam: z.string().min(1).describe('Query parameter that carries the cursor of the next page, e.g. cursor or page_token.'),
      cursorPath: jsonPointer.describe(
        'Pointer into the response body to the next cursor, e.g. /meta/next_cursor; empty or absent ends the listing.',
      ),
      ...sizeShape,
    }),
    z.strictObject({
      type: z.literal('linkHeader'),
      ...sizeShape,
    }),
    z.strictObject({
      type: z.literal('nextUrl'),
      nextPath: jsonPointer.describe(
        'Pointer into the response body to the URL of the next page, e.g. /links/next; empty or absent ends the listing.',
      ),
      ...sizeShape,
    }),
  ])
  .describe('How the listing pages: page number, offset/limit, a cursor field, the Link header (rel="next"), or a next-URL field.');
export type PaginationConfig = z.infer<typeof PaginationSchema>;

const paramFormat = z
  .enum(['date', 'datetime', 'unix', 'unixMs'])
  .describe('date: YYYY-MM-DD; datetime: ISO 8601 instant in UTC; unix / unixMs: seconds / milliseconds since 1970.');

export const WindowSchema = z
  .strictObject({
    fromParam: z.string().min(1).describe('Query parameter of the first date of the listing, e.g. from or filter[after].'),
    toParam: z.string().min(1).optional().describe('Query parameter of the last date, e.g. to or filter[before].'),
    format: paramFormat.default('date'),
    fromExclusive: z
      .boolean()
      .default(false)
      .describe('The API lists entries strictly after fromParam: the day before the window is sent.'),
    toExclusive: z.boolean().default(false).describe('The API lists entries strictly before toParam: the day after the window is sent.'),
  })
  .describe(
    'The date range filter of the listing. Every run re-lists a window of reconcileDays with it: new and edited entries in it, and the entries it no longer lists are deleted.',
  );
export type WindowConfig = z.infer<typeof WindowSchema>;

export const IncrementalSchema = z
  .strictObject({
    param: z.string().min(1).describe('Query parameter of the updated-since filter, e.g. updated_since or filter[updated_at][gt].'),
    format: paramFormat.default('datetime'),
  })
  .describe(
    'Updated-since filter: later runs ask only for records changed since the last run (minus safetyLagSeconds), besides the re-listed window.',
  );
export type IncrementalConfig = z.infer<typeof IncrementalSchema>;

/** Where a field's value comes from: a pointer, a template of pointers, or a constant. */
const sourceShape = {
  path: jsonPointer.optional(),
  template: z
    .string()
    .regex(/\{\/[^}]*\}/, 'expected a template with at least one {/pointer}, e.g. "{/user/first_name} {/user/last_name}"')
    .optional()
    .describe('Text with {/pointer} placeholders, e.g. "{/user/first_name} {/user/last_name}".'),
  value: scalar.optional().describe('A constant, for fields the API has no value for.'),
  default: scalar.optional().describe('Used when the value at path is absent, null or blank.'),
};

function oneSource(spec: unknown, ctx: z.RefinementCtx): void {
  const s = spec as { path?: unknown; template?: unknown; value?: unknown };
  const n = [s.path, s.template, s.value].filter((v) => v !== undefined).length;
  if (n !== 1) ctx.addIssue({ code: 'custom', message: 'expected exactly one of path, template or value' });
}

const objectField = <T extends z.core.$ZodLooseShape>(extra: T) => z.strictObject({ ...sourceShape, ...extra }).superRefine(oneSource);
const field = <T extends z.core.$ZodLooseShape>(extra: T, description: string) =>
  z.union([jsonPointer, objectField(extra)]).describe(description);

export const TextField = field(
  {
    map: z
      .record(z.string(), z.string())
      .optional()
      .describe('Names for the values the API sends, e.g. { "1304": "Ada Lovelace" } for a user id; a value not listed is kept as it is.'),
  },
  'A text field: a JSON pointer, or {path | template | value, default, map}.',
);
export const DateField = field(
  {
    format: z
      .string()
      .default('iso')
      .describe(
        'iso: YYYY-MM-DD or an ISO date-time (its local date in timeZone); or a pattern such as dd-MM-yyyy (the spreadsheet date parser).',
      ),
  },
  'The work date.',
);
export const InstantField = field(
  {
    format: z
      .enum(['iso', 'local', 'unix', 'unixMs'])
      .default('iso')
      .describe(
        'iso: ISO 8601 date-time (without an offset: in timeZone); local: "<date> <time>" or a time of day on the date field, read with the spreadsheet parsers and locale; unix / unixMs: seconds / milliseconds since 1970.',
      ),
  },
  'A start or end time.',
);
export const DurationField = field(
  {
    unit: z
      .enum(['seconds', 'minutes', 'hours', 'milliseconds', 'text', 'iso8601'])
      .default('seconds')
      .describe(
        'seconds / minutes / milliseconds / hours: a number (hours also as 7:30 or 7,5); text: H:MM or decimal hours; iso8601: PT1H30M.',
      ),
  },
  'A duration.',
);
export const BooleanField = field(
  {
    truthy: z.array(z.string()).optional().describe('Words read as yes (default: yes, true, 1, ja, x, …).'),
    falsy: z.array(z.string()).optional().describe('Words read as no (default: no, false, 0, nee, …).'),
    equals: z.array(scalar).optional().describe('True exactly when the value is one of these (e.g. a status code).'),
    notEquals: z
      .array(scalar)
      .optional()
      .describe('True exactly when the value is none of these (e.g. [0] for "billable time is not zero").'),
    negate: z.boolean().default(false).describe('Invert the result (e.g. an `unbillable` flag mapped onto billable).'),
  },
  'A yes/no field: JSON booleans as they are, text through truthy/falsy.',
);
export const DecimalField = field(
  {
    divideBy: z.number().positive().optional().describe('Divide the number, e.g. 100 for amounts the API sends in cents.'),
  },
  'A decimal number (JSON number or text in locale.decimal).',
);
export const TagsField = field(
  {
    item: jsonPointer.optional().describe('Pointer inside each list item to its name, e.g. /name for [{ "name": "onsite" }].'),
  },
  'Tags: a list of texts (or of objects, with item), or one text split at , ; or |.',
);

export const FieldsSchema = z
  .strictObject({
    externalId: TextField.describe("The record's stable id in the API (required)."),
    date: DateField.optional(),
    start: InstantField.optional(),
    end: InstantField.optional(),
    duration: DurationField.optional().describe(
      'The billed duration, when the API states one: authoritative, anchored at start; start/end are then kept in provenance.sourceTimes.',
    ),
    break: DurationField.optional().describe('Unpaid break, deducted by the rate engine.'),
    worker: TextField.describe('Name of the person who worked (required).'),
    workerId: TextField.optional(),
    client: TextField.describe('Client as the API names it; matched to configured clients (required).'),
    project: TextField.optional(),
    task: TextField.optional(),
    role: TextField.optional(),
    notes: TextField.optional(),
    tags: TagsField.optional(),
    billable: BooleanField.optional().describe('Absent: every entry is billable.'),
    approved: BooleanField.optional().describe('Absent: the API has no notion of approval (null).'),
    billedAtSource: BooleanField.optional().describe('Already invoiced in the tracker: kept and reported, never billed again.'),
    sourceRate: DecimalField.optional(),
    costRate: DecimalField.optional(),
    sourceCurrency: TextField.optional().describe('Currency of sourceRate (three letters), e.g. { value: EUR } or /currency.'),
  })
  .describe('Which record field is which TimeEntry field.');
export type FieldsConfig = z.infer<typeof FieldsSchema>;

export const SkipRuleSchema = z
  .strictObject({
    path: jsonPointer,
    equals: scalar.optional().describe('Skip when the value equals this.'),
    blank: z.boolean().optional().describe('true: skip when the value is absent, null or ""; false: skip when it is present.'),
    reason: z.string().optional().describe('Why such a record is not an entry (shown in the run summary), e.g. "running timer".'),
  })
  .refine((r) => (r.equals === undefined) !== (r.blank === undefined), { message: 'expected exactly one of equals or blank' });

export const RestConfigSchema = z
  .strictObject({
    id: z.string().min(1).describe('Source id, unique in the config.'),
    kind: z.literal('rest'),
    baseUrl: z
      .url()
      .describe('Root of the API, e.g. https://api.example.com/v1 (links elsewhere are never followed with the credentials).'),
    auth: AuthSchema,
    request: z
      .strictObject({
        path: z.string().min(1).describe('Path of the listing under baseUrl, e.g. /time_entries.'),
        params: z.record(z.string(), paramValue).default({}).describe('Fixed query parameters of every listing request.'),
        headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers, e.g. X-Organization-Id.'),
      })
      .describe('The listing request (GET).'),
    records: z
      .strictObject({
        path: jsonPointer.default('').describe('Pointer to the list of records in the response body ("": the body is the list).'),
        included: jsonPointer
          .optional()
          .describe(
            "JSON:API: pointer to the sideloaded resources (/included); each record's relationships.*.data is replaced by the resource it names (three levels deep), so paths can reach e.g. /relationships/person/data/attributes/first_name.",
          ),
      })
      .default({ path: '' }),
    pagination: PaginationSchema.default({ type: 'none' }),
    window: WindowSchema.optional(),
    incremental: IncrementalSchema.optional(),
    fields: FieldsSchema,
    skipWhen: z.array(SkipRuleSchema).default([]).describe('Records that are not entries (running timers, time off): counted as skipped.'),
    timeZone: timeZoneName
      .default('UTC')
      .describe('Zone of local dates and times the API sends without an offset, and of the window dates.'),
    locale: LocaleSchema.default({
      decimal: '.',
      dateFormat: 'yyyy-MM-dd',
      timeFormat: 'auto',
      durationNumbers: 'hours',
      breakUnit: 'auto',
    }).describe('How values written as text are read (the spreadsheet parsers): decimal separator, date format, 12/24 h.'),
    startDate: z.iso.date().optional().describe('First sync lists entries from this date on (default: historyDays back).'),
    historyDays: z.number().int().min(1).max(3660).default(365).describe('With a window and no startDate: days the first sync lists.'),
    ...windowSettings,
    rateLimit: z
      .strictObject({
        requests: z.number().int().positive().default(10).describe('Requests allowed per window.'),
        perSeconds: z.number().positive().default(1).describe('Length of the window in seconds.'),
        resetHeaders: z
          .array(z.string())
          .default([])
          .describe('Headers of a 429/5xx answer that hold seconds until the budget resets (Retry-After is always honoured).'),
        remainingHeader: z
          .string()
          .optional()
          .describe('Header with the requests left (e.g. X-RateLimit-Remaining): at 0 the next request waits.'),
        resetHeader: z
          .string()
          .optional()
          .describe('Header with seconds until the budget resets, read with remainingHeader (e.g. X-RateLimit-Reset).'),
      })
      .default({ requests: 10, perSeconds: 1, resetHeaders: [] })
      .describe("The API's budget, kept on our side (shared across workers through Redis in the queue runner)."),
    retry: retrySettings.optional(),
  })
  .superRefine((c, ctx) => {
    const f = c.fields;
    if (f.date === undefined && f.start === undefined) {
      ctx.addIssue({ code: 'custom', path: ['fields', 'date'], message: 'map a date (or a start holding date and time)' });
    }
    if (f.duration === undefined && (f.start === undefined || f.end === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['fields', 'duration'], message: 'map a duration, or both start and end' });
    }
    if (f.end !== undefined && f.start === undefined)
      ctx.addIssue({ code: 'custom', path: ['fields', 'start'], message: 'an end needs a start' });
    if (c.incremental && !c.window) {
      ctx.addIssue({
        code: 'custom',
        path: ['incremental'],
        message: 'an updated-since filter needs a window: deletions are only seen by re-listing a date window (set window.fromParam)',
      });
    }
    if (c.auth.type === 'apiKey' && c.auth.in === 'query' && c.auth.prefix !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['auth', 'prefix'], message: 'a prefix applies to a header key only' });
    }
  });
export type RestConfig = z.infer<typeof RestConfigSchema>;
export type RestConfigInput = z.input<typeof RestConfigSchema>;
