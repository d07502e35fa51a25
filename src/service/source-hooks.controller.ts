import { Controller, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StoredSubscription, WebhookRequest } from '../connectors/contract';
import { loadSecretKey, SecretKeyError, type SecretKey } from '../crypto/secret-box';
import { LiveUpdates } from '../live/live.runtime';
import { readSubscription } from '../live/subscriptions.repository';
import type { ServiceContext } from '../queue/bootstrap';
import { Public } from './auth';
import type { ServiceMetrics } from './metrics';
import { METRICS, SERVICE_CONTEXT } from './tokens';

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(text);
}

/**
 * Webhooks of time trackers (Toggl Track, Clockify), registered by `hourbridge connect
 * toggl|clockify`. Nothing in a body is trusted until its signature holds against the secret
 * stored (sealed) for that source; then the events only name entries, which a queued pull reads
 * from the tracker's API. 202 when queued, 200 for a handshake, 401 for a delivery that is not
 * signed right or was seen before (a replay); every outcome is counted in
 * hourbridge_source_webhooks_total.
 */
@ApiTags('webhooks')
@Controller('hooks/sources')
export class SourceHooksController {
  private key: SecretKey | undefined;
  private readonly subscriptions = new Map<string, { value: StoredSubscription | undefined; at: number }>();

  constructor(
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
    @Inject(METRICS) private readonly metrics: ServiceMetrics,
  ) {}

  private get live(): LiveUpdates {
    this.ctx.live ??= new LiveUpdates({
      config: this.ctx.config,
      ledger: this.ctx.ledger,
      runner: this.ctx.runner,
      log: this.ctx.log,
      redisUrl: this.ctx.redisUrl,
    }).register();
    return this.ctx.live;
  }

  /** The stored subscription, cached for 10 s; `fresh` reads the ledger again (a `connect` just replaced it). */
  private async subscription(sourceId: string, fresh: boolean): Promise<StoredSubscription | undefined> {
    const cached = this.subscriptions.get(sourceId);
    if (!fresh && cached && Date.now() - cached.at < 10_000) return cached.value;
    this.key ??= loadSecretKey();
    const value = await readSubscription(this.ctx.ledger, this.key, sourceId);
    this.subscriptions.set(sourceId, { value, at: Date.now() });
    return value;
  }

  @Public()
  @Post(':sourceId')
  @ApiOperation({ summary: 'Toggl Track / Clockify webhook receiver (signature-checked; no API token).' })
  @ApiParam({ name: 'sourceId', description: 'Id of the toggl or clockify source in the config' })
  @ApiResponse({ status: 202, description: '{ queued, ignored }: the entries named will be pulled' })
  @ApiResponse({ status: 401, description: 'signature missing or wrong, or a replayed delivery' })
  async receive(@Param('sourceId') sourceId: string, @Req() req: IncomingMessage & { rawBody?: Buffer }, @Res() res: ServerResponse) {
    const count = (outcome: string) => this.metrics.sourceWebhooks.inc({ source: sourceId, outcome });
    const found = this.live.source(sourceId);
    const hooks = found?.connector.webhooks;
    if (!found || !hooks) {
      count('unknown_source');
      return reply(res, 404, { statusCode: 404, message: `no source "${sourceId}" with webhooks (toggl or clockify) is configured` });
    }
    const request: WebhookRequest = { rawBody: req.rawBody ?? Buffer.alloc(0), headers: req.headers };
    let verified = false;
    try {
      let sub = await this.subscription(sourceId, false);
      verified = sub !== undefined && hooks.verify(request, sub);
      if (!verified && sub !== undefined) {
        sub = await this.subscription(sourceId, true);
        verified = sub !== undefined && hooks.verify(request, sub);
      }
    } catch (err) {
      if (!(err instanceof SecretKeyError)) throw err;
      this.ctx.log.error({ source: sourceId, err: err.message }, 'webhook subscriptions cannot be read');
    }
    if (!verified) {
      count('unverified');
      return reply(res, 401, { statusCode: 401, message: 'invalid webhook signature' });
    }
    const events = hooks.parse(request, found.source);
    const ping = events.find((e) => e.kind === 'ping');
    if (ping) {
      count('ping');
      return reply(res, 200, ping.reply ?? {});
    }
    const outcome = await this.live.accept(sourceId, events);
    if (outcome.queued === 0 && outcome.replayed + outcome.stale > 0) {
      count('replayed');
      return reply(res, 401, { statusCode: 401, message: 'replayed webhook delivery (seen before, or sent outside the replay window)' });
    }
    count(outcome.queued > 0 ? 'accepted' : 'ignored');
    return reply(res, 202, { queued: outcome.queued, ignored: outcome.ignored });
  }
}
