import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import type { SourceHookEvent, SourceWebhooks, StoredSubscription, WebhookRequest } from '../../src/connectors/contract';
import { asConnectorError } from '../../src/http/client';
import { headerValue, hmacSha256HexMatches } from '../../src/live/signatures';
import { togglHttp } from './client';
import type { TogglConfig } from './config.schema';

/**
 * Toggl Track webhooks (Webhooks API v1, https://engineering.toggl.com/docs/webhooks_start):
 * one subscription per workspace and callback URL, filtered to time entries; every delivery is
 * signed with `X-Webhook-Signature-256: sha256=<HMAC-SHA256(secret, full raw body)>`
 * (https://engineering.toggl.com/docs/webhooks_start/validating_received_events). A new
 * subscription is validated by a PING that carries `validation_code`, answered synchronously
 * with `{"validation_code": …}` (https://engineering.toggl.com/docs/webhooks_start/url_endpoint_validation).
 */

interface TogglSubscription {
  subscription_id: number;
  description?: string;
  secret?: string;
  url_callback?: string;
}

/** The documented event shape (https://engineering.toggl.com/docs/webhooks/events): only the fields read here. */
interface TogglEvent {
  event_id?: number;
  created_at?: string;
  timestamp?: string;
  metadata?: { action?: string; model?: string; time_entry_id?: string | number };
  payload?: unknown;
  validation_code?: string;
}

function description(config: TogglConfig): string {
  return `hourbridge source ${config.id}`;
}

export const togglWebhooks: SourceWebhooks<TogglConfig> = {
  async register(config, url, ctx): Promise<StoredSubscription> {
    const http = togglHttp(config, ctx);
    const ws = encodeURIComponent(String(config.workspaceId));
    try {
      // A subscription's description is unique in its workspace: an earlier `connect` of this
      // source is replaced, not duplicated.
      // https://engineering.toggl.com/docs/webhooks/subscriptions#get-list-subscriptions
      const existing = await http.request<TogglSubscription[] | null>({ url: `webhooks/api/v1/subscriptions/${ws}` });
      for (const s of Array.isArray(existing.data) ? existing.data : []) {
        if (s.description !== description(config)) continue;
        // https://engineering.toggl.com/docs/webhooks/subscriptions#delete-delete-subscription
        await http.request({ method: 'DELETE', url: `webhooks/api/v1/subscriptions/${ws}/${s.subscription_id}` });
      }
      const secret = randomBytes(24).toString('base64url');
      // https://engineering.toggl.com/docs/webhooks/subscriptions#post-create-subscription
      const created = await http.request<TogglSubscription>({
        method: 'POST',
        url: `webhooks/api/v1/subscriptions/${ws}`,
        data: {
          url_callback: url,
          event_filters: [{ entity: 'time_entry', action: '*' }],
          enabled: true,
          description: description(config),
          secret,
        },
      });
      return { ids: [String(created.data.subscription_id)], secrets: [created.data.secret || secret], url };
    } catch (err) {
      throw asConnectorError(`toggl (${config.id})`, err, [config.apiToken]);
    }
  },

  verify(req: WebhookRequest, subscription: StoredSubscription): boolean {
    const header = headerValue(req.headers, 'x-webhook-signature-256');
    let ok = false;
    for (const secret of subscription.secrets) if (hmacSha256HexMatches(req.rawBody, header, secret)) ok = true;
    return ok;
  },

  parse(req: WebhookRequest, config: TogglConfig): SourceHookEvent[] {
    let body: TogglEvent;
    try {
      body = JSON.parse(req.rawBody.toString('utf8')) as TogglEvent;
    } catch {
      return [{ kind: 'ignored', reason: 'body is not JSON', eventKey: 'toggl.unparseable' }];
    }
    if (body.payload === 'ping')
      return [{ kind: 'ping', ...(body.validation_code ? { reply: { validation_code: body.validation_code } } : {}) }];
    const sentText = body.timestamp ?? body.created_at;
    const sent = sentText ? new Date(sentText) : undefined;
    const sentAt = sent && !Number.isNaN(sent.getTime()) ? sent : undefined;
    const eventKey = `toggl.${body.event_id ?? 'none'}`;
    if (body.metadata?.model !== 'time_entry') {
      return [
        {
          kind: 'ignored',
          reason: `not a time entry event (${body.metadata?.model ?? 'no model'})`,
          eventKey,
          ...(sentAt ? { sentAt } : {}),
        },
      ];
    }
    const payload = (typeof body.payload === 'object' && body.payload !== null ? body.payload : {}) as { id?: number; start?: string };
    const id = payload.id ?? body.metadata.time_entry_id;
    if (id === undefined || id === null || id === '') return [{ kind: 'ignored', reason: 'event names no time entry', eventKey }];
    const start = payload.start ? DateTime.fromISO(payload.start, { setZone: true }) : undefined;
    const date = start?.isValid ? start.setZone(config.timeZone).toISODate() : null;
    return [
      {
        kind: 'change',
        externalId: String(id),
        deleted: body.metadata.action === 'deleted',
        ...(date ? { date } : {}),
        eventKey,
        ...(sentAt ? { sentAt } : {}),
      },
    ];
  },
};
