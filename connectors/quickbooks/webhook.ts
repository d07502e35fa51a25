import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * QuickBooks webhooks: Intuit signs every notification with HMAC-SHA256 of the raw body under
 * the app's verifier token, base64 in the `intuit-signature` header; the body lists changed
 * entities per realm. The signature is checked on the raw bytes, before any parsing.
 * https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks/managing-webhooks-notifications#validating-the-notification
 */

export const SIGNATURE_HEADER = 'intuit-signature';

export function verifyIntuitSignature(rawBody: Buffer | string, signature: string | undefined, verifierToken: string): boolean {
  if (!signature) return false;
  const expected = createHmac('sha256', verifierToken).update(rawBody).digest();
  let given: Buffer;
  try {
    given = Buffer.from(signature.trim(), 'base64');
  } catch {
    return false;
  }
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const Notification = z.object({
  eventNotifications: z.array(
    z.object({
      realmId: z.string(),
      dataChangeEvent: z.object({
        entities: z.array(
          z.object({
            name: z.string(),
            id: z.string(),
            operation: z.string(),
            lastUpdated: z.string().optional(),
          }),
        ),
      }),
    }),
  ),
});

export interface EntityChange {
  realmId: string;
  /** Estimate, CreditMemo, Invoice, … */
  name: string;
  id: string;
  /** Create, Update, Delete, Merge, Void, Emailed. */
  operation: string;
}

/** The changed entities of a verified notification; a body that is not one is an error naming the field. */
export function parseIntuitNotification(rawBody: Buffer | string): EntityChange[] {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString());
  } catch {
    throw new Error('QuickBooks webhook body is not JSON');
  }
  const parsed = Notification.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`QuickBooks webhook body is not a notification: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data.eventNotifications.flatMap((n) =>
    n.dataChangeEvent.entities.map((e) => ({ realmId: n.realmId, name: e.name, id: e.id, operation: e.operation })),
  );
}
