import { z } from 'zod';
import { retrySettings } from '../../src/http/settings';

/**
 * YAML section of a `kind: webhook` destination: every draft is POSTed, signed, to `url`
 * (README.md documents the payload, version 1). The signing secret comes from the environment:
 * `secret: ${HOURBRIDGE_WEBHOOK_SECRET}`.
 */
export const WebhookConfigSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a lower-case id (letters, digits, - and _)'),
    kind: z.literal('webhook'),
    url: z.url().describe('The receiver: each draft (and each deletion of an emptied draft) is POSTed here.'),
    secret: z
      .string()
      .min(16, 'the signing secret must be at least 16 characters')
      .describe('HMAC-SHA256 key (secret) of the Hourbridge-Signature header, both ways: write ${HOURBRIDGE_WEBHOOK_SECRET}.'),
    statusUrl: z
      .url()
      .optional()
      .describe('Optional: GET <statusUrl>?ids=<id>,… answers what finance did with each document (approved, paid, voided, deleted).'),
    timeoutMs: z.number().int().positive().default(10_000).describe('How long one request may take before it counts as unanswered.'),
    concurrency: z.number().int().min(1).max(16).default(4).describe('Requests in flight at once.'),
    rateLimit: z
      .strictObject({ requests: z.number().int().positive(), perSeconds: z.number().positive() })
      .optional()
      .describe("The receiver's request limit, if it has one (shared by every worker process)."),
    retry: retrySettings.optional(),
  })
  .describe('POSTs each draft invoice, as documented JSON (version 1) with an HMAC-SHA256 signature, to a URL.');
export type WebhookConfig = z.infer<typeof WebhookConfigSchema>;

export const webhookSecretFields = ['secret'] as const;
