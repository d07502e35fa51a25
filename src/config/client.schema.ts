import { z } from 'zod';
import { IANAZone } from 'luxon';
import { BuyerParty, SellerParty } from '../domain/party';
import { ClientVat } from '../domain/tax';

export const timeZoneSchema = z
  .string()
  .refine((tz) => IANAZone.isValidZone(tz), { message: 'expected an IANA time zone such as Europe/Amsterdam' });

export const GroupDimension = z.enum(['worker', 'project', 'task', 'role', 'date', 'rule']);
export type GroupDimension = z.infer<typeof GroupDimension>;

export const PeriodSchema = z.discriminatedUnion('unit', [
  z.strictObject({ unit: z.literal('day') }),
  z.strictObject({
    unit: z.literal('week'),
    weekStart: z.enum(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']).default('monday'),
  }),
  z.strictObject({
    unit: z.literal('two-weeks'),
    weekStart: z.enum(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']).default('monday'),
    /** A date on which a two-week period starts; periods repeat every 14 days from it. */
    anchor: z.iso.date(),
  }),
  z.strictObject({ unit: z.literal('month') }),
]);
export type PeriodConfig = z.infer<typeof PeriodSchema>;

export const ClientSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a lower-case id (letters, digits, - and _)'),
    name: z.string().min(1),
    /** Client names as the sources spell them; matched case-insensitively after trimming. */
    match: z.array(z.string().min(1)).default([]),
    currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 currency code such as EUR'),
    timeZone: timeZoneSchema,
    period: PeriodSchema.default({ unit: 'month' }),
    paymentTermsDays: z.number().int().min(0).max(365).default(30),
    /** Only entries marked approved are invoiced. */
    requireApproval: z.boolean().default(false),
    /** Id of the destination its invoices go to. */
    destination: z.string(),
    lines: z
      .strictObject({
        /** `entry`: one line per entry piece; otherwise group by these dimensions (unit price always separates lines). */
        groupBy: z.union([z.literal('entry'), z.array(GroupDimension).min(1)]).default(['worker', 'project']),
        /** Template with {{worker}} {{project}} {{task}} {{role}} {{date}} {{start}} {{end}} {{rule}} {{label}} {{notes}}; dates and times in the client's zone (README, "clients"). */
        description: z.string().min(1).default('{{project}} — {{worker}}{{label}}'),
      })
      .default({ groupBy: ['worker', 'project'], description: '{{project}} — {{worker}}{{label}}' }),
    vat: ClientVat.optional().describe('VAT of the invoices (EN 16931 category and rate); needed by e-invoice destinations.'),
    buyer: BuyerParty.optional().describe(
      'The client as invoice party: legal name, VAT and company ids, Peppol endpoint, address, references.',
    ),
    seller: SellerParty.optional().describe('The invoicing company for this client; default: the top-level seller.'),
  })
  .describe('A client that is invoiced: currency, time zone, billing period and line layout.');
export type ClientConfig = z.infer<typeof ClientSchema>;
