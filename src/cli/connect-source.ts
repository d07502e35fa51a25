import type { LoadedConfig } from '../config/loader';
import type { SourceConfig } from '../config/schema';
import { loadSecretKey } from '../crypto/secret-box';
import type { Ledger } from '../ledger/db';
import { saveSubscription } from '../live/subscriptions.repository';
import { createLogger } from '../observability/logger';
import { sourceConnectorFor } from '../runners/registry';
import type { Out } from './output';

export const WEBHOOK_SOURCE_KINDS = ['toggl', 'clockify'] as const;

export interface ConnectSourceOptions {
  config: string;
  source?: string;
  url?: string;
  logLevel?: string;
}

/**
 * The callback URL of a source: `--url` as given when it already ends in
 * /hooks/sources/<id>, else that path appended to it (the service's public base URL).
 */
export function hookUrl(base: string, sourceId: string): string {
  const u = new URL(base);
  const suffix = `/hooks/sources/${encodeURIComponent(sourceId)}`;
  if (!u.pathname.endsWith(suffix)) u.pathname = `${u.pathname.replace(/\/+$/, '')}${suffix}`;
  return u.toString();
}

/**
 * `hourbridge connect toggl|clockify --source <id> --url <public url>`: registers the tracker's
 * webhook subscription(s) for the service's POST /hooks/sources/<id> and stores what signs its
 * deliveries sealed in the ledger (the secret box Xero's tokens use; HOURBRIDGE_SECRET_KEY).
 * Returns the exit code.
 */
export async function connectSource(args: {
  kind: (typeof WEBHOOK_SOURCE_KINDS)[number];
  opts: ConnectSourceOptions;
  out: Out;
  load(target: string): LoadedConfig;
  withLedger<T>(config: LoadedConfig, fn: (ledger: Ledger) => Promise<T>): Promise<T>;
}): Promise<number> {
  const { kind, opts, out } = args;
  const config = args.load(opts.config);
  const candidates = config.sources.filter((s) => s.kind === kind && (!opts.source || s.id === opts.source));
  if (candidates.length !== 1) {
    out.fail({
      code: 'usage',
      message: `expected exactly one ${kind} source${opts.source ? ` with id ${opts.source}` : ''}; found ${candidates.length} (use --source)`,
      where: { option: '--source' },
    });
    return 2;
  }
  if (!opts.url || !/^https?:\/\//.test(opts.url)) {
    out.fail({
      code: 'usage',
      message: `--url must be the public http(s) URL the tracker can reach the service at (e.g. https://hourbridge.example.com), got ${opts.url ? `"${opts.url}"` : 'none'}`,
      where: { option: '--url' },
    });
    return 2;
  }
  const source = candidates[0] as SourceConfig;
  const connector = sourceConnectorFor(kind);
  if (!connector.webhooks) throw new Error(`the ${kind} connector has no webhooks`);
  // Before anything is registered: without the key the secret could not be stored.
  const key = loadSecretKey();
  const url = hookUrl(opts.url, source.id);
  const log = createLogger({ level: opts.logLevel });
  const subscription = await connector.webhooks.register(source, url, { log, now: new Date(), configDir: config.configDir });
  await args.withLedger(config, (ledger) => saveSubscription(ledger, key, { sourceId: source.id, kind, subscription }));
  out.document({ source: source.id, kind, url, subscriptions: subscription.ids });
  out.print(
    `Connected source ${source.id} (${kind}): ${subscription.ids.length} webhook subscription(s) deliver to ${url}; their secret is stored encrypted in the ledger.`,
  );
  if (kind === 'toggl')
    out.print('Toggl validates the subscription with a PING to that URL: `hourbridge serve` must be reachable there to answer it.');
  return 0;
}
