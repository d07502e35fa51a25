import { z } from 'zod';
import { requireKeyInTemplate } from '../../src/destinations/key-template';

/**
 * YAML section of a Xero destination (`kind: xero`). The single source of its types,
 * validation and JSON Schema. Secrets are `${ENV}` references interpolated by the loader.
 */

const uuid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'expected a Xero id (UUID)');

const trackingOption = z.strictObject({
  /** Tracking category name as in Xero, e.g. "Region". */
  name: z.string().min(1).max(100),
  /** Option within the category, e.g. "North". */
  option: z.string().min(1).max(100),
});

/** How the Xero contact of an invoice is found. */
const contactSchema = z.strictObject({
  /** Use this ContactID directly. */
  contactId: uuid.optional(),
  /** Look the contact up by ContactNumber. */
  contactNumber: z.string().min(1).optional(),
  /** Look the contact up by its exact name (default: the client's name). */
  name: z.string().min(1).optional(),
  /** Create the contact (by name) when no match is found. */
  createMissing: z.boolean().optional(),
});

const TEMPLATE_VARS = ['key', 'keyHash', 'clientId', 'clientName', 'period', 'periodStart', 'periodEnd', 'sequence'] as const;
const templateVarRe = /\{\{\s*([a-zA-Z]+)\s*\}\}/g;
const template = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    for (const m of value.matchAll(templateVarRe)) {
      if (!(TEMPLATE_VARS as readonly string[]).includes(m[1]!)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown template variable {{${m[1]}}}; expected one of ${TEMPLATE_VARS.map((v) => `{{${v}}}`).join(', ')}`,
        });
      }
    }
  });

/** Settings that have a default and may be overridden per Hourbridge client id. */
const invoiceSettings = z.strictObject({
  accountCode: z.string().min(1).optional(),
  itemCode: z.string().min(1).optional(),
  taxType: z.string().min(1).optional(),
  tracking: z.array(trackingOption).max(2, 'Xero allows at most 2 tracking categories per line').optional(),
  brandingThemeId: uuid.optional(),
  lineAmountType: z.enum(['Exclusive', 'Inclusive', 'NoTax']).optional(),
  /** Deterministic InvoiceNumber; must contain {{key}} or {{keyHash}} so every invoice key gets its own. */
  invoiceNumber: template.optional(),
  reference: template.optional(),
  /** Unit price precision: 2 (Xero default) or 4 (sent as unitdp=4). */
  unitPriceDecimals: z.union([z.literal(2), z.literal(4)]).optional(),
  contact: contactSchema.optional(),
});
export type XeroInvoiceSettings = z.infer<typeof invoiceSettings>;

const scopes = z.array(z.string().min(1)).min(1);

const authSchema = z.discriminatedUnion('grant', [
  z.strictObject({
    /** Custom connection: one organisation, no refresh token. */
    grant: z.literal('client_credentials'),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    scopes: scopes.default(['accounting.invoices', 'accounting.contacts']),
  }),
  z.strictObject({
    grant: z.literal('authorization_code'),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    /** Granular (accounting.invoices …) or broad (accounting.transactions …); offline_access is required. */
    scopes: scopes
      .default(['openid', 'offline_access', 'accounting.invoices', 'accounting.contacts'])
      .refine((s) => s.includes('offline_access'), {
        message: 'scopes must include offline_access (Xero only issues refresh tokens with it)',
      }),
    /** Redirect URI registered with the Xero app; default http://localhost:<port>/callback. */
    redirectUri: z.url().optional(),
  }),
]);

const defaultsSchema = invoiceSettings.extend({
  invoiceNumber: template.default('HB-{{key}}'),
  reference: template.default('{{period}}'),
  unitPriceDecimals: z.union([z.literal(2), z.literal(4)]).default(2),
  lineAmountType: z.enum(['Exclusive', 'Inclusive', 'NoTax']).default('Exclusive'),
  contact: contactSchema.default({ createMissing: false }),
});

export const XeroConfigSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a lower-case id (letters, digits, - and _)'),
    kind: z.literal('xero'),
    /** Xero organisation (tenant) id; `hourbridge connect xero` prints it. */
    tenantId: uuid,
    auth: authSchema,
    /** Accounting API base, e.g. https://api.xero.com/api.xro/2.0 (override for test servers). */
    baseUrl: z.url().default('https://api.xero.com/api.xro/2.0'),
    identity: z
      .strictObject({
        tokenUrl: z.url().default('https://identity.xero.com/connect/token'),
        authorizeUrl: z.url().default('https://login.xero.com/identity/connect/authorize'),
        connectionsUrl: z.url().default('https://api.xero.com/connections'),
      })
      .default({
        tokenUrl: 'https://identity.xero.com/connect/token',
        authorizeUrl: 'https://login.xero.com/identity/connect/authorize',
        connectionsUrl: 'https://api.xero.com/connections',
      }),
    defaults: defaultsSchema.default(defaultsSchema.parse({})),
    /** Per Hourbridge client id: overrides of `defaults`. */
    clients: z.record(z.string(), invoiceSettings).default({}),
    /** Xero's documented per-organisation limits; lower them for a Starter tier, scale them for tests. */
    rateLimits: z
      .strictObject({
        concurrent: z.number().int().positive().default(5),
        callsPerWindow: z.number().int().positive().default(60),
        windowMs: z.number().int().positive().default(60_000),
        callsPerDay: z.number().int().positive().default(5_000),
      })
      .default({ concurrent: 5, callsPerWindow: 60, windowMs: 60_000, callsPerDay: 5_000 }),
    batchSize: z.number().int().min(1).max(50).default(50),
    requestTimeoutMs: z.number().int().positive().default(30_000),
    /** Attempts per request on an uncertain outcome (timeout, network, 5xx) before giving up for this run. */
    maxAttempts: z.number().int().min(1).max(10).default(4),
    /** Webhook signing key (a `${ENV}` reference) for status updates. */
    webhookKey: z.string().min(1).optional(),
  })
  .superRefine(
    requireKeyInTemplate(
      'invoiceNumber',
      'invoice number template must contain {{key}} or {{keyHash}} so that each invoice gets a unique, repeatable number',
    ),
  )
  .describe('A Xero organisation that receives draft sales invoices.');

export type XeroConfig = z.infer<typeof XeroConfigSchema>;
export type XeroConfigInput = z.input<typeof XeroConfigSchema>;

/** Effective settings for one client: defaults overlaid with that client's overrides. */
export interface EffectiveSettings
  extends Omit<XeroInvoiceSettings, 'invoiceNumber' | 'reference' | 'unitPriceDecimals' | 'lineAmountType' | 'contact'> {
  invoiceNumber: string;
  reference: string;
  unitPriceDecimals: 2 | 4;
  lineAmountType: 'Exclusive' | 'Inclusive' | 'NoTax';
  contact: z.infer<typeof contactSchema>;
}

export function settingsFor(config: XeroConfig, clientId: string): EffectiveSettings {
  const o = config.clients[clientId] ?? {};
  const d = config.defaults;
  const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return {
    ...d,
    ...defined,
    contact: { ...d.contact, ...(o.contact ?? {}) },
  } as EffectiveSettings;
}

export const xeroSecretFields = ['auth.clientSecret', 'webhookKey'] as const;
