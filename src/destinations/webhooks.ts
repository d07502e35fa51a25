import type { DestinationConnector, InboundWebhook, WebhookEvent } from '../connectors/contract';
import type { DestinationConfig } from '../config/schema';

/**
 * The one inbound webhook route, framework-free: `POST /webhooks/:destinationId` finds the
 * destination, lets its connector verify the signature and parse the events, and returns the
 * events to queue (each a status refresh: the body is never trusted for a status). The HTTP
 * service maps the answer onto its responses.
 */
export type WebhookAnswer = { status: 200; events: WebhookEvent[] } | { status: 401 | 404 | 503; message: string; events: [] };

export function receiveWebhook(args: {
  destinationId: string;
  destinations: readonly DestinationConfig[];
  connectors: ReadonlyMap<string, DestinationConnector<DestinationConfig>>;
  request: InboundWebhook;
  serverKeys: Readonly<Record<string, string | undefined>>;
  /**
   * Set by a kind-named alias (`/webhooks/xero/:destinationId`, kept for existing Xero users):
   * the kind to verify with, also when the id is not (or no longer) a configured destination.
   */
  kind?: string;
}): WebhookAnswer {
  const configured = args.destinations.find((d) => d.id === args.destinationId);
  if (args.kind && configured && configured.kind !== args.kind) {
    return { status: 404, message: `destination "${args.destinationId}" is not a ${args.kind} destination`, events: [] };
  }
  const config: DestinationConfig | undefined = configured ?? (args.kind ? { id: args.destinationId, kind: args.kind } : undefined);
  if (!config) return { status: 404, message: `no destination "${args.destinationId}" is configured`, events: [] };
  const connector = args.connectors.get(config.kind);
  const webhook = connector?.webhook;
  if (!webhook) return { status: 404, message: `destination "${args.destinationId}" (${config.kind}) takes no webhooks`, events: [] };
  const verdict = webhook.verify(args.request, config, args.serverKeys);
  if (verdict === 'no-key') {
    return {
      status: 503,
      message: `no webhook signing key is configured for destination "${args.destinationId}" (${webhook.keyHint})`,
      events: [],
    };
  }
  if (verdict !== 'ok') return { status: 401, message: 'invalid webhook signature', events: [] };
  return { status: 200, events: webhook.parse(args.request, config) };
}

/** A header of an inbound request by case-insensitive name (first value). */
export function headerOf(headers: InboundWebhook['headers'], name: string): string {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
  return '';
}
