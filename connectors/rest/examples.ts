import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/loader';
import type { RestConfigInput } from './config.schema';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The REST source of a shipped example config (config/examples/rest-*.yaml), loaded and validated
 * by the real config loader with the given environment, then pointed at a local fake: tests run
 * the very mapping users copy.
 */
export function exampleSource(file: string, env: Record<string, string>, over: Partial<RestConfigInput>): RestConfigInput {
  const loaded = loadConfig(path.join(ROOT, 'config', 'examples', file), { ...process.env, ...env });
  const source = loaded.sources.find((s) => s.kind === 'rest');
  if (!source) throw new Error(`${file} has no rest source`);
  return { ...(source as unknown as RestConfigInput), ...over };
}
