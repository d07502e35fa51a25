import { z } from 'zod';
import { requireKeyInTemplate } from '../../src/destinations/key-template';

/**
 * YAML section of an Exact Online destination (`kind: exactonline`). The single source of its
 * types, validation and JSON Schema. Secrets are `${ENV}` references interpolated by the loader.
 */

const guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'expected an Exact Online id (GUID)');

/** Exact Online's regional sites: each is its own host, with its own accounts. */
export const REGIONS = ['nl', 'be', 'de', 'co.uk', 'com', 'fr', 'es'] as const;

const TEMPLATE_VARS = ['key', 'keyHash', 'clientId', 'clientName', 'period', 'periodStart', 'periodEnd', 'sequence'] as const;
const template = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    for (const m of value.matchAll(/\{\{\s*([a-zA-Z]+)\s*\}\}/g)) {
      if (!(TEMPLATE_VARS as readonly string[]).includes(m[1] ?? '')) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown template variable {{${m[1]}}}; expected one of ${TEMPLATE_VARS.map((v) => `{{${v}}}`).join(', ')}`,
        });
      }
    }
  });

const customerSchema = z.strictObject({
  /** Use this Account id directly. */
  id: guid.optional(),
  /** Look the account up by its exact Name (default: the client's name). */
  name: z.string().min(1).max(100).optional(),
  /** Create the account (a customer, Status C) when none matches. */
  createMissing: z.boolean().optional(),
});

const itemsByKind = z.strictObject({ time: guid.optional(), fee: guid.optional(), expense: guid.optional(), minimum: guid.optional() });

const invoiceSettings = z.strictObject({
  /** Item of every line (an Exact item id), unless `items` names one for the line's kind. */
  item: guid.optional(),
  items: itemsByKind.optional(),
  /** VAT code of every line (e.g. "2" for 21 % in a Dutch division), unless `vatCodes` maps the line's taxType. */
  vatCode: z.string().min(1).max(3).optional(),
  /** Hourbridge taxType → Exact VAT code. */
  vatCodes: z.record(z.string(), z.string().min(1).max(3)).optional(),
  /** Sales journal code. */
  journal: z.string().min(1).optional(),
  /** Hourbridge's own reference in YourRef, looked up before any create; must contain {{key}} or {{keyHash}}. */
  yourRef: template.optional(),
  /** Invoice description (≤ 60 characters once rendered). */
  description: template.optional(),
  customer: customerSchema.optional(),
});
export type ExactInvoiceSettings = z.infer<typeof invoiceSettings>;

const defaultsSchema = invoiceSettings.extend({
  item: guid,
  journal: z.string().min(1).default('70'),
  yourRef: template.default('HB{{keyHash}}'),
  description: template.default('{{clientName}} {{period}}'),
  customer: customerSchema.default({ createMissing: false }),
});

export const ExactOnlineConfigSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a lower-case id (letters, digits, - and _)'),
    kind: z.literal('exactonline'),
    /** The administration (division) number; `hourbridge connect exactonline` prints the current one. */
    division: z.number().int().positive(),
    /** The site the account lives on: start.exactonline.<region>. */
    region: z.enum(REGIONS).default('nl'),
    /** Site base (override for test servers); default https://start.exactonline.<region>. */
    baseUrl: z.url().optional(),
    auth: z.strictObject({
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      /** Redirect URI registered with the Exact app; default http://localhost:<port>/callback. */
      redirectUri: z.url().optional(),
      /** A refresh token issued outside `hourbridge connect`, used only until the ledger holds a connection. */
      refreshToken: z.string().min(1).optional(),
    }),
    defaults: defaultsSchema,
    clients: z.record(z.string(), invoiceSettings).default({}),
    /** Exact's documented limits per app and division: 60 calls a minute, 5000 a day. */
    rateLimits: z
      .strictObject({
        perMinute: z.number().int().positive().default(60),
        perDay: z.number().int().positive().default(5000),
        concurrent: z.number().int().positive().default(4),
        windowMs: z.number().int().positive().default(60_000),
      })
      .default({ perMinute: 60, perDay: 5000, concurrent: 4, windowMs: 60_000 }),
    requestTimeoutMs: z.number().int().positive().default(30_000),
    maxAttempts: z.number().int().min(1).max(10).default(4),
  })
  .superRefine(requireKeyInTemplate('yourRef', 'yourRef must contain {{key}} or {{keyHash}}: it is how Hourbridge finds its invoice again'))
  .describe('An Exact Online administration (division) that receives draft sales invoices.');

export type ExactOnlineConfig = z.infer<typeof ExactOnlineConfigSchema>;
export type ExactOnlineConfigInput = z.input<typeof ExactOnlineConfigSchema>;

export function siteBase(config: ExactOnlineConfig): string {
  return (config.baseUrl ?? `https://start.exactonline.${config.region}`).replace(/\/+$/, '');
}

export interface EffectiveSettings extends Omit<ExactInvoiceSettings, 'item' | 'journal' | 'yourRef' | 'description' | 'customer'> {
  item: string;
  journal: string;
  yourRef: string;
  description: string;
  customer: z.infer<typeof customerSchema>;
}

export function settingsFor(config: ExactOnlineConfig, clientId: string): EffectiveSettings {
  const o = config.clients[clientId] ?? {};
  const d = config.defaults;
  const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return {
    ...d,
    ...defined,
    items: { ...(d.items ?? {}), ...(o.items ?? {}) },
    vatCodes: { ...(d.vatCodes ?? {}), ...(o.vatCodes ?? {}) },
    customer: { ...d.customer, ...(o.customer ?? {}) },
  } as EffectiveSettings;
}

export const exactOnlineSecretFields = ['auth.clientSecret', 'auth.refreshToken'] as const;
