import type { ClientConfig } from '../config/client.schema';
import type { ConfigIssue } from '../config/issues';
import { ratesConfigSchema } from './config.schema';
import { compileRates } from './rate.engine';

/**
 * Validates a raw `rates:` section (as parsed from YAML) and compiles it: schema problems and
 * static rule problems together, every path starting with 'rates'. `hourbridge validate` and
 * tests use it; the config loader may equally run the schema itself and call compileRates.
 */
export function checkRatesConfig(raw: unknown, clients: ClientConfig[]): ConfigIssue[] {
  const parsed = ratesConfigSchema.safeParse(raw);
  if (!parsed.success) {
    return parsed.error.issues.map((i) => ({
      path: ['rates', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
      message: i.message,
    }));
  }
  return compileRates(parsed.data, clients).issues;
}
