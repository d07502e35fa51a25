import { verifyXeroSignature } from '../../connectors/xero/webhook';

/** Xero's webhook signature check: base64(HMAC-SHA256(raw body, webhook key)), constant-time. */
export async function verifyXeroWebhook(rawBody: Buffer, signature: string, key: string): Promise<boolean> {
  return verifyXeroSignature(rawBody, signature, key);
}

export interface XeroWebhookEvent {
  resourceId: string;
  eventId: string;
}

/** Invoice and credit-note events of a verified Xero webhook body (other categories are ignored). */
export function parseXeroWebhook(rawBody: Buffer): XeroWebhookEvent[] {
  let body: { events?: Array<{ resourceId?: string; eventCategory?: string; eventDateUtc?: string; eventType?: string }> };
  try {
    body = JSON.parse(rawBody.toString('utf8')) as typeof body;
  } catch {
    return [];
  }
  return (body.events ?? [])
    .filter((e) => (e.eventCategory === 'INVOICE' || e.eventCategory === 'CREDITNOTE') && typeof e.resourceId === 'string')
    .map((e) => ({ resourceId: e.resourceId!, eventId: `${e.resourceId}.${e.eventDateUtc ?? ''}.${e.eventType ?? ''}` }));
}
