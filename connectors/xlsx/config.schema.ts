import { z } from 'zod';
import { mappingShape, refineMapping } from '../../src/mapping/mapping.schema';

/** YAML section of an Excel workbook source: which file and sheet, and its column mapping. */
export const XlsxConfigSchema = z
  .strictObject({
    id: z.string().min(1).describe('Source id, unique in the config.'),
    kind: z.literal('xlsx'),
    path: z.string().min(1).describe("Path of the .xlsx file, relative to the config file's directory."),
    sheet: z.string().min(1).optional().describe('Worksheet name; default the first sheet.'),
    pageSize: z.number().int().min(1).max(100_000).default(5000).describe('Rows per page handed to the ledger.'),
    ...mappingShape,
  })
  .superRefine(refineMapping);
export type XlsxConfig = z.infer<typeof XlsxConfigSchema>;
export type XlsxConfigInput = z.input<typeof XlsxConfigSchema>;
