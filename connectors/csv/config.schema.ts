import { z } from 'zod';
import { mappingShape, refineMapping } from '../../src/mapping/mapping.schema';

/** YAML section of a CSV source: where the file is, how it is written, and its column mapping. */
export const CsvConfigSchema = z
  .strictObject({
    id: z.string().min(1).describe('Source id, unique in the config.'),
    kind: z.literal('csv'),
    path: z.string().min(1).describe("Path of the CSV file, relative to the config file's directory."),
    delimiter: z
      .enum([',', ';', '\t', 'tab', '|', 'auto'])
      .default('auto')
      .describe('Field separator; auto picks the one the header row uses most (; , tab or |).'),
    encoding: z
      .enum(['utf-8', 'utf-16le', 'latin1', 'windows-1252'])
      .default('utf-8')
      .describe('Text encoding; a byte-order mark is stripped.'),
    quote: z.string().length(1).default('"').describe('Quote character around fields that contain the delimiter or line breaks.'),
    pageSize: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(250)
      .describe('Rows read and mapped at a time; the ledger writes several pages together (up to 2,000 entries).'),
    parseThread: z
      .enum(['auto', 'on', 'off'])
      .default('auto')
      .describe('Parse the file on a worker thread, beside the mapping: auto does so for files of 8 MiB and more.'),
    ...mappingShape,
  })
  .superRefine(refineMapping);
export type CsvConfig = z.infer<typeof CsvConfigSchema>;
export type CsvConfigInput = z.input<typeof CsvConfigSchema>;
