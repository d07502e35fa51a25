import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/loader';
import type { Ledger } from '../ledger/db';
import { InlineUiRunner } from './actions';
import type { UiContext } from './ui.context';
import { createUiApp, createUiContext } from './ui.module';

export interface UiServer {
  /** http://host:port */
  url: string;
  /** The URL with a one-time login token (operator): it opens a session once, then no longer works. */
  loginUrl(): string;
  ui: UiContext;
  runner: InlineUiRunner;
  close(): Promise<void>;
}

/**
 * The pages over one ledger with the inline runner (`hourbridge ui`): what `serve` shows, with
 * "start a run" running `sync` in this process. Listens on 127.0.0.1 only by default.
 */
export async function startUiServer(args: {
  config: LoadedConfig;
  ledger: Ledger;
  log: Logger;
  port?: number;
  host?: string;
  pollMs?: number;
}): Promise<UiServer> {
  const runner = new InlineUiRunner(args.config, args.ledger, args.log);
  const ui = createUiContext({ config: args.config, ledger: args.ledger, log: args.log, runner, pollMs: args.pollMs });
  const app = await createUiApp(ui);
  const host = args.host ?? '127.0.0.1';
  await app.listen(args.port ?? 0, host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : args.port;
  const url = `http://${host}:${port}`;
  return {
    url,
    loginUrl: () => `${url}/ui/login?once=${ui.sessions.issueOnce('operator')}`,
    ui,
    runner,
    async close() {
      await runner.idle();
      await app.close();
    },
  };
}
