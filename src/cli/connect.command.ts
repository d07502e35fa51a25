import type { Command } from 'commander';
import type { LoadedConfig } from '../config/loader';
import type { Ledger } from '../ledger/db';
import { ledgerConnectionStore } from '../destinations/token-store';
import { createLogger } from '../observability/logger';
import { destinationConnectorMap } from '../runners/registry';
import { EXIT } from './failure';
import type { CliContext } from './service.commands';

interface ConnectCliOptions {
  config: string;
  logLevel?: string;
  destination?: string;
  port: string;
  source?: string;
  url?: string;
}

/** Sources whose webhooks `connect` subscribes to (see connect-source.ts). */
const WEBHOOK_SOURCES = ['toggl', 'clockify'] as const;

export interface ConnectCliContext extends CliContext {
  /** main.ts's common options (config, ledger, log level). */
  common(cmd: Command): Command;
  withLedger<T>(config: LoadedConfig, opts: ConnectCliOptions, fn: (ledger: Ledger) => Promise<T>): Promise<T>;
}

/**
 * `hourbridge connect <kind>`: authorise a destination whose connector declares the `connect`
 * capability (OAuth 2.0 authorisation code with PKCE on a local callback); the token set is
 * stored sealed in the ledger. Registered by main.ts in one line.
 */
export function registerConnectCommand(program: Command, { out, load, setExitCode, common, withLedger }: ConnectCliContext): void {
  const connectable = () => [...[...destinationConnectorMap().values()].filter((c) => c.connect).map((c) => c.kind), ...WEBHOOK_SOURCES];
  common(
    program
      .command('connect')
      .description(
        'authorise a destination (OAuth on a local callback) or subscribe to a source’s webhooks (Toggl, Clockify); what it gets is stored encrypted in the ledger',
      )
      .argument('<kind>', connectable().join(' | '))
      .option('--destination <id>', 'destination id (default: the only one of that kind)')
      .option('--port <port>', 'local callback port registered as the redirect URI', '5173')
      .option('--source <id>', 'toggl/clockify: source id (default: the only one of that kind)')
      .option('--url <url>', "toggl/clockify: the service's public URL; webhooks go to <url>/hooks/sources/<id>"),
  ).action(async (kind: string, opts: ConnectCliOptions) => {
    if (kind === 'toggl' || kind === 'clockify') {
      const { connectSource } = await import('./connect-source');
      setExitCode(await connectSource({ kind, opts, out, load, withLedger: (config, fn) => withLedger(config, opts, fn) }));
      return;
    }
    const connector = destinationConnectorMap().get(kind);
    if (!connector?.connect) {
      out.fail({ code: 'usage', message: `connect supports: ${connectable().join(', ')} (got "${kind}")`, where: { option: '<kind>' } });
      setExitCode(EXIT.usage);
      return;
    }
    const config = load(opts.config);
    const candidates = config.destinations.filter((d) => d.kind === kind && (!opts.destination || d.id === opts.destination));
    if (candidates.length !== 1) {
      out.fail({
        code: 'usage',
        message: `expected exactly one ${kind} destination${opts.destination ? ` with id ${opts.destination}` : ''}; found ${candidates.length} (use --destination)`,
        where: { option: '--destination' },
      });
      setExitCode(EXIT.usage);
      return;
    }
    const destination = connector.configSchema.parse(candidates[0]);
    const log = createLogger({ level: opts.logLevel });
    const result = await withLedger(config, opts, (ledger) =>
      connector.connect!(destination, {
        connections: ledgerConnectionStore(ledger),
        port: Number(opts.port),
        log,
        openUrl: (url) => void process.stderr.write(`Open this URL to authorise Hourbridge (${kind}):\n  ${url}\n`),
      }),
    );
    out.document({ destination: destination.id, tenantId: result.tenantId, tenantName: result.tenantName });
    out.print(result.message);
  });
}
