import 'reflect-metadata';
import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { getQueueToken } from '@nestjs/bullmq';
import { TerminusModule } from '@nestjs/terminus';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { BullBoardModule } from '@bull-board/nestjs';
import { ExpressAdapter } from '@bull-board/express';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { LoggerModule, Logger as NestPinoLogger } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ServiceContext } from '../queue/bootstrap';
import { QUEUE_NAMES } from '../queue/jobs';
import type { WorkerOptions } from '../queue/queue.runner';
import { syncSchedules } from '../queue/scheduler';
import { QueueUiRunner } from '../ui/actions';
import { createUiContext, UiModule } from '../ui/ui.module';
import { BearerGuard, TokenVerifier, apiTokensFrom, bearerMiddleware } from './auth';
import {
  HealthController,
  InvoicesController,
  MetricsController,
  PipelinesController,
  ReportsController,
  WebhooksController,
} from './controllers';
import { ServiceMetrics } from './metrics';
import { API_TOKENS, METRICS, SERVICE_CONTEXT } from './tokens';

export interface AppOptions {
  /** Run workers in this process too (default true; `serve --no-workers` for an API-only node). */
  workers?: boolean;
  workerOptions?: WorkerOptions;
  /** Register the pipelines' cron schedules in Redis (default true). */
  scheduler?: boolean;
}

const SERVICE_OPTIONS = Symbol('hourbridge.service-options');

/** Starts this process's workers and the schedules with the app; closes them on shutdown (SIGTERM). */
@Injectable()
class QueueLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
    @Inject(METRICS) private readonly metrics: ServiceMetrics,
    @Inject(SERVICE_OPTIONS) private readonly options: AppOptions,
  ) {}

  async onApplicationBootstrap() {
    if (this.options.scheduler !== false) await syncSchedules(this.ctx.runner, this.ctx.log);
    if (this.options.workers !== false) {
      this.ctx.runner.startWorkers({ ...this.options.workerOptions, onJobEnd: this.metrics.observeJob });
      this.ctx.runner
        .settleAbandonedRuns()
        .catch((err: Error) => this.ctx.log.warn({ err: err.message }, 'could not check for abandoned runs'));
    }
  }

  async onApplicationShutdown() {
    await this.ctx.close();
  }
}

/**
 * The HTTP service. The queue runner's queues are provided under @nestjs/bullmq's queue tokens
 * (`@InjectQueue('push')` works, and the dashboard finds them), while the workers are the queue
 * runner's own — the same code `hourbridge worker` runs.
 */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: Nest modules are classes; register() is Nest's dynamic-module pattern (the returned module names AppModule).
export class AppModule {
  static register(ctx: ServiceContext, options: AppOptions = {}): DynamicModule {
    const tokens = new TokenVerifier(apiTokensFrom(ctx.config.raw.server?.apiTokens ?? []));
    const metrics = new ServiceMetrics(ctx);
    // The finance pages at / over the queue runner; an operator's page session also opens the queue dashboard.
    const ui = createUiContext({ config: ctx.config, ledger: ctx.ledger, log: ctx.log, runner: new QueueUiRunner(ctx.runner) });
    const operatorSession = (req: IncomingMessage) => ui.sessions.sessionOf(req)?.session.role === 'operator';
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger: ctx.log,
            genReqId: (req) => (req.headers['x-request-id'] as string | undefined) ?? randomUUID(),
            autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
          },
        }),
        TerminusModule.forRoot({ logger: false }),
        BullBoardModule.forRoot({
          route: '/admin/queues',
          adapter: ExpressAdapter as never,
          middleware: bearerMiddleware(tokens, operatorSession),
        }),
        UiModule.register(ui),
        BullBoardModule.forFeature(
          ...QUEUE_NAMES.map((name) => ({ name, adapter: BullMQAdapter as never, queue: ctx.runner.queues[name] as never })),
        ),
      ],
      controllers: [HealthController, MetricsController, PipelinesController, ReportsController, InvoicesController, WebhooksController],
      providers: [
        { provide: SERVICE_CONTEXT, useValue: ctx },
        { provide: API_TOKENS, useValue: tokens },
        { provide: METRICS, useValue: metrics },
        { provide: SERVICE_OPTIONS, useValue: options },
        ...QUEUE_NAMES.map((name) => ({ provide: getQueueToken(name), useValue: ctx.runner.queues[name] })),
        { provide: APP_GUARD, useClass: BearerGuard },
        QueueLifecycle,
      ],
    };
  }
}

/** Build the Nest application (not listening yet): raw bodies kept for webhook signatures, OpenAPI at /docs. */
export async function createApp(ctx: ServiceContext, options: AppOptions = {}): Promise<NestExpressApplication> {
  const tokens = new TokenVerifier(apiTokensFrom(ctx.config.raw.server?.apiTokens ?? []));
  if (!tokens.configured)
    ctx.log.warn('no API tokens configured (server.apiTokens / HOURBRIDGE_API_TOKENS): every protected route answers 401');
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(ctx, options), { rawBody: true, bufferLogs: true });
  app.useLogger(app.get(NestPinoLogger));
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Hourbridge')
      .setDescription(
        'Pipelines, reports, invoices and webhooks of a Hourbridge installation. Every route except /health and /webhooks needs `Authorization: Bearer <token>`.',
      )
      .addBearerAuth()
      .build(),
  );
  app.use('/docs', bearerMiddleware(tokens));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
  return app;
}
