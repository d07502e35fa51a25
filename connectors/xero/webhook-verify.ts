import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DestinationWebhook, WebhookEvent } from '../../src/connectors/contract';
import { headerOf } from '../../src/destinations/webhooks';
import type { XeroConfig } from './config.schema';

/**
 * Xero webhooks (developer.xero.com/documentation/guides/webhooks/overview): `x-xero-signature`
 * is base64(HMAC-SHA256(raw body, webhook key)); a wrong one must get 401 (Xero's "intent to
 * receive" check sends both kinds). INVOICE and CREDITNOTE events only name the document, so
 * each becomes a status refresh. Kept apart from webhook.ts so the HTTP route never loads the SDK.
 */
export function verifyXeroSignature(rawBody: Buffer, signatureHeader: string, webhookKey: string): boolean {
  if (!signatureHeader || !webhookKey) return false;
  const expected = Buffer.from(createHmac('sha256', webhookKey).update(rawBody).digest('base64'), 'utf8');
  const given = Buffer.from(signatureHeader.trim(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Invoice and credit-note events of a verified Xero webhook body (other categories are ignored). */
export function parseXeroWebhook(rawBody: Buffer): WebhookEvent[] {
  let body: { events?: Array<{ resourceId?: string; eventCategory?: string; eventDateUtc?: string; eventType?: string }> };
  try {
    body = JSON.parse(rawBody.toString('utf8')) as typeof body;
  } catch {
    return [];
  }
  return (body.events ?? [])
    .filter((e) => (e.eventCategory === 'INVOICE' || e.eventCategory === 'CREDITNOTE') && typeof e.resourceId === 'string')
    .map((e) => ({ remoteId: e.resourceId!, eventId: `${e.resourceId}.${e.eventDateUtc ?? ''}.${e.eventType ?? ''}` }));
}

/** The Xero destination's webhook capability: the key is `server.webhooks.xero`, one per Xero app. */
export const xeroWebhook: DestinationWebhook<XeroConfig> = {
  keyHint: 'server.webhooks.xero',
  verify(request, _config, serverKeys) {
    const key = serverKeys.xero;
    if (!key) return 'no-key';
    return verifyXeroSignature(request.rawBody, headerOf(request.headers, 'x-xero-signature'), key) ? 'ok' : 'invalid';
  },
  parse: (request) => parseXeroWebhook(request.rawBody),
};
