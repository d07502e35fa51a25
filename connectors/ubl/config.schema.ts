import { z } from 'zod';

export const ublDestinationSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a lower-case id (letters, digits, - and _)'),
    kind: z.literal('ubl'),
    dir: z
      .string()
      .min(1)
      .default('./out')
      .describe('Directory the e-invoices are written to as <key>.xml (relative to the working directory).'),
    formats: z
      .array(z.enum(['xml', 'json', 'html']))
      .min(1)
      .refine((f) => f.includes('xml'), 'formats must include xml (the e-invoice)')
      .default(['xml', 'json', 'html'])
      .describe('xml: the UBL e-invoice; json and html: the same draft as the file destination writes them, beside it.'),
    hook: z
      .strictObject({
        command: z
          .array(z.string().min(1))
          .min(1)
          .describe(
            'Program and arguments run after each document is written, e.g. ["./send-to-ap.sh"]; the file path is added as the last argument. No shell.',
          ),
        timeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(3600)
          .default(60)
          .describe('A hook still running after this is stopped and the write counts as failed.'),
      })
      .optional()
      .describe(
        "Command per written document (an access point's CLI or upload script). Exit 0: written; otherwise the write failed and is tried again on the next sync.",
      ),
  })
  .describe('Writes each draft as a Peppol BIS Billing 3.0 UBL 2.1 Invoice (CreditNote when its net is negative), <key>.xml.');
export type UblDestinationConfig = z.infer<typeof ublDestinationSchema>;
