import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  UnauthorizedException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sql } from 'drizzle-orm';
import type { ServiceContext } from '../queue/bootstrap';
import { UnknownPipelineError } from '../queue/queue.runner';
import { invoiceDetail } from '../reports/invoice';
import { overviewReport, parseOverviewOptions } from '../reports/overview';
import { excludedReport, invoicesReport, quarantineReport, unbilledReport } from '../reports/reports';
import { Public } from './auth';
import type { ServiceMetrics } from './metrics';
import { METRICS, SERVICE_CONTEXT } from './tokens';
import { parseXeroWebhook, verifyXeroWebhook } from './webhooks';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {}

  @Public()
  @Get()
  @ApiOperation({ summary: 'Liveness: the process is up and serving requests.' })
  live() {
    return { status: 'ok' };
  }

  @Public()
  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: Redis (queues) and PostgreSQL (ledger) answer.' })
  ready() {
    return this.health.check([
      async () => {
        const i = this.indicators.check('redis');
        try {
          await withTimeout(this.ctx.runner.ping(), 2000);
          return i.up();
        } catch (err) {
          return i.down({ message: (err as Error).message });
        }
      },
      async () => {
        const i = this.indicators.check('ledger');
        try {
          await withTimeout(this.ctx.ledger.rows(sql`SELECT 1`), 2000);
          return i.up();
        } catch (err) {
          return i.down({ message: (err as Error).message });
        }
      },
    ]);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
}

@ApiTags('metrics')
@ApiBearerAuth()
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS) private readonly metrics: ServiceMetrics) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics: entries, quarantine, invoices by status, unbilled amount per client, queue depths, job durations.',
  })
  async scrape(@Res() res: ServerResponse) {
    const body = await this.metrics.registry.metrics();
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    res.end(body);
  }
}

@ApiTags('pipelines')
@ApiBearerAuth()
@Controller('pipelines')
export class PipelinesController {
  constructor(@Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext) {}

  @Get()
  @ApiOperation({ summary: 'Configured pipelines and their schedules.' })
  list() {
    return { pipelines: this.ctx.runner.pipelines() };
  }

  @Post(':id/run')
  @HttpCode(202)
  @ApiOperation({ summary: 'Start a run of a pipeline now (or return the run already in flight).' })
  @ApiParam({ name: 'id', description: 'Pipeline id' })
  @ApiResponse({ status: 202, description: '{ runId, pipelineId, created }' })
  async run(@Param('id') id: string) {
    try {
      return await this.ctx.runner.triggerRun(id);
    } catch (err) {
      if (err instanceof UnknownPipelineError) throw new NotFoundException(err.message);
      throw err;
    }
  }

  @Get('runs/:runId')
  @ApiOperation({ summary: 'State of a run: running, completed (with its summary) or failed (with the reason).' })
  async runState(@Param('runId') runId: string) {
    const state = await this.ctx.runner.runState(runId);
    if (state.state === 'unknown') throw new NotFoundException(`no run ${runId}`);
    return state;
  }

  @Get('failed-jobs')
  @ApiOperation({ summary: 'Failed jobs with their reasons, newest first.' })
  async failed() {
    return { jobs: await this.ctx.runner.failedJobs() };
  }
}

/** The same documents `hourbridge report <kind> --json` prints. */
@ApiTags('reports')
@ApiBearerAuth()
@Controller('reports')
export class ReportsController {
  constructor(@Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext) {}

  @Get('unbilled')
  @ApiOperation({ summary: 'Outstanding hours and net amounts (excl. tax) per client and period, equal to the invoices to the cent.' })
  @ApiQuery({ name: 'client', required: false })
  async unbilled(@Query('client') client?: string) {
    return { ok: true, report: 'unbilled', clients: await unbilledReport(this.ctx.ledger, this.ctx.config, client || undefined) };
  }

  @Get('overview')
  @ApiOperation({
    summary:
      'Per client and currency: not drafted, on open drafts, billed in the current and previous period; ageing; billed vs outstanding over time.',
  })
  @ApiQuery({ name: 'bucket', required: false, enum: ['week', 'month'] })
  @ApiQuery({ name: 'from', required: false, description: 'chart range start (YYYY-MM-DD)' })
  @ApiQuery({ name: 'to', required: false, description: 'chart range end (YYYY-MM-DD)' })
  async overview(@Query('bucket') bucket?: string, @Query('from') from?: string, @Query('to') to?: string) {
    let options: ReturnType<typeof parseOverviewOptions>;
    try {
      options = parseOverviewOptions({ bucket, from, to });
    } catch (err) {
      throw new BadRequestException((err as Error).message);
    }
    return overviewReport(this.ctx.ledger, this.ctx.config, options);
  }

  @Get('billed')
  @ApiOperation({ summary: 'Invoices and their state, with worked and billed hours and the net amount (excl. tax).' })
  @ApiQuery({ name: 'client', required: false })
  async billed(@Query('client') client?: string) {
    return { ok: true, report: 'billed', invoices: await invoicesReport(this.ctx.ledger, { clientId: client || undefined }) };
  }

  @Get('excluded')
  @ApiOperation({ summary: 'Entries kept but not invoiced (non-billable, not approved, billed at source), with the reason.' })
  @ApiQuery({ name: 'client', required: false })
  @ApiQuery({ name: 'source', required: false })
  async excluded(@Query('client') client?: string, @Query('source') source?: string) {
    return {
      ok: true,
      report: 'excluded',
      entries: await excludedReport(this.ctx.ledger, { clientId: client || undefined, sourceId: source || undefined }),
    };
  }

  @Get('quarantine')
  @ApiOperation({ summary: 'Every rejected input row (where and why) and every entry that cannot be priced.' })
  @ApiQuery({ name: 'source', required: false })
  async quarantine(@Query('source') source?: string) {
    return { ok: true, report: 'quarantine', rows: await quarantineReport(this.ctx.ledger, source ? { sourceId: source } : {}) };
  }
}

@ApiTags('invoices')
@ApiBearerAuth()
@Controller('invoices')
export class InvoicesController {
  constructor(@Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext) {}

  @Get(':key')
  @ApiOperation({
    summary: 'One invoice: its draft, lines and the entries it bills, tax and gross where the destination computed them, its history.',
  })
  @ApiParam({ name: 'key', description: 'Invoice key' })
  async get(@Param('key') key: string) {
    const invoice = await invoiceDetail(this.ctx.ledger, key);
    if (!invoice) throw new NotFoundException(`no invoice ${key}`);
    const { draft: _draft, ...document } = invoice;
    return document;
  }
}

@ApiTags('webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(@Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext) {}

  /**
   * Xero webhooks (https://developer.xero.com/documentation/guides/webhooks/overview/): the
   * signature is an HMAC-SHA256 of the raw body; a wrong one must get 401 (Xero's "intent to
   * receive" check sends both kinds). Events only name invoices, so they are queued for a status
   * refresh; nothing is trusted from the body until the signature holds.
   */
  @Public()
  @Post('xero/:destinationId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Xero webhook receiver (signature-checked; no API token).' })
  async xero(@Param('destinationId') destinationId: string, @Req() req: IncomingMessage & { rawBody?: Buffer }, @Body() _body: unknown) {
    const key = this.ctx.config.raw.server?.webhooks?.xero;
    if (!key) throw new ServiceUnavailableException('no Xero webhook key is configured (server.webhooks.xero)');
    const signature = req.headers['x-xero-signature'];
    if (!req.rawBody || typeof signature !== 'string' || !(await verifyXeroWebhook(req.rawBody, signature, key))) {
      throw new UnauthorizedException('invalid webhook signature');
    }
    const events = parseXeroWebhook(req.rawBody);
    for (const e of events) await this.ctx.runner.enqueueStatusRefresh(destinationId, e.resourceId, e.eventId);
    return '';
  }
}
