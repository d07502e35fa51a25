import { z } from 'zod';
import { retrySettings, timeZoneName, windowSettings } from '../../src/http/settings';

/** YAML section of a Harvest source. Secrets come from the environment: `token: ${HARVEST_TOKEN}`. */
export const HarvestConfigSchema = z.strictObject({
  id: z.string().min(1).describe('Source id, unique in the config.'),
  kind: z.literal('harvest'),
  baseUrl: z.url().default('https://api.harvestapp.com/v2').describe('Harvest API v2 root; override for tests or proxies.'),
  accountId: z
    .union([z.string().regex(/^\d+$/, 'expected the numeric Harvest account id'), z.number().int().positive()])
    .describe('Harvest-Account-Id.'),
  token: z.string().min(1).describe('Personal access token (secret): write ${HARVEST_TOKEN}, never the token itself.'),
  userAgent: z
    .string()
    .min(1)
    .default('Hourbridge (https://github.com/hourbridge/hourbridge)')
    .describe('Harvest requires a User-Agent naming the app and a contact.'),
  timeZone: timeZoneName.default('UTC').describe("Zone of started_time/ended_time when a user's own zone is unknown."),
  userTimeZones: z
    .boolean()
    .default(true)
    .describe("Read each user's time zone (GET /v2/users, one call per run); needs an administrator or manager token."),
  currency: z.string().length(3).optional().describe('Currency of billable_rate (Harvest entries do not carry one).'),
  perPage: z.number().int().min(1).max(2000).default(2000),
  startDate: z.iso.date().optional().describe('First sync lists entries from this date on (default: all history).'),
  ...windowSettings,
  rateLimit: z
    .strictObject({ requests: z.number().int().positive().default(100), perSeconds: z.number().positive().default(15) })
    .default({ requests: 100, perSeconds: 15 })
    .describe('Harvest allows 100 requests per 15 s per account.'),
  retry: retrySettings.optional(),
  poll: z
    .strictObject({
      everySeconds: z.number().int().min(10).max(86_400).describe('Seconds between two looks (queue runner only).'),
    })
    .optional()
    .describe(
      'A cheap frequent poll between scheduled runs: GET /v2/time_entries?updated_since=<last look>&per_page=1, and a pull only when it lists something.',
    ),
});
export type HarvestConfig = z.infer<typeof HarvestConfigSchema>;
export type HarvestConfigInput = z.input<typeof HarvestConfigSchema>;
