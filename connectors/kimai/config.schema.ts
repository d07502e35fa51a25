import { z } from 'zod';
import { retrySettings, timeZoneName, windowSettings } from '../../src/http/settings';

/** YAML section of a Kimai source. The token comes from the environment: `token: ${KIMAI_API_TOKEN}`. */
export const KimaiConfigSchema = z.strictObject({
  id: z.string().min(1).describe('Source id, unique in the config.'),
  kind: z.literal('kimai'),
  baseUrl: z.url().describe('Root of the Kimai API of the installation, e.g. https://kimai.example.com/api.'),
  token: z.string().min(1).describe('Kimai API token (secret): write ${KIMAI_API_TOKEN}, never the token itself.'),
  /** Kimai 2 takes `Authorization: Bearer <token>`; Kimai 1.x (and 2.x before 2.0.26's tokens) `X-AUTH-USER` + `X-AUTH-TOKEN`. */
  auth: z
    .enum(['bearer', 'legacy'])
    .default('bearer')
    .describe('bearer: Authorization: Bearer <token> (Kimai 2); legacy: X-AUTH-USER/X-AUTH-TOKEN (older Kimai, needs user).'),
  user: z.string().min(1).optional().describe('Kimai username, only for auth: legacy (X-AUTH-USER).'),
  timeZone: timeZoneName
    .default('UTC')
    .describe("The API user's time zone in Kimai: begin/end/modified_after filters are local date-times in it."),
  currency: z
    .string()
    .length(3)
    .optional()
    .describe("Currency of hourlyRate (Kimai timesheets do not carry one; the customer's currency)."),
  startDate: z.iso.date().optional().describe('First sync lists entries from this date on (default: all history).'),
  pageSize: z.number().int().min(1).max(500).default(250).describe('`size` of each page.'),
  ...windowSettings,
  reconcileDays: z
    .number()
    .int()
    .min(0)
    .max(3660)
    .default(35)
    .describe(
      "Days re-listed every run to see deletions (Kimai reports none; edits are found through modified_after). Default 35: a month's billing period plus a margin; a run warns when a client's open period starts before it.",
    ),
  rateLimit: z
    .strictObject({ requests: z.number().int().positive().default(10), perSeconds: z.number().positive().default(1) })
    .default({ requests: 10, perSeconds: 1 })
    .describe('Self-hosted: Kimai has no documented limit; be gentle with the server.'),
  retry: retrySettings.optional(),
});
export type KimaiConfig = z.infer<typeof KimaiConfigSchema>;
