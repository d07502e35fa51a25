import { z } from 'zod';
import { requireKeyInTemplate } from '../../src/destinations/key-template';

/**
 * YAML section of a QuickBooks Online destination (`kind: quickbooks`). The single source of its
 * types, validation and JSON Schema. Secrets are `${ENV}` references interpolated by the loader.
 */

/** A QuickBooks entity id (ItemRef, TaxCodeRef, CustomerRef values are numeric strings; US tax codes are TAX/NON). */
const ref = z.string().min(1).max(100);

const TEMPLATE_VARS = ['key', 'keyHash', 'clientId', 'clientName', 'period', 'periodStart', 'periodEnd', 'sequence'] as const;
const templateVarRe = /\{\{\s*([a-zA-Z]+)\s*\}\}/g;
const template = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    for (const m of value.matchAll(templateVarRe)) {
      if (!(TEMPLATE_VARS as readonly string[]).includes(m[1] ?? '')) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown template variable {{${m[1]}}}; expected one of ${TEMPLATE_VARS.map((v) => `{{${v}}}`).join(', ')}`,
        });
      }
    }
  });

const customerSchema = z.strictObject({
  /** Use this Customer Id directly. */
  id: ref.optional(),
  /** Look the customer up by its exact DisplayName (default: the client's name). */
  displayName: z.string().min(1).max(500).optional(),
  /** Create the customer (by DisplayName) when none matches. */
  createMissing: z.boolean().optional(),
});

const itemsByKind = z.strictObject({
  time: ref.optional(),
  fee: ref.optional(),
  expense: ref.optional(),
  minimum: ref.optional(),
});

/** Settings that have a default and may be overridden per Hourbridge client id. */
const invoiceSettings = z.strictObject({
  /** ItemRef of every line (a Service item of the company), unless `items` names one for the line's kind. */
  itemRef: ref.optional(),
  /** ItemRef per line kind (time, fee, expense, minimum). */
  items: itemsByKind.optional(),
  /** TaxCodeRef of every line (non-US companies: a TaxCode Id; US: TAX or NON), unless `taxCodes` maps the line's taxType. */
  taxCode: ref.optional(),
  /** Hourbridge line taxType → TaxCodeRef. */
  taxCodes: z.record(z.string(), ref).optional(),
  /** Deterministic DocNumber (at most 21 characters once rendered); must contain {{key}} or {{keyHash}}. */
  docNumber: template.optional(),
  customer: customerSchema.optional(),
});
export type QuickBooksInvoiceSettings = z.infer<typeof invoiceSettings>;

const defaultsSchema = invoiceSettings.extend({
  itemRef: ref,
  docNumber: template.default('HB{{keyHash}}'),
  customer: customerSchema.default({ createMissing: false }),
});

const ENDPOINTS = {
  production: 'https://quickbooks.api.intuit.com/v3',
  sandbox: 'https://sandbox-quickbooks.api.intuit.com/v3',
} as const;

const oauthDefaults = {
  authorizeUrl: 'https://appcenter.intuit.com/connect/oauth2',
  tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
};

export const QuickBooksConfigSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a lower-case id (letters, digits, - and _)'),
    kind: z.literal('quickbooks'),
    /** The company (realm) id; `hourbridge connect quickbooks` prints it. */
    realmId: z.string().regex(/^\d+$/, 'expected a QuickBooks realm (company) id: digits only'),
    environment: z.enum(['production', 'sandbox']).default('production'),
    /** Accounting API base (override for test servers); default by `environment`. */
    baseUrl: z.url().optional(),
    /** Sent as minorversion on every call. */
    minorVersion: z.number().int().positive().default(75),
    auth: z.strictObject({
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      scopes: z.array(z.string().min(1)).min(1).default(['com.intuit.quickbooks.accounting']),
      /** Redirect URI registered with the Intuit app; default http://localhost:<port>/callback. */
      redirectUri: z.url().optional(),
      /**
       * A refresh token issued outside `hourbridge connect` (e.g. Intuit's OAuth Playground), used
       * only until the ledger holds a connection: the ledger keeps every rotated one after that.
       */
      refreshToken: z.string().min(1).optional(),
    }),
    oauth: z
      .strictObject({
        authorizeUrl: z.url().default(oauthDefaults.authorizeUrl),
        tokenUrl: z.url().default(oauthDefaults.tokenUrl),
      })
      .default(oauthDefaults),
    defaults: defaultsSchema,
    /** Per Hourbridge client id: overrides of `defaults`. */
    clients: z.record(z.string(), invoiceSettings).default({}),
    /** Intuit's documented per-realm limits: 500 requests a minute, 10 at once. Lower them for a shared app. */
    rateLimits: z
      .strictObject({
        requestsPerMinute: z.number().int().positive().default(500),
        concurrent: z.number().int().positive().max(10).default(10),
        windowMs: z.number().int().positive().default(60_000),
      })
      .default({ requestsPerMinute: 500, concurrent: 10, windowMs: 60_000 }),
    requestTimeoutMs: z.number().int().positive().default(30_000),
    /** Attempts per request on a 429, 5xx or lost answer before giving up for this run. */
    maxAttempts: z.number().int().min(1).max(10).default(4),
    /** Webhooks verifier token of the Intuit app (a `${ENV}` reference), for the intuit-signature check. */
    webhookVerifierToken: z.string().min(1).optional(),
  })
  .superRefine(
    requireKeyInTemplate(
      'docNumber',
      'docNumber template must contain {{key}} or {{keyHash}} so that each invoice gets a unique, repeatable number',
    ),
  )
  .describe('A QuickBooks Online company (realm) that receives estimates for finance to convert into invoices.');

export type QuickBooksConfig = z.infer<typeof QuickBooksConfigSchema>;
export type QuickBooksConfigInput = z.input<typeof QuickBooksConfigSchema>;

export function apiBase(config: QuickBooksConfig): string {
  return (config.baseUrl ?? ENDPOINTS[config.environment]).replace(/\/+$/, '');
}

export interface EffectiveSettings extends Omit<QuickBooksInvoiceSettings, 'itemRef' | 'docNumber' | 'customer'> {
  itemRef: string;
  docNumber: string;
  customer: z.infer<typeof customerSchema>;
}

export function settingsFor(config: QuickBooksConfig, clientId: string): EffectiveSettings {
  const o = config.clients[clientId] ?? {};
  const d = config.defaults;
  const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return {
    ...d,
    ...defined,
    items: { ...(d.items ?? {}), ...(o.items ?? {}) },
    taxCodes: { ...(d.taxCodes ?? {}), ...(o.taxCodes ?? {}) },
    customer: { ...d.customer, ...(o.customer ?? {}) },
  } as EffectiveSettings;
}

export const quickBooksSecretFields = ['auth.clientSecret', 'auth.refreshToken', 'webhookVerifierToken'] as const;
