import { z } from 'zod';

export const fileDestinationSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a lower-case id (letters, digits, - and _)'),
    kind: z.literal('file'),
    /** Output directory, relative to the working directory. */
    dir: z.string().min(1).default('./out').describe('Directory the drafts are written to (relative to the working directory).'),
    formats: z
      .array(z.enum(['json', 'html']))
      .min(1)
      .default(['json', 'html'])
      .describe('json: the documented machine-readable draft; html: a readable rendering.'),
  })
  .describe('Writes each draft invoice as <key>.json plus a readable <key>.html.');
export type FileDestinationConfig = z.infer<typeof fileDestinationSchema>;
