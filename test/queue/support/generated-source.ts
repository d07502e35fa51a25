import path from 'node:path';
import { z } from 'zod';
import { sourceConnectors } from '../../../connectors/index';
import { fileDestinationSchema } from '../../../connectors/file/config.schema';
import type { RawRecord, SourceConnector } from '../../../src/connectors/contract';
import type { LoadedConfig } from '../../../src/config/loader';
import { ClientSchema } from '../../../src/config/client.schema';
import type { PipelineConfig, RawConfig, ServerConfig } from '../../../src/config/schema';
import type { TimeEntry } from '../../../src/domain/time-entry';
import { compileRates, ratesConfigSchema } from '../../../src/rates/index';

/**
 * A deterministic source for the queue tests and benchmark: `count` time-tracker rows spread
 * over a year, two clients, 400 workers, and every 500th row naming an unknown client
 * (quarantined), every 97th not billable. Same parameters → same rows, in every process.
 */
const GeneratedSourceSchema = z.strictObject({
  id: z.string(),
  kind: z.literal('generated'),
  count: z.number().int().positive(),
  pageSize: z.number().int().positive().default(2000),
});
type GeneratedSourceConfig = z.infer<typeof GeneratedSourceSchema>;

interface Row {
  n: number;
  worker: string;
  client: string;
  project: string;
  date: string;
  minutes: number;
}

const FIRST_DAY = Date.UTC(2025, 3, 1);

function row(n: number): Row {
  // Spread over a year and 400 people: about one entry per person per working day at 200k rows.
  const day = new Date(FIRST_DAY + ((n * 37) % 365) * 86_400_000).toISOString().slice(0, 10);
  return {
    n,
    worker: `Worker ${String(n % 400).padStart(3, '0')}`,
    client: n % 500 === 499 ? 'Unknown Corp' : n % 3 === 0 ? 'Globex GmbH' : 'Acme B.V.',
    project: `Project ${n % 7}`,
    date: day,
    minutes: 15 * (1 + ((n * 7919) % 36)),
  };
}

export const generatedSource: SourceConnector<GeneratedSourceConfig> = {
  kind: 'generated',
  role: 'source',
  mode: 'snapshot',
  configSchema: GeneratedSourceSchema,
  secretFields: [],
  async check() {
    return { ok: true, message: 'generated rows' };
  },
  async *read(config) {
    for (let from = 0; from < config.count; from += config.pageSize) {
      const to = Math.min(config.count, from + config.pageSize);
      const records: RawRecord[] = [];
      for (let n = from; n < to; n++) records.push({ ref: { file: 'generated.csv', row: n + 2, id: `g${n}` }, data: row(n) });
      yield {
        stream: 'time_entries',
        records,
        cursor: { offset: to },
        ...(to === config.count ? { reconcile: { from: null, to: null } } : {}),
      };
    }
  },
  map(record, config) {
    const r = record.data as Row;
    const entry: TimeEntry = {
      sourceId: config.id,
      externalId: `g${r.n}`,
      worker: { name: r.worker },
      client: r.client,
      project: r.project,
      tags: [],
      date: r.date,
      durationSeconds: r.minutes * 60,
      breakSeconds: 0,
      timeZone: 'Europe/Amsterdam',
      billable: r.n % 97 !== 0,
      approved: true,
      billedAtSource: false,
      extras: [],
      provenance: { file: 'generated.csv', row: r.n + 2, fetchedAt: '2026-04-01T00:00:00.000Z' },
    };
    return { kind: 'entry', entry };
  },
};

// Registered once per process, beside the real connectors (the runners look kinds up at call time).
if (!sourceConnectors.some((c) => c.kind === 'generated')) sourceConnectors.push(generatedSource);

export interface TestConfigOptions {
  count: number;
  outDir: string;
  pageSize?: number;
  pipelines?: PipelineConfig[];
  server?: Partial<ServerConfig>;
}

/** A full config around the generated source and the file destination, built without YAML. */
export function generatedConfig(o: TestConfigOptions): LoadedConfig {
  const clients = [
    ClientSchema.parse({
      id: 'acme',
      name: 'Acme B.V.',
      currency: 'EUR',
      timeZone: 'Europe/Amsterdam',
      destination: 'files',
      period: { unit: 'week' },
    }),
    ClientSchema.parse({
      id: 'globex',
      name: 'Globex GmbH',
      currency: 'EUR',
      timeZone: 'Europe/Berlin',
      destination: 'files',
      period: { unit: 'month' },
    }),
  ];
  const ratesRaw = ratesConfigSchema.parse({
    rulesets: {
      standard: {
        base: [
          { id: 'default', hourly: '65.00' },
          { id: 'globex', match: { client: 'globex' }, hourly: '82.50' },
        ],
        rounding: { time: { incrementMinutes: 15, direction: 'nearest' } },
      },
    },
  });
  const { rates, issues } = compileRates(ratesRaw, clients);
  if (issues.length > 0) throw new Error(issues.map((i) => i.message).join('; '));
  const sources = [GeneratedSourceSchema.parse({ id: 'gen', kind: 'generated', count: o.count, pageSize: o.pageSize ?? 2000 })];
  const destinations = [fileDestinationSchema.parse({ id: 'files', kind: 'file', dir: o.outDir, formats: ['json'] })];
  const server: ServerConfig = { port: 8080, apiTokens: [], financeTokens: [], webhooks: {}, queuePrefix: 'hourbridge', ...o.server };
  const raw = {
    version: 1,
    ledger: { dataDir: './data/ledger' },
    sources,
    clients,
    rates: ratesRaw,
    destinations,
    pipelines: o.pipelines ?? [],
    server,
  } as unknown as RawConfig;
  return { raw, sources, destinations, clients, rates, configDir: path.resolve(o.outDir, '..'), files: [] };
}
