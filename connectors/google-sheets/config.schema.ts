import { z } from 'zod';
import { mappingShape, refineMapping } from '../../src/mapping/mapping.schema';
import { retrySettings } from '../../src/http/settings';

/**
 * YAML section of a Google Sheets source: which spreadsheet and tab, the service account, and
 * the same column mapping as the CSV/XLSX sources.
 */
export const GoogleSheetsConfigSchema = z
  .strictObject({
    id: z.string().min(1),
    kind: z.literal('google-sheets'),
    spreadsheetId: z.string().min(1).describe('The id in the sheet URL: docs.google.com/spreadsheets/d/<id>/edit.'),
    sheet: z.string().min(1).describe('Tab name, e.g. Uren.'),
    range: z.string().min(1).optional().describe('A1 range inside the tab (default: the whole tab), e.g. A1:K.'),
    keyFile: z.string().min(1).optional().describe('Service-account key file (JSON), relative to the config file.'),
    credentialsJson: z.string().min(1).optional().describe('Service-account key JSON (secret): write ${GOOGLE_SERVICE_ACCOUNT_JSON}.'),
    baseUrl: z.url().default('https://sheets.googleapis.com/').describe('Sheets API root (googleapis rootUrl).'),
    pageSize: z.number().int().min(1).max(100_000).default(5000).describe('Rows per page handed to the ledger.'),
    rateLimit: z
      .strictObject({ requests: z.number().int().positive().default(60), perSeconds: z.number().positive().default(60) })
      .default({ requests: 60, perSeconds: 60 })
      .describe('Sheets allows 60 reads per minute per user per project.'),
    retry: retrySettings.optional(),
    driveBaseUrl: z.url().default('https://www.googleapis.com/').describe("Drive API root, for the poll's look at the file version."),
    poll: z
      .strictObject({
        everySeconds: z.number().int().min(10).max(86_400).describe('Seconds between two looks (queue runner only).'),
      })
      .optional()
      .describe(
        "A cheap frequent poll between scheduled runs: the Drive file's version (files.get, fields version,modifiedTime) is checked before any read; the sheet is read only when it changed. Needs the drive.metadata.readonly scope.",
      ),
    ...mappingShape,
  })
  .superRefine((c, ctx) => {
    if ((c.keyFile === undefined) === (c.credentialsJson === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['keyFile'], message: 'set exactly one of keyFile or credentialsJson (service-account key)' });
    }
    refineMapping(c, ctx);
  });
export type GoogleSheetsConfig = z.infer<typeof GoogleSheetsConfigSchema>;
