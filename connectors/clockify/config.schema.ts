import { z } from 'zod';
import { retrySettings, timeZoneName, windowSettings } from '../../src/http/settings';

/** YAML section of a Clockify source. The key comes from the environment: `apiKey: ${CLOCKIFY_API_KEY}`. */
export const ClockifyConfigSchema = z.strictObject({
  id: z.string().min(1),
  kind: z.literal('clockify'),
  apiKey: z.string().min(1).describe('Clockify API key (secret): write ${CLOCKIFY_API_KEY}.'),
  workspaceId: z.string().min(1),
  baseUrl: z.url().default('https://api.clockify.me/api/v1').describe('Regional hosts: e.g. https://euc1.clockify.me/api/v1.'),
  reportsBaseUrl: z
    .url()
    .default('https://reports.api.clockify.me/v1')
    .describe('Reports API root; regional hosts: e.g. https://euc1.clockify.me/report/v1.'),
  /** `reports`: workspace-wide detailed report; `users`: per-user time entries; `auto`: reports, else per user. */
  api: z.enum(['auto', 'reports', 'users']).default('auto'),
  timeZone: timeZoneName.default('UTC').describe('Zone that decides the local date of an entry (per-user zones are used when known).'),
  startDate: z.iso.date().optional().describe('First sync lists entries from this date on (default: 365 days back).'),
  pageSize: z.number().int().min(1).max(1000).default(200),
  /** Longest date span of one report request (Clockify's free plan limits reports to about a month). */
  reportSpanDays: z.number().int().min(1).max(366).default(31),
  ...windowSettings,
  reconcileDays: z
    .number()
    .int()
    .min(1)
    .max(3660)
    .default(35)
    .describe(
      "Days re-listed every run: Clockify has no changed-since filter, so edits and deletions are seen only in this window. Default 35: a month's billing period plus a margin; a run warns when a client's open period starts before it.",
    ),
  rateLimit: z
    .strictObject({ requests: z.number().int().positive().default(50), perSeconds: z.number().positive().default(1) })
    .default({ requests: 50, perSeconds: 1 }),
  retry: retrySettings.optional(),
});
export type ClockifyConfig = z.infer<typeof ClockifyConfigSchema>;
