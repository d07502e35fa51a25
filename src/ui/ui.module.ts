import 'reflect-metadata';
import { type BeforeApplicationShutdown, type DynamicModule, Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/loader';
import type { Ledger } from '../ledger/db';
import { UiChecks, type UiRunner } from './actions';
import { LiveFeed } from './live';
import { UiSessions, uiTokensFrom } from './sessions';
import { UiController } from './ui.controller';
import { UI_CONTEXT, type UiContext } from './ui.context';

export function createUiContext(args: { config: LoadedConfig; ledger: Ledger; log: Logger; runner: UiRunner; pollMs?: number }): UiContext {
  return {
    config: args.config,
    ledger: args.ledger,
    log: args.log,
    runner: args.runner,
    checks: new UiChecks(args.config, args.log),
    sessions: new UiSessions(uiTokensFrom(args.config.raw.server)),
    live: new LiveFeed(args.ledger, args.runner, args.log, args.pollMs),
  };
}

/** Open event streams end before the HTTP server closes (which waits for its open connections). */
@Injectable()
class UiLifecycle implements BeforeApplicationShutdown {
  constructor(@Inject(UI_CONTEXT) private readonly ui: UiContext) {}
  beforeApplicationShutdown() {
    this.ui.live.close();
  }
}

/** The finance pages as a Nest module: imported by the service (`serve`) and run alone by `hourbridge ui`. */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: Nest modules are classes; register() is Nest's dynamic-module pattern.
export class UiModule {
  static register(ui: UiContext): DynamicModule {
    return {
      module: UiModule,
      controllers: [UiController],
      providers: [{ provide: UI_CONTEXT, useValue: ui }, UiLifecycle],
    };
  }
}

/**
 * The pages alone, over any ledger (the `ui` command: the embedded one, no Redis). Not
 * listening yet. No Nest shutdown hooks: the command closes the app and then the ledger on
 * SIGINT/SIGTERM and exits 0 (Nest's hook would re-raise the signal after closing the app).
 */
export async function createUiApp(ui: UiContext): Promise<NestExpressApplication> {
  return NestFactory.create<NestExpressApplication>(UiModule.register(ui), { logger: ['error', 'warn'] });
}
