import { z } from 'zod';
import { destinationConnectors, sourceConnectors } from '../../connectors/index';
import { ratesConfigSchema } from '../rates/index';
import { ClientSchema, timeZoneSchema } from './client.schema';
import { SellerParty } from '../domain/party';

// The registry holds each connector's own schema; the root config selects one by `kind`.
// zod's discriminatedUnion needs object schemas with a literal `kind`, which every connector
// schema is (checked by the connector conformance tests); the casts only restore that fact.
type Discriminable = z.ZodObject<{ kind: z.ZodLiteral<string> }>;

function byKind(schemas: z.ZodType[], what: string): z.ZodType {
  if (schemas.length === 0) return z.never({ message: `no ${what} connectors are registered` });
  if (schemas.length === 1) return schemas[0]!;
  return z.discriminatedUnion('kind', schemas as unknown as [Discriminable, Discriminable, ...Discriminable[]]);
}

export const SourceConfigSchema = byKind(
  sourceConnectors.map((c) => c.configSchema as z.ZodType),
  'source',
);
export const DestinationConfigSchema = byKind(
  destinationConnectors.map((c) => c.configSchema as z.ZodType),
  'destination',
);

export interface SourceConfig {
  id: string;
  kind: string;
  [key: string]: unknown;
}
export interface DestinationConfig {
  id: string;
  kind: string;
  [key: string]: unknown;
}

const idSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a lower-case id (letters, digits, - and _)');

/** A named run of the queue runner: which sources to pull, and when (cron in an IANA zone). */
export const PipelineSchema = z
  .strictObject({
    id: idSchema.describe('Pipeline id, used by `hourbridge run --pipeline <id>` and `POST /pipelines/<id>/run`.'),
    sources: z.array(z.string()).min(1).optional().describe('Ids of the sources this pipeline pulls; absent: every source.'),
    schedule: z
      .strictObject({
        cron: z
          .string()
          .regex(/^\s*\S+(\s+\S+){4,5}\s*$/, 'expected a cron expression with 5 or 6 fields, e.g. "0 6 * * 1-5"')
          .describe('Cron expression (5 fields, or 6 with seconds first).'),
        timeZone: timeZoneSchema.describe('IANA time zone the cron expression is evaluated in, e.g. Europe/Amsterdam.'),
      })
      .optional()
      .describe('When the pipeline runs by itself; absent: only on demand.'),
  })
  .describe('A pipeline: pull these sources, then price, assemble and push.');
export type PipelineConfig = z.infer<typeof PipelineSchema>;

/** Live updates (src/live): debounce of pulls and assemblies, and the replay window of webhooks. */
export const LiveSchema = z.strictObject({
  pullDelayMs: z
    .number()
    .int()
    .min(0)
    .max(600_000)
    .default(1000)
    .describe('A webhook queues a pull of its entries this many ms later; events of the same source meanwhile join that pull.'),
  assembleDelayMs: z
    .number()
    .int()
    .min(0)
    .max(600_000)
    .default(2000)
    .describe("A pulled change queues its client's assembly this many ms later; changes meanwhile join it (one assembly per burst)."),
  replayWindowSeconds: z
    .number()
    .int()
    .min(10)
    .max(86_400)
    .default(300)
    .describe(
      'A signed event whose own send time is further than this from now is refused (401), and a delivery already seen within it is refused as a replay.',
    ),
});
export type LiveConfig = z.infer<typeof LiveSchema>;
export const LIVE_DEFAULTS: LiveConfig = LiveSchema.parse({});

/** The HTTP service and queue runner (`hourbridge serve`/`worker`). Secrets come from the environment via ${VAR}. */
export const ServerSchema = z
  .strictObject({
    port: z.number().int().min(1).max(65535).default(8080).describe('HTTP port of `hourbridge serve`.'),
    metricsPort: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .optional()
      .describe(
        'Port of the GET /metrics listener (Prometheus) of each `hourbridge worker`; default 9464, 0: none. `--metrics-port` overrides it.',
      ),
    apiTokens: z
      .array(z.string().min(16, 'an API token must be at least 16 characters'))
      .default([])
      .describe(
        'Bearer tokens accepted by the HTTP API, e.g. ["${HOURBRIDGE_API_TOKEN}"]; HOURBRIDGE_API_TOKENS (comma-separated) adds more.',
      ),
    financeTokens: z
      .array(z.string().min(16, 'a finance token must be at least 16 characters'))
      .default([])
      .describe(
        'Read-only tokens for the finance pages (log in at /ui/login), e.g. ["${HOURBRIDGE_FINANCE_TOKEN}"]; HOURBRIDGE_FINANCE_TOKENS (comma-separated) adds more. apiTokens are operator tokens: they may also start runs and re-check connectors.',
      ),
    webhooks: z
      .strictObject({
        xero: z.string().min(1).optional().describe('Xero webhook signing key, e.g. "${XERO_WEBHOOK_KEY}".'),
      })
      .default({})
      .describe('Signing keys of inbound webhooks.'),
    live: LiveSchema.optional().describe(
      'Live updates: how tracker webhooks (POST /hooks/sources/<id>) and source polls become updated drafts.',
    ),
    redisUrl: z.string().optional().describe('Redis URL of the queues; absent: REDIS_URL, else redis://127.0.0.1:6379.'),
    queuePrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default('hourbridge')
      .describe('Prefix of every queue key in Redis (several installations can share one Redis).'),
  })
  .describe('HTTP API and queue settings.');
export type ServerConfig = z.infer<typeof ServerSchema>;

export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path of the JSON Schema editors use to check this file.'),
    version: z.literal(1).default(1).describe('Config format version.'),
    ledger: z
      .strictObject({
        url: z
          .string()
          .optional()
          .describe('postgres:// URL of a PostgreSQL server. Empty or absent: DATABASE_URL, else the embedded ledger in dataDir.'),
        dataDir: z
          .string()
          .default('./data/ledger')
          .describe('Directory of the embedded (PGlite) ledger, relative to the working directory.'),
      })
      .default({ dataDir: './data/ledger' }),
    sources: z.array(SourceConfigSchema).min(1).describe('Where hours come from.'),
    seller: SellerParty.optional().describe(
      'The invoicing company (legal name, VAT id, address, IBAN): shown on every draft and e-invoice.',
    ),
    clients: z.array(ClientSchema).min(1).describe('Who is invoiced, and how.'),
    rates: ratesConfigSchema,
    destinations: z.array(DestinationConfigSchema).min(1).describe('Where draft invoices go.'),
    pipelines: z
      .array(PipelineSchema)
      .default([])
      .describe('Named runs for the queue runner (`hourbridge serve`/`worker`/`run`); none: one pipeline "all" over every source.'),
    server: ServerSchema.default({ port: 8080, apiTokens: [], financeTokens: [], webhooks: {}, queuePrefix: 'hourbridge' }),
  })
  .superRefine((cfg, ctx) => {
    const sourceIds = new Set((cfg.sources as SourceConfig[]).map((s) => s.id));
    const seen = new Set<string>();
    cfg.pipelines.forEach((p, i) => {
      if (seen.has(p.id)) ctx.addIssue({ code: 'custom', path: ['pipelines', i, 'id'], message: `duplicate pipeline id "${p.id}"` });
      seen.add(p.id);
      (p.sources ?? []).forEach((id, j) => {
        if (!sourceIds.has(id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['pipelines', i, 'sources', j],
            message: `unknown source "${id}" (expected one of: ${[...sourceIds].join(', ')})`,
          });
        }
      });
    });
  })
  .superRefine((cfg, ctx) => {
    const unique = (list: Array<{ id: string }>, key: string) => {
      const seen = new Map<string, number>();
      list.forEach((item, i) => {
        if (seen.has(item.id)) {
          ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `duplicate id "${item.id}" (also ${key}[${seen.get(item.id)}])` });
        } else seen.set(item.id, i);
      });
    };
    unique(cfg.sources as SourceConfig[], 'sources');
    unique(cfg.clients, 'clients');
    unique(cfg.destinations as DestinationConfig[], 'destinations');
    const destinations = new Set((cfg.destinations as DestinationConfig[]).map((d) => d.id));
    cfg.clients.forEach((c, i) => {
      if (!destinations.has(c.destination)) {
        ctx.addIssue({
          code: 'custom',
          path: ['clients', i, 'destination'],
          message: `unknown destination "${c.destination}" (expected one of: ${[...destinations].join(', ')})`,
        });
      }
    });
    const matchers = new Map<string, string>();
    cfg.clients.forEach((c, i) => {
      for (const [j, name] of [c.id, c.name, ...c.match].entries()) {
        const norm = name.trim().toLowerCase();
        const other = matchers.get(norm);
        if (other !== undefined && other !== c.id) {
          ctx.addIssue({
            code: 'custom',
            path: j >= 2 ? ['clients', i, 'match', j - 2] : ['clients', i, j === 0 ? 'id' : 'name'],
            message: `"${name}" already identifies client "${other}": a source name must map to one client`,
          });
        } else matchers.set(norm, c.id);
      }
    });
  })
  // Each client carries its seller (its own, else the top-level one), so a draft is built from
  // its client alone and a seller change re-assembles the drafts it is on.
  .transform((cfg) => (cfg.seller ? { ...cfg, clients: cfg.clients.map((c) => (c.seller ? c : { ...c, seller: cfg.seller })) } : cfg));

export type RawConfig = z.infer<typeof ConfigSchema>;
export { idSchema };
