import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/loader';
import { configSecrets, scrubMessage } from '../cli/failure';
import { destinationConnectorMap, sourceConnectorFor } from './registry';

/** One connector's check: credentials, reachability, permissions; the message never holds a secret. */
export interface ConnectorCheck {
  id: string;
  kind: string;
  role: string;
  ok: boolean;
  category?: string;
  message: string;
  warnings?: string[];
}

/** Check every connector (or those named in `only`), sources first: `hourbridge check` and the health page call this. */
export async function checkConnectors(config: LoadedConfig, log: Logger, only?: ReadonlySet<string>): Promise<ConnectorCheck[]> {
  const ctx = { log, now: new Date(), configDir: config.configDir };
  const results: ConnectorCheck[] = [];
  const destinations = destinationConnectorMap();
  for (const s of config.sources) {
    if (only && !only.has(s.id)) continue;
    const r = await sourceConnectorFor(s.kind)
      .check(s, ctx)
      .catch((e: Error) => ({ ok: false, category: 'transient' as const, message: e.message }));
    results.push({ id: s.id, kind: s.kind, role: 'source', ...r });
  }
  for (const d of config.destinations) {
    if (only && !only.has(d.id)) continue;
    const connector = destinations.get(d.kind)!;
    const r = await connector.check(d, ctx).catch((e: Error) => ({ ok: false, category: 'transient' as const, message: e.message }));
    results.push({ id: d.id, kind: d.kind, role: 'destination', ...r });
  }
  const secrets = configSecrets(config);
  for (const r of results) {
    r.message = scrubMessage(r.message, secrets);
    if (r.warnings) r.warnings = r.warnings.map((w) => scrubMessage(w, secrets));
  }
  return results;
}
