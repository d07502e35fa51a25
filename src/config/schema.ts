import { z } from 'zod';
import { destinationConnectors, sourceConnectors } from '../../connectors/index';
import { ratesConfigSchema } from '../rates/index';
import { ClientSchema } from './client.schema';

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
        dataDir: z.string().default('./data/ledger').describe('Directory of the embedded (PGlite) ledger, relative to the working directory.'),
      })
      .default({ dataDir: './data/ledger' }),
    sources: z.array(SourceConfigSchema).min(1).describe('Where hours come from.'),
    clients: z.array(ClientSchema).min(1).describe('Who is invoiced, and how.'),
    rates: ratesConfigSchema,
    destinations: z.array(DestinationConfigSchema).min(1).describe('Where draft invoices go.'),
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
  });

export type RawConfig = z.infer<typeof ConfigSchema>;
export { idSchema };
