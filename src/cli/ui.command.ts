import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { openLedger } from '../ledger/db';
import { createLogger } from '../observability/logger';
import { LedgerOpenError } from './failure';
import type { CliContext } from './service.commands';

interface UiOptions {
  config: string;
  port: string;
  open: boolean;
  host: string;
  dataDir?: string;
  ledgerUrl?: string;
  logLevel?: string;
}

/** The platform's "open this URL" command; a failure to open is not a failure of the command (the URL is printed). */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no opener on this machine: the printed URL is enough
  }
}

/** `hourbridge ui`: the finance pages over the embedded ledger (or ledger.url), no Redis, no PostgreSQL server needed. */
export function registerUiCommand(program: Command, { out, load }: CliContext): void {
  program
    .command('ui')
    .description('the finance pages on http://127.0.0.1:<port> over the ledger (embedded by default; no Redis needed)')
    .requiredOption('-c, --config <path>', 'config file or directory of .yaml files')
    .option('-p, --port <port>', 'HTTP port (0: any free port)', '4680')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--no-open', 'do not open a browser; only print the URL')
    .option('--data-dir <dir>', 'embedded ledger directory (default: ledger.dataDir from the config)')
    .option('--ledger-url <url>', 'PostgreSQL URL of the ledger (default: ledger.url, then DATABASE_URL)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug', process.env.HOURBRIDGE_LOG_LEVEL ?? 'warn')
    .action(async (opts: UiOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`--port: expected a port number 0–65535, got "${opts.port}"`);
      const config = load(opts.config);
      const log = createLogger({ level: opts.logLevel, bindings: { role: 'ui' } });
      const url = opts.ledgerUrl || config.raw.ledger.url || process.env.DATABASE_URL || undefined;
      const ledger = await openLedger(url ? { url } : { dataDir: path.resolve(opts.dataDir ?? config.raw.ledger.dataDir) }).catch(
        (err: unknown) => {
          throw new LedgerOpenError(`the ledger could not be opened: ${(err as Error).message}`, { cause: err });
        },
      );
      const { startUiServer } = await import('../ui/server');
      const server = await startUiServer({ config, ledger, log, port, host: opts.host });
      const login = server.loginUrl();
      out.print(`Hourbridge is serving the finance pages on ${server.url}`);
      out.print(`Open this link to log in (it works once): ${login}`);
      out.print('Stop with Ctrl+C.');
      if (opts.open) openBrowser(login);
      await new Promise<void>((resolve) => {
        const stop = () => {
          server
            .close()
            .then(() => ledger.close())
            .finally(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
