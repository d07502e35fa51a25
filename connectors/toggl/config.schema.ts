import { z } from 'zod';
import { retrySettings, timeZoneName, windowSettings } from '../../src/http/settings';

/** YAML section of a Toggl Track source. The token comes from the environment: `apiToken: ${TOGGL_API_TOKEN}`. */
export const TogglConfigSchema = z.strictObject({
  id: z.string().min(1),
  kind: z.literal('toggl'),
  apiToken: z.string().min(1).describe('Toggl Track API token (secret): write ${TOGGL_API_TOKEN}.'),
  workspaceId: z.union([z.string().regex(/^\d+$/), z.number().int().positive()]),
  baseUrl: z.url().default('https://api.track.toggl.com').describe('Root of both the v9 API and the Reports v3 API.'),
  /**
   * `workspace`: every member's entries via Reports v3 (rates included; deletions found by
   * re-listing a window). `me`: the token owner's entries via v9 `me/time_entries?since=`
   * (deletions reported by Toggl; no rates).
   */
  scope: z.enum(['workspace', 'me']).default('workspace'),
  timeZone: timeZoneName.default('UTC').describe('Zone that decides an entry’s local date.'),
  startDate: z.iso.date().optional().describe('First sync lists entries from this date on (default: 365 days back).'),
  pageSize: z.number().int().min(1).max(1000).default(50),
  reportSpanDays: z.number().int().min(1).max(366).default(365),
  ...windowSettings,
  reconcileDays: z
    .number()
    .int()
    .min(1)
    .max(3660)
    .default(35)
    .describe(
      "Days re-listed every run (workspace scope): the Reports API has no changed-since filter, so edits and deletions are seen only in this window. Default 35: a month's billing period plus a margin; a run warns when a client's open period starts before it.",
    ),
  rateLimit: z
    .strictObject({ requests: z.number().int().positive().default(1), perSeconds: z.number().positive().default(1) })
    .default({ requests: 1, perSeconds: 1 })
    .describe('Toggl throttles at about one request per second (429) besides the hourly quota (402).'),
  retry: retrySettings.optional(),
});
export type TogglConfig = z.infer<typeof TogglConfigSchema>;
