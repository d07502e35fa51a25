import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { SourceHookEvent, SourceWebhooks, StoredSubscription, WebhookRequest } from '../../src/connectors/contract';
import { asConnectorError } from '../../src/http/client';
import { headerValue, tokenMatchesAny } from '../../src/live/signatures';
import { clockifyHttp } from './client';
import type { ClockifyConfig } from './config.schema';

/**
 * Clockify webhooks (https://docs.clockify.me/#tag/Webhooks): one webhook per event type and
 * workspace; Clockify returns an `authToken` for each and sends it with every delivery in the
 * `Clockify-Signature` header, the event type in `Clockify-Webhook-Event-Type`
 * (https://dev-docs.marketplace.cake.com/documentation/build/manifest/webhooks.html). The token
 * is not a signature of the body and deliveries carry no timestamp: a replay is recognised by
 * its body alone (see the live README section).
 */
export const CLOCKIFY_HOOK_EVENTS = ['NEW_TIME_ENTRY', 'TIMER_STOPPED', 'TIME_ENTRY_UPDATED', 'TIME_ENTRY_DELETED'] as const;

interface ClockifyWebhook {
  id: string;
  name?: string;
  authToken?: string;
  url?: string;
  webhookEvent?: string;
}

function hookName(config: ClockifyConfig, event: string): string {
  return `hourbridge ${config.id} ${event}`;
}

export const clockifyWebhooks: SourceWebhooks<ClockifyConfig> = {
  async register(config, url, ctx): Promise<StoredSubscription> {
    const http = clockifyHttp(config, ctx, 'api');
    const ws = encodeURIComponent(config.workspaceId);
    try {
      // An earlier `connect` of this source is replaced, not duplicated.
      // https://docs.clockify.me/#tag/Webhooks/operation/getWebhooks
      const existing = await http.request<{ webhooks?: ClockifyWebhook[] }>({ url: `workspaces/${ws}/webhooks` });
      const ours = new Set(CLOCKIFY_HOOK_EVENTS.map((e) => hookName(config, e)));
      for (const h of existing.data?.webhooks ?? []) {
        // https://docs.clockify.me/#tag/Webhooks/operation/deleteWebhook
        if (h.name && ours.has(h.name))
          await http.request({ method: 'DELETE', url: `workspaces/${ws}/webhooks/${encodeURIComponent(h.id)}` });
      }
      const ids: string[] = [];
      const secrets: string[] = [];
      for (const event of CLOCKIFY_HOOK_EVENTS) {
        // https://docs.clockify.me/#tag/Webhooks/operation/create (CreateWebhookRequestV1)
        const created = await http.request<ClockifyWebhook>({
          method: 'POST',
          url: `workspaces/${ws}/webhooks`,
          data: {
            name: hookName(config, event),
            url,
            webhookEvent: event,
            triggerSource: [config.workspaceId],
            triggerSourceType: 'WORKSPACE_ID',
          },
        });
        if (!created.data?.authToken) throw new Error(`Clockify created webhook ${event} without an authToken`);
        ids.push(created.data.id);
        secrets.push(created.data.authToken);
      }
      return { ids, secrets, url };
    } catch (err) {
      throw asConnectorError(`clockify (${config.id})`, err, [config.apiKey]);
    }
  },

  verify(req: WebhookRequest, subscription: StoredSubscription): boolean {
    return tokenMatchesAny(headerValue(req.headers, 'clockify-signature'), subscription.secrets);
  },

  parse(req: WebhookRequest, config: ClockifyConfig): SourceHookEvent[] {
    const type = headerValue(req.headers, 'clockify-webhook-event-type') ?? '';
    const eventKey = `clockify.${createHash('sha256').update(type).update('\u0000').update(req.rawBody).digest('hex')}`;
    if (!(CLOCKIFY_HOOK_EVENTS as readonly string[]).includes(type))
      return [{ kind: 'ignored', reason: `event type "${type}" is not read`, eventKey }];
    let body: { id?: string; workspaceId?: string; timeInterval?: { start?: string } };
    try {
      body = JSON.parse(req.rawBody.toString('utf8')) as typeof body;
    } catch {
      return [{ kind: 'ignored', reason: 'body is not JSON', eventKey }];
    }
    if (!body.id) return [{ kind: 'ignored', reason: 'event names no time entry', eventKey }];
    if (body.workspaceId && body.workspaceId !== config.workspaceId)
      return [{ kind: 'ignored', reason: `time entry of another workspace (${body.workspaceId})`, eventKey }];
    const start = body.timeInterval?.start ? DateTime.fromISO(body.timeInterval.start, { setZone: true }) : undefined;
    const date = start?.isValid ? start.setZone(config.timeZone).toISODate() : null;
    return [{ kind: 'change', externalId: body.id, deleted: type === 'TIME_ENTRY_DELETED', ...(date ? { date } : {}), eventKey }];
  },
};
