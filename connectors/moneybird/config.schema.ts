import { z } from 'zod';
import { retrySettings } from '../../src/http/settings';

const moneybirdId = z.string().regex(/^\d+$/, 'expected a Moneybird id (digits), e.g. "123456789012345678"');

/** Per-client overrides: the contact to invoice and the bookkeeping of its lines. */
const ClientSettings = z.strictObject({
  contactId: moneybirdId.optional().describe('Moneybird contact to invoice; absent: found by customer_id = the client id, or created.'),
  taxRateId: moneybirdId.optional().describe("Tax rate of this client's lines (overrides defaults.taxRateId)."),
  ledgerAccountId: moneybirdId.optional().describe("Revenue ledger account of this client's lines (overrides defaults.ledgerAccountId)."),
});

/**
 * YAML section of a Moneybird destination (connectors/moneybird/README.md). The API token comes
 * from the environment: `token: ${MONEYBIRD_API_TOKEN}`.
 */
export const MoneybirdConfigSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a lower-case id (letters, digits, - and _)'),
    kind: z.literal('moneybird'),
    administrationId: moneybirdId.describe('The administration: the number after moneybird.com/ when it is open.'),
    token: z.string().min(1).describe('Moneybird API token (secret, bearer): write ${MONEYBIRD_API_TOKEN}, never the token itself.'),
    baseUrl: z.url().default('https://moneybird.com/api/v2').describe('API root; override for tests.'),
    webhookToken: z
      .string()
      .min(1)
      .optional()
      .describe("Secret: the `token` Moneybird answered when the webhook was created; each delivery's webhook_token must equal it."),
    defaults: z
      .strictObject({
        taxRateId: moneybirdId.describe('Tax rate id of every line unless its tax type or client says otherwise.'),
        ledgerAccountId: moneybirdId.describe('Revenue ledger account id of every line unless its client says otherwise.'),
        workflowId: moneybirdId.optional().describe('Invoice workflow; absent: the administration default.'),
        documentStyleId: moneybirdId.optional().describe('Document style; absent: the administration default.'),
      })
      .describe('Bookkeeping of the lines.'),
    taxRates: z
      .record(z.string(), moneybirdId)
      .default({})
      .describe('Tax type of a line (a client\'s `lines.taxType`) → Moneybird tax rate id, e.g. { "NL-high": "4009..." }.'),
    clients: z.record(z.string(), ClientSettings).default({}).describe('Per client id: contact, tax rate, ledger account.'),
    contacts: z
      .strictObject({ createMissing: z.boolean().default(true) })
      .default({ createMissing: true })
      .describe('createMissing: a client with no contact in Moneybird (by customer_id) gets one, named as the client.'),
    rateLimit: z
      .strictObject({ requests: z.number().int().positive().default(150), perSeconds: z.number().positive().default(300) })
      .default({ requests: 150, perSeconds: 300 })
      .describe("Moneybird's limit: 150 requests per 5 minutes (shared by every worker process)."),
    timeoutMs: z.number().int().positive().default(30_000),
    retry: retrySettings.optional(),
  })
  .describe('Draft sales invoices in a Moneybird administration (API v2).');
export type MoneybirdConfig = z.infer<typeof MoneybirdConfigSchema>;

export const moneybirdSecretFields = ['token', 'webhookToken'] as const;
