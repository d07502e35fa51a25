import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Xero's webhook signature: base64(HMAC-SHA256(raw body, webhook key)) in x-xero-signature.
 * The Xero connector's own `verifyXeroSignature` is used when it exports one; this fallback is
 * the same three lines of node:crypto, compared in constant time.
 */
export async function verifyXeroWebhook(rawBody: Buffer, signature: string, key: string): Promise<boolean> {
  const xero = (await import('../../connectors/xero/index')) as Record<string, unknown>;
  const fromConnector = xero.verifyXeroSignature as ((body: Buffer | string, sig: string, key: string) => boolean) | undefined;
  if (typeof fromConnector === 'function') return fromConnector(rawBody, signature, key);
  const expected = createHmac('sha256', key).update(rawBody).digest();
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface XeroWebhookEvent {
  resourceId: string;
  eventId: string;
}

/** Invoice events of a verified Xero webhook body (other categories are ignored). */
export function parseXeroWebhook(rawBody: Buffer): XeroWebhookEvent[] {
  let body: { events?: Array<{ resourceId?: string; eventCategory?: string; eventDateUtc?: string; eventType?: string }> };
  try {
    body = JSON.parse(rawBody.toString('utf8')) as typeof body;
  } catch {
    return [];
  }
  return (body.events ?? [])
    .filter((e) => e.eventCategory === 'INVOICE' && typeof e.resourceId === 'string')
    .map((e) => ({ resourceId: e.resourceId!, eventId: `${e.resourceId}.${e.eventDateUtc ?? ''}.${e.eventType ?? ''}` }));
}
