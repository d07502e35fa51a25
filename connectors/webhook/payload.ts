import { createHmac, timingSafeEqual } from 'node:crypto';
import type { InvoiceDraft } from '../../src/domain/invoice';
import { dec } from '../../src/domain/money';

/**
 * The documented wire format of the webhook destination (README.md, "Payload"), version 1.
 * Everything here is pure: the body of a draft, and the signature both directions use.
 */
export const PAYLOAD_VERSION = 1;

export interface WebhookLine {
  key: string;
  description: string;
  kind: 'time' | 'fee' | 'expense' | 'minimum';
  quantity: string;
  unitPrice: string;
  /** quantity × unitPrice, rounded half-up to cents; negative on a credit. */
  net: string;
  taxType?: string;
}

export interface WebhookDocument {
  type: 'invoice' | 'credit-note';
  /** Hourbridge's invoice key: the receiver's idempotency key (one document per key). */
  key: string;
  /** The receiver's id from an earlier answer, when there was one. */
  id?: string;
  client: { id: string; name: string };
  currency: string;
  period: { start: string; end: string; label: string };
  issueDate: string;
  dueDate: string;
  /** Sum of the line nets (net of tax); negative for a credit note. */
  net: string;
  hours: string;
  billedHours: string;
  contentHash: string;
  lines: WebhookLine[];
}

export type WebhookPayload =
  | { version: 1; event: 'invoice.upsert'; document: WebhookDocument }
  | { version: 1; event: 'invoice.deleted'; document: { key: string; id: string } }
  /** Sent by `hourbridge check`: the receiver answers 2xx and writes nothing. */
  | { version: 1; event: 'ping' };

export function documentOf(draft: InvoiceDraft, id?: string): WebhookDocument {
  return {
    type: dec(draft.total).isNegative() ? 'credit-note' : 'invoice',
    key: draft.key,
    ...(id ? { id } : {}),
    client: { id: draft.clientId, name: draft.clientName },
    currency: draft.currency,
    period: draft.period,
    issueDate: draft.issueDate,
    dueDate: draft.dueDate,
    net: draft.total,
    hours: draft.hours,
    billedHours: draft.billedHours ?? draft.hours,
    contentHash: draft.contentHash,
    lines: draft.lines.map((l) => ({
      key: l.lineKey,
      description: l.description,
      kind: l.kind,
      quantity: l.quantity,
      unitPrice: l.unitPrice,
      net: l.amount,
      ...(l.taxType ? { taxType: l.taxType } : {}),
    })),
  };
}

export const SIGNATURE_HEADER = 'hourbridge-signature';
export const TIMESTAMP_HEADER = 'hourbridge-timestamp';
/** A signed request older (or newer) than this is refused: a captured request cannot be replayed later. */
export const TIMESTAMP_TOLERANCE_S = 300;

/** `v1=` + hex(HMAC-SHA256(secret, "<timestamp>.<raw body>")), the timestamp in Unix seconds. */
export function sign(secret: string, timestamp: number, body: string | Buffer): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

/** Constant-time check of a signature header (several `v1=` values may be given, comma-separated, during a key change). */
export function verifySignature(args: {
  secret: string;
  timestamp: string;
  signature: string;
  body: string | Buffer;
  nowS: number;
}): boolean {
  const ts = Number(args.timestamp);
  if (!args.signature || !Number.isInteger(ts) || Math.abs(args.nowS - ts) > TIMESTAMP_TOLERANCE_S) return false;
  const expected = Buffer.from(sign(args.secret, ts, args.body), 'utf8');
  return args.signature.split(',').some((part) => {
    const given = Buffer.from(part.trim(), 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
